/**
 * Negation scope for the hashed n-gram model: a token within `window` tokens after a negation
 * cue ("not", "never", "n't", ...), with no scope-ending token (punctuation, "but", a special
 * token) in between, is *negated*: besides its own row it adds the row of "(not) token", hashed
 * into the n-gram buckets. "not very good" then says "(not) very" and "(not) good", which the
 * bigrams alone cannot ("not very", "very good"). Chosen by leave-one-source-out
 * cross-validation (default-model-notes.ts).
 *
 * Position t is negated when t is not a stop and some cue sits at t − d (1 ≤ d ≤ window) with no
 * stop at t − d + 1 .. t. A cue is a cue token, or the second token of a cue pair (the tokenizer
 * splits "doesn't" into "doesn", "'", "t": the pair ("'", "t") negates from the "t" on).
 * The ONNX graph computes the same positions with shifted masks (hashed-ngram-graph.ts).
 */

export interface NegationSpec {
  /** Tokens that negate the next `window` tokens. */
  cueIds: number[];
  /** Token pairs (a, b): b right after a is a cue ("'" + "t"). */
  cuePairs: [number, number][];
  /** Tokens that end a scope and are never negated (punctuation, "but", special tokens). */
  stopIds: number[];
  window: number;
}

/** The English cues and stops, as words of the tokenizer's vocabulary (those it lacks are skipped). */
export const ENGLISH_NEGATION = {
  cues: ['not', 'no', 'never', 'nothing', 'nobody', 'none', 'neither', 'nor', 'without', 'hardly', 'barely', 'cannot'],
  cuePairs: [["'", 't']] as [string, string][],
  stops: ['.', ',', '!', '?', ';', ':', 'but', '-', '('],
};

/** Largest scope the graph unrolls (one set of masks per distance). */
export const MAX_NEGATION_WINDOW = 8;

export function validateNegation(n: NegationSpec, vocabSize: number): string[] {
  const problems: string[] = [];
  const id = (x: number) => Number.isInteger(x) && x >= 0 && x < vocabSize;
  if (!(Number.isInteger(n.window) && n.window >= 1 && n.window <= MAX_NEGATION_WINDOW))
    problems.push(`negation window must be 1..${MAX_NEGATION_WINDOW}, got ${n.window}`);
  if (n.cueIds.length + n.cuePairs.length === 0) problems.push('negation needs at least one cue');
  if (![...n.cueIds, ...n.cuePairs.flat(), ...n.stopIds].every(id))
    problems.push('negation ids must be token ids of the vocabulary');
  if (n.stopIds.some((s) => n.cueIds.includes(s) || n.cuePairs.some(([, b]) => b === s)))
    problems.push('a negation cue cannot also end a scope');
  return problems;
}

/** Negated positions of one sequence of ids (special tokens included, no padding), ascending. */
export function negatedPositions(ids: readonly number[], n: NegationSpec): number[] {
  const cues = new Set(n.cueIds);
  const stops = new Set(n.stopIds);
  const out: number[] = [];
  let left = 0;
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t]!;
    if (stops.has(id)) {
      left = 0;
      continue;
    }
    if (left > 0) {
      out.push(t);
      left--;
    }
    if (cues.has(id) || n.cuePairs.some(([a, b]) => b === id && t > 0 && ids[t - 1] === a)) left = n.window;
  }
  return out;
}

/** The cue and stop ids of `words` in a vocabulary (token → id), and the window. */
export function resolveNegation(
  words: typeof ENGLISH_NEGATION,
  window: number,
  tokenId: (token: string) => number | undefined,
  specialIds: readonly number[],
): NegationSpec {
  const known = (ids: (number | undefined)[]) => ids.filter((x): x is number => x !== undefined);
  return {
    cueIds: known(words.cues.map(tokenId)),
    cuePairs: words.cuePairs
      .map(([a, b]) => [tokenId(a), tokenId(b)])
      .filter((p): p is [number, number] => p[0] !== undefined && p[1] !== undefined),
    stopIds: [...known(words.stops.map(tokenId)), ...specialIds],
    window,
  };
}

/** config.json `hashed_ngram.negation`: the spec in snake case. */
export function negationJson(n: NegationSpec) {
  return { window: n.window, cue_ids: n.cueIds, cue_pairs: n.cuePairs, stop_ids: n.stopIds };
}

/** The spec from config.json `hashed_ngram.negation`; undefined when malformed or absent. */
export function negationFromJson(value: unknown): NegationSpec | undefined {
  const v = value as
    { window?: unknown; cue_ids?: unknown; cue_pairs?: unknown; stop_ids?: unknown } | null | undefined;
  const ints = (x: unknown): x is number[] => Array.isArray(x) && x.every((i) => Number.isInteger(i));
  if (typeof v !== 'object' || v === null || typeof v.window !== 'number' || !ints(v.cue_ids) || !ints(v.stop_ids))
    return undefined;
  if (!Array.isArray(v.cue_pairs) || !v.cue_pairs.every((p) => ints(p) && p.length === 2)) return undefined;
  return { window: v.window, cueIds: v.cue_ids, cuePairs: v.cue_pairs as [number, number][], stopIds: v.stop_ids };
}
