/**
 * Exact explanations for hashed n-gram linear models (config.json model_type
 * 'hashed-ngram-linear', built by hashed-ngram-graph.ts). Such a model computes
 *
 *   logits[j] = s · Σ_f W[row_f, j] + b[j],      s = 1 / norm(feature count)
 *
 * so every feature f adds exactly s · W[row_f, ·] to the logits. For the explained label p the
 * reported contribution of f is
 *
 *   c_f = s · (W[row_f, p] − ref_f)
 *   ref_f = mean of W[row_f, j] over the other labels j ≠ p   (single-label, ≥ 2 labels)
 *         = 0                                                  (multi-label or one label)
 *
 * and, with the bias term  c_bias = b[p] − (mean of b over j ≠ p, or 0 likewise),
 *
 *   Σ_f c_f + c_bias = margin = logit[p] − mean_{j≠p} logit[j]   (or logit[p]).
 *
 * For two labels the margin is logit[p] − logit[other] and P(p) = sigmoid(margin / T), T the
 * model's calibration temperature (1 when it has none). explain() reports c_f / T, so a phrase's
 * weight is exactly how far it moves the (calibrated) log-odds of the predicted label;
 * decompose() keeps the raw c_f, which add up to the margin of the ONNX logits. Contributions of the
 * features that display as the same phrase are summed (a repeated word counts once per
 * occurrence). Features are those of hashed-ngram-features.ts (the same function training
 * uses); this module never hashes on its own.
 *
 * A model trained with boundary tokens (the tokenizer's special tokens [CLS]/[SEP] are features)
 * has features that are not words: a special token alone joins the bias term (it is present in
 * every input, a length-dependent bias), and an n-gram that includes one displays as its words
 * ("[CLS] great" shows as "great", summed with the unigram). The sum is unchanged.
 *
 * A model with negation scope (negation-scope.ts) has a feature per negated token: it shows as
 * "(not) token" ("not very good": "(not) very", "(not) good"). Order 0 in features().
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import {
  HASHED_NGRAM_MODEL_TYPE,
  HASH_BASE,
  HASH_MIX,
  HASH_PRIME,
  featureScale,
  ngramFeatureRows,
  tableRows,
  validateSpec,
  type HashedNgramSpec,
  type Normalization,
} from '../model-format/hashed-ngram-features.ts';
import { negatedPositions, negationFromJson, type NegationSpec } from '../model-format/negation-scope.ts';
import { tensorFloats } from '../model-format/onnx-tensor-values.ts';
import type { Explanation, ExplanationPhrase } from '../contracts/result-contract.ts';
import { int64Scalar, specFromGraph } from './hashed-ngram-graph-spec.ts';
import type { ModelSpec } from '../model-format/model-dir.ts';

const { onnx } = onnxProto;

export const DEFAULT_EXPLAIN_TOP_K = 5;

/** Whether a loaded model can explain its scores; `reason` says why not. */
export type ExplanationSupport = { supported: true; method: 'linear-exact' } | { supported: false; reason: string };

/** Every phrase of one input with its unrounded contribution, plus the bias term. */
export interface Decomposition {
  phrases: { text: string; weight: number }[];
  bias: number;
  /** (bias includes the special tokens' own features, see the module comment.) Σ phrases + bias: the margin (see the module comment) the model's logits have. */
  margin: number;
}

type Load = { ok: true; explainer: LinearExplainer; derivedFromGraph: string[] } | { ok: false; reason: string };

/**
 * Reads the weight table and bias from model.onnx and the hyperparameters from config.json
 * (`vocab_size`, `hashed_ngram.{buckets,max_order,normalization,excluded_ids}`); a value missing
 * there is taken from the graph, and one that disagrees with the graph disables explanations.
 */
