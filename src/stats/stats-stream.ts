/**
 * The per-batch stats stream: one compact entry per scored batch, appended by workers
 * (batch-stats-recorder.ts) and read incrementally by the stats service (stats-window.ts).
 *
 * Key: `${QUEUE_PREFIX}:sf:stats` (same hash tag as the queues under a `{…}` prefix). Fields:
 *   ts  processedAt of the batch, epoch ms (worker clock)
 *   w   worker id: the BullMQ worker name `${host}/${pid}/${model}@${version}`
 *   n   batch size (every item of the batch, failed ones included, like results' batchSize)
 *   ms  tokenization + model time of the batch
 *   d   JSON of per-item arrays over the scored items (same order, same length):
 *       { "labels": [model labels], "lat": [enqueue → result ms], "y": [index into labels],
 *         "c": [max probability], "tok": [tokens], "tr": [0 | 1 truncated],
 *         "r": [star rating | null],    ("r" only when an item of the batch has a rating)
 *         "lang": [language tag | null] } ("lang" only from a worker with MODEL_ROUTES)
 *   m   `name@version` of the model that scored the batch (only from a worker with MODEL_ROUTES,
 *       whose worker id names its default model only)
 *   l   `bulk` for a batch of the bulk lane (absent: the live lane), so the scaling signal tells
 *       live completions from bulk ones
 */
import { ratingPolarity } from '../results/label-polarity.ts';

export function statsStreamKey(prefix: string): string {
  return `${prefix}:sf:stats`;
}

export interface BatchStatsEntry {
  /** Stream id (Redis time), the reader's cursor. */
  id: string;
  /** processedAt, epoch ms. */
  ts: number;
  worker: string;
  size: number;
  inferenceMs: number;
  labels: string[];
  latencyMs: number[];
  labelIndex: number[];
  confidence: number[];
  tokens: number[];
  truncated: number[];
  /** The reviews' star ratings (null: none); null when no review of the batch had one. */
  ratings: (number | null)[] | null;
  /** `name@version` of the model (field `m`); null: the one the worker id names. */
  model: string | null;
  /** The language each review's model was chosen by (null: unknown); null when the entry has none. */
  languages: (string | null)[] | null;
  /** `bulk`: a batch of the bulk lane (field `l`); absent: the live lane. */
  lane?: 'bulk';
  /** Per-entry sums, computed once when read, so window stats cost O(batches), not O(reviews). */
  sums: {
    labelCounts: number[];
    confidence: number;
    truncated: number;
    tokens: number;
    maxTokens: number | null;
    /** Per label index: reviews whose rating expects a negative / positive label (label-polarity.ts); null without ratings. */
    rated: { negative: number[]; positive: number[] } | null;
    /** Per language (null: unknown): reviews, their label counts and summed confidence; null without languages. */
    byLanguage: { tag: string | null; count: number; labelCounts: number[]; confidence: number }[] | null;
  };
}

export type BatchStatsInput = Omit<BatchStatsEntry, 'id' | 'sums' | 'ratings' | 'model' | 'languages'> & {
  ratings?: (number | null)[] | null;
  model?: string | null;
  languages?: (string | null)[] | null;
};

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** Field/value pairs for XADD. */
export function encodeBatchEntry(e: BatchStatsInput): string[] {
  const d = JSON.stringify({
    labels: e.labels,
    lat: e.latencyMs,
    y: e.labelIndex,
    c: e.confidence,
    tok: e.tokens,
    tr: e.truncated,
    ...(e.ratings ? { r: e.ratings } : {}),
    ...(e.languages ? { lang: e.languages } : {}),
  });
  return [
    'ts',
    String(e.ts),
    'w',
    e.worker,
    'n',
    String(e.size),
    'ms',
    String(e.inferenceMs),
    'd',
    d,
    ...(e.model ? ['m', e.model] : []),
    ...(e.lane === 'bulk' ? ['l', 'bulk'] : []),
  ];
}

const isNumArray = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** One XRANGE reply entry → an entry, or undefined when it is malformed (it is skipped). */
export function decodeBatchEntry(id: string, fields: string[]): BatchStatsEntry | undefined {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
  const ts = Number(f.get('ts'));
  const size = Number(f.get('n'));
  if (!Number.isFinite(ts) || !Number.isInteger(size) || size < 0) return undefined;
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(f.get('d') ?? '') as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { labels, lat, y, c, tok, tr, r, lang } = d;
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) return undefined;
  if (!isNumArray(lat) || !isNumArray(y) || !isNumArray(c) || !isNumArray(tok) || !isNumArray(tr)) return undefined;
  const n = lat.length;
  if (y.length !== n || c.length !== n || tok.length !== n || tr.length !== n) return undefined;
  if (y.some((i) => !Number.isInteger(i) || i < 0 || i >= labels.length)) return undefined;
  // Ratings are an addition: an entry without them (an older worker) is whole; malformed ones are ignored.
  const ratings =
    Array.isArray(r) && r.length === n && r.every((x) => x === null || (typeof x === 'number' && Number.isFinite(x)))
      ? (r as (number | null)[])
      : null;
  // Languages too (MODEL_ROUTES): absent from older workers, ignored when malformed.
  const languages =
    Array.isArray(lang) && lang.length === n && lang.every((x) => x === null || typeof x === 'string')
      ? (lang as (string | null)[])
      : null;
  let byLanguage: BatchStatsEntry['sums']['byLanguage'] = null;
  if (languages) {
    const groups = new Map<
      string | null,
      { tag: string | null; count: number; labelCounts: number[]; confidence: number }
    >();
    languages.forEach((tag, k) => {
      let g = groups.get(tag);
      if (!g) groups.set(tag, (g = { tag, count: 0, labelCounts: labels.map(() => 0), confidence: 0 }));
      g.count++;
      g.labelCounts[y[k]!]!++;
      g.confidence += c[k]!;
    });
    byLanguage = [...groups.values()];
  }
  const labelCounts = labels.map(() => 0);
  for (const i of y) labelCounts[i]!++;
  let rated: BatchStatsEntry['sums']['rated'] = null;
  if (ratings) {
    rated = { negative: labels.map(() => 0), positive: labels.map(() => 0) };
    ratings.forEach((rating, k) => {
      const expected = ratingPolarity(rating);
      if (expected) rated![expected][y[k]!]!++;
    });
  }
  return {
    id,
    ts,
    worker: f.get('w') ?? '',
    size,
    inferenceMs: Number(f.get('ms')) || 0,
    labels: labels as string[],
    latencyMs: lat,
    labelIndex: y,
    confidence: c,
    tokens: tok,
    truncated: tr,
    ratings,
    model: f.get('m') || null,
    languages,
    ...(f.get('l') === 'bulk' ? { lane: 'bulk' as const } : {}),
    sums: {
      labelCounts,
      confidence: sum(c),
      truncated: sum(tr),
      tokens: sum(tok),
      maxTokens: tok.length > 0 ? Math.max(...tok) : null,
      rated,
      byLanguage,
    },
  };
}