export function loadLinearExplainer(
  spec: Pick<ModelSpec, 'dir' | 'modelFile' | 'labels' | 'multiLabel' | 'modelType' | 'tokenizerJson'> & {
    temperature?: number | undefined;
  },
  idToToken: (id: number) => string | undefined,
): Load {
  if (spec.modelType !== HASHED_NGRAM_MODEL_TYPE)
    return {
      ok: false,
      reason: `model_type ${JSON.stringify(spec.modelType ?? null)} has no exact explainer (only ${HASHED_NGRAM_MODEL_TYPE})`,
    };
  let graph: OnnxTypes.IGraphProto | null | undefined;
  let config: Record<string, unknown>;
  try {
    graph = onnx.ModelProto.decode(readFileSync(spec.modelFile)).graph;
    config = JSON.parse(readFileSync(path.join(spec.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    return { ok: false, reason: `model files cannot be read for explanations (${(err as Error).message})` };
  }
  if (!graph) return { ok: false, reason: 'model.onnx has no graph' };
  const init = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t] as const));
  const hash = [
    int64Scalar(init.get('hash_base')),
    int64Scalar(init.get('hash_prime')),
    int64Scalar(init.get('hash_mix')),
  ];
  if (hash.join() !== [HASH_BASE, HASH_PRIME, HASH_MIX].join())
    return { ok: false, reason: 'model.onnx does not use the n-gram hash of hashed-ngram-features.ts' };

  const fromGraph = specFromGraph(graph, init);
  const h = (
    typeof config.hashed_ngram === 'object' && config.hashed_ngram !== null ? config.hashed_ngram : {}
  ) as Record<string, unknown>;
  const fromConfig: Partial<HashedNgramSpec> = {
    vocabSize: typeof config.vocab_size === 'number' ? config.vocab_size : undefined,
    buckets: typeof h.buckets === 'number' ? h.buckets : undefined,
    maxOrder: typeof h.max_order === 'number' ? h.max_order : undefined,
    excludedIds:
      Array.isArray(h.excluded_ids) && h.excluded_ids.every((x) => typeof x === 'number')
        ? (h.excluded_ids as number[])
        : undefined,
    normalization:
      h.normalization === 'mean' || h.normalization === 'sqrt' ? (h.normalization as Normalization) : undefined,
    negation: negationFromJson(h.negation),
  };
  const derivedFromGraph: string[] = [];
  const merged: Record<string, unknown> = {};
  for (const key of ['vocabSize', 'buckets', 'maxOrder', 'excludedIds', 'normalization'] as const) {
    const c = fromConfig[key];
    const g = fromGraph[key];
    const same = (a: unknown, b: unknown) =>
      JSON.stringify(Array.isArray(a) ? [...a].sort((x, y) => x - y) : a) ===
      JSON.stringify(Array.isArray(b) ? [...b].sort((x, y) => x - y) : b);
    if (c !== undefined && g !== undefined && !same(c, g))
      return {
        ok: false,
        reason: `config.json says ${key} ${JSON.stringify(c)} but model.onnx has ${JSON.stringify(g)}`,
      };
    if (c === undefined) derivedFromGraph.push(key);
    merged[key] = c ?? g;
  }
  // Negation scope: absent from both is none; present in one only is taken from the graph or refused.
  const canon = (n: NegationSpec | undefined) => JSON.stringify(n ? [n.window, n.cueIds, n.cuePairs, n.stopIds] : null);
  const sameNegation = canon(fromConfig.negation) === canon(fromGraph.negation);
  if (!sameNegation && (fromConfig.negation !== undefined || h.negation !== undefined)) {
    return {
      ok: false,
      reason: `config.json and model.onnx disagree on the negation scope (${JSON.stringify(h.negation ?? null)} vs ${JSON.stringify(fromGraph.negation ?? null)})`,
    };
  }
  if (fromGraph.negation) {
    merged.negation = fromGraph.negation;
    if (!fromConfig.negation) derivedFromGraph.push('negation');
  }
  const ngram = merged as unknown as HashedNgramSpec;
  try {
    validateSpec(ngram);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }

  const weights = init.get('ngram_weights');
  const biasTensor = init.get('bias');
  const table = weights && tensorFloats(weights);
  const bias = biasTensor && tensorFloats(biasTensor);
  const numLabels = spec.labels.length;
  if (!table || !bias) return { ok: false, reason: 'model.onnx has no float32 ngram_weights and bias initializers' };
  if (bias.length !== numLabels || table.length !== tableRows(ngram) * numLabels) {
    return {
      ok: false,
      reason: `ngram_weights/bias have ${table.length}/${bias.length} values, expected ${tableRows(ngram) * numLabels}/${numLabels}`,
    };
  }
  const model = (spec.tokenizerJson as { model?: { type?: unknown; continuing_subword_prefix?: unknown } }).model;
  const subwordPrefix =
    model?.type !== 'WordPiece'
      ? null
      : typeof model.continuing_subword_prefix === 'string'
        ? model.continuing_subword_prefix
        : '##';
  const specialIds = (
    (spec.tokenizerJson as { added_tokens?: { id?: unknown; special?: unknown }[] }).added_tokens ?? []
  )
    .filter((t) => t.special === true && typeof t.id === 'number')
    .map((t) => t.id as number);
  return {
    ok: true,
    explainer: createLinearExplainer({
      spec: ngram,
      table,
      bias,
      multiLabel: spec.multiLabel,
      idToToken,
      subwordPrefix,
      temperature: spec.temperature,
      specialIds,
    }),
    derivedFromGraph,
  };
}

export interface LinearExplainerParts {
  spec: HashedNgramSpec;
  /** Row-major [vocabSize + buckets, labels]. */
  table: Float32Array;
  bias: Float32Array;
  multiLabel: boolean;
  idToToken: (id: number) => string | undefined;
  /** WordPiece continuing-subword prefix ('##'), joined to the previous token for display; null: no joining. */
  subwordPrefix?: string | null;
  /** Calibration temperature: explain() divides the contributions by it (default 1). */
  temperature?: number | undefined;
  /** The tokenizer's special tokens: never shown in a phrase (see the module comment). */
  specialIds?: readonly number[] | undefined;
}

function round4(x: number): number {
  const r = Math.round(x * 1e4) / 1e4;
  return r === 0 ? 0 : r; // no -0 on the wire
}

export function createLinearExplainer(parts: LinearExplainerParts) {
  const { spec, table, bias, multiLabel, idToToken } = parts;
  const temperature = parts.temperature ?? 1;
  const prefix = parts.subwordPrefix === undefined ? '##' : parts.subwordPrefix;
  const L = bias.length;
  const excluded = new Set(spec.excludedIds);
  const relative = !multiLabel && L >= 2;
  const special = new Set(parts.specialIds ?? []);

  /** Reference subtracted from label p's value v[p] (see the module comment). */
  const reference = (v: ArrayLike<number>, offset: number, p: number): number => {
    if (!relative) return 0;
    let sum = 0;
    for (let j = 0; j < L; j++) if (j !== p) sum += v[offset + j]!;
    return sum / (L - 1);
  };

  const tokens = new Map<number, string>();
  const tokenOf = (id: number): string => {
    let token = tokens.get(id);
    if (token === undefined) tokens.set(id, (token = idToToken(id) ?? `[${id}]`));
    return token;
  };

  /** Display text of tokens[start .. start+order) without special tokens: `##` pieces join the previous token; '' when all are special. */
  function phraseText(ids: readonly number[], tokenAt: readonly string[], start: number, order: number): string {
    if (order === 0) return `(not) ${tokenAt[start]!}`;
    let out = '';
    for (let k = 0; k < order; k++) {
      if (special.has(ids[start + k]!)) continue;
      const token = tokenAt[start + k]!;
      if (out !== '' && prefix && token.startsWith(prefix) && token.length > prefix.length)
        out += token.slice(prefix.length);
      else out += (out !== '' ? ' ' : '') + token;
    }
    return out;
  }

  /**
   * The features of one input (ids incl. special tokens, as the runner feeds them): rows from
   * ngramFeatureRows, and for each the position and order of its n-gram, in the same order
   * (unigrams at real positions, then every all-real window of order 2, 3, ...).
   */
  function features(ids: readonly number[]): { rows: Int32Array; starts: Int32Array; orders: Uint8Array } {
    const rows = ngramFeatureRows(ids, spec);
    const starts = new Int32Array(rows.length);
    const orders = new Uint8Array(rows.length);
    const real = ids.map((id) => !excluded.has(id));
    let f = 0;
    for (let order = 1; order <= spec.maxOrder; order++) {
      for (let t = 0; t + order <= ids.length; t++) {
        let ok = true;
        for (let k = 0; k < order && ok; k++) ok = real[t + k]!;
        if (!ok) continue;
        starts[f] = t;
        orders[f++] = order;
      }
    }
    if (spec.negation)
      for (const t of negatedPositions(ids, spec.negation)) {
        starts[f] = t;
        orders[f++] = 0; // a negated token
      }
    if (f !== rows.length) throw new Error(`explainer: ${f} n-gram positions for ${rows.length} feature rows`);
    return { rows, starts, orders };
  }

  /** Every phrase's exact contribution toward label index `label`, and the bias term. */
  function decompose(ids: readonly number[], label: number): Decomposition {
    const { rows, starts, orders } = features(ids);
    const scale = featureScale(rows.length, spec.normalization);
    const tokenAt = ids.map(tokenOf);
    const byText = new Map<string, number>();
    let edges = 0;
    for (let f = 0; f < rows.length; f++) {
      const base = rows[f]! * L;
      const c = scale * (table[base + label]! - reference(table, base, label));
      const text = phraseText(ids, tokenAt, starts[f]!, orders[f]!);
      if (text === '') edges += c;
      else byText.set(text, (byText.get(text) ?? 0) + c);
    }
    const phrases = [...byText].map(([text, weight]) => ({ text, weight }));
    const biasTerm = bias[label]! - reference(bias, 0, label) + edges;
    return { phrases, bias: biasTerm, margin: phrases.reduce((s, p) => s + p.weight, biasTerm) };
  }

  return {
    spec,
    features,
    decompose,
    /** The margin of label `label` in one row of logits, as decompose() defines it. */
    margin(logits: ArrayLike<number>, offset: number, label: number): number {
      return logits[offset + label]! - reference(logits, offset, label);
    },
    /**
     * The `topK` phrases pushing most toward label index `label` and the `topK` pushing most
     * against it, in calibrated log-odds (contributions divided by the temperature).
     */
    explain(ids: readonly number[], label: number, topK: number): Explanation {
      const phrases = decompose(ids, label)
        .phrases.map((p) => ({ text: p.text, weight: p.weight / temperature }))
        .sort((a, b) => b.weight - a.weight || (a.text < b.text ? -1 : 1));
      const toward: ExplanationPhrase[] = [];
      const against: ExplanationPhrase[] = [];
      for (let i = 0; i < phrases.length && toward.length < topK; i++) {
        const weight = round4(phrases[i]!.weight);
        if (weight <= 0) break;
        toward.push({ text: phrases[i]!.text, weight });
      }
      for (let i = phrases.length - 1; i >= 0 && against.length < topK; i--) {
        const weight = round4(phrases[i]!.weight);
        if (weight >= 0) break;
        against.push({ text: phrases[i]!.text, weight });
      }
      return { method: 'linear-exact', toward, against };
    },
  };
}

export type LinearExplainer = ReturnType<typeof createLinearExplainer>;
