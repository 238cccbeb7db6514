import ort from 'onnxruntime-node';
import { calibrateClass } from '../batching/call-calibration.ts';
import { createCallCostModel, type CallCostSnapshot } from '../batching/call-cost-model.ts';
import { groupByLength, type GroupLimits } from '../batching/length-groups.ts';
import { SfError, toSfError, type SerializedSfError } from '../errors/sf-error.ts';
import { padBatch, type Encoded, type Truncation } from '../tokenize/encoder.ts';
import { loadModelTokenizer } from '../tokenize/model-tokenizer.ts';
import type { Explanation } from '../contracts/result-contract.ts';
import { DEFAULT_EXPLAIN_TOP_K, loadLinearExplainer, type ExplanationSupport, type LinearExplainer } from './linear-explainer.ts';
import { readModelSpec } from '../model-format/model-dir.ts';
import { labelScores, probabilities } from './scores.ts';

export interface RunnerOptions {
  modelDir: string;
  name?: string | undefined;
  version?: string | undefined;
  /** Truncate to this many tokens; default the model's maximum length. */
  maxTokens?: number | undefined;
  truncation: Truncation;
  intraOpThreads: number;
  /**
   * Whether onnxruntime's intra-op threads spin while waiting for work (INTRA_OP_SPINNING,
   * default true as in onnxruntime; false saves CPU at a small cost in speed).
   */
  intraOpSpinning?: boolean;
  /** Most rows a model call will see (BATCH_MAX_SIZE): calibration stops there, so it never sizes onnxruntime's arena for batches that cannot happen. */
  maxRows?: number;
  groups: GroupLimits;
  /**
   * `adaptive` (default): the token budget of a model call is chosen from measured call costs
   * (a start-up calibration, then every call), never above `groups.maxTokens`. `fixed`: always
   * `groups.maxTokens`.
   */
  policy?: BatchPolicy;
}

/** BATCH_POLICY: how the worker forms batches; only `adaptive` changes how the runner splits them. */
export type BatchPolicy = 'adaptive' | 'fixed' | 'token-budget';

export interface ModelInfo {
  name: string;
  version: string;
  labels: string[];
  multiLabel: boolean;
  maxTokens: number;
  modelType: string | undefined;
  /** Calibration temperature applied to the logits before the softmax (1: none). */
  temperature: number;
  inputNames: string[];
  /** Whether score() can explain items (only hashed-ngram-linear models, exactly). */
  explanations: ExplanationSupport;
  /** The batch policy and, for `adaptive`, the call costs measured at start-up. */
  batchPolicy: { policy: BatchPolicy; calibrationMs: number } & CallCostSnapshot;
}

export type ItemOutcome =
  | {
      ok: true;
      label: string;
      score: number;
      scores: Record<string, number>;
      tokens: number;
      truncated: boolean;
      /** Only for items score() was asked to explain, when the model supports it. */
      explanation?: Explanation;
    }
  | { ok: false; error: SerializedSfError };

export interface BatchStats {
  tokenizeMs: number;
  inferenceMs: number;
  /** session.run() calls the batch took (one per length group). */
  calls: number;
  computedTokens: number;
  realTokens: number;
  /** Time spent computing explanations (not part of inferenceMs), and how many items got one. */
  explainMs: number;
  explained: number;
  /** Token budget of a model call for the batch's longest row when the batch was grouped. */
  tokenBudget: number;
}

/**
 * Calibration calls: rows of each of these lengths (capped at the model's maximum), doubling the
 * rows until a call takes CALIBRATION_STOP_MS. Short reviews are ~20 tokens, long ones ~100–500.
 */
const CALIBRATION_LENGTHS = [32, 128, 512];
const CALIBRATION_STOP_MS = 250;
/** Passes over each class's sizes after the first (see calibrateClass): every size is timed four times. */
const CALIBRATION_EXTRA_PASSES = 2;

const REQUIRED_INPUTS = ['input_ids', 'attention_mask'];
const OPTIONAL_INPUTS = ['token_type_ids'];

/**
 * Loads a model directory into an onnxruntime session and scores texts with it. This is the one
 * scoring path: inference threads, `sentiment-fleet eval` and the benchmarks all use it.
 * session.run() blocks the calling thread, so the fleet calls this inside worker_threads only.
 */
export async function createModelRunner(options: RunnerOptions) {
  const spec = readModelSpec(options.modelDir, { name: options.name, version: options.version });
  const { tokenizer, encoder, padId, maxTokens } = loadModelTokenizer(spec, options);

  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(spec.modelFile, {
      intraOpNumThreads: options.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: options.intraOpSpinning === false ? '0' : '1' } } },
    });
  } catch (err) {
    throw new SfError('SF_ERR_MODEL_LOAD', `model directory ${spec.dir}: ${spec.modelFile} is not a loadable ONNX model (${(err as Error).message})`, { cause: err });
  }
  const missing = REQUIRED_INPUTS.filter((n) => !session.inputNames.includes(n));
  const unknown = session.inputNames.filter((n) => !REQUIRED_INPUTS.includes(n) && !OPTIONAL_INPUTS.includes(n));
  if (missing.length > 0 || unknown.length > 0 || !session.outputNames.includes('logits')) {
    const problems = [
      missing.length > 0 ? `missing input(s) ${missing.join(', ')}` : '',
      unknown.length > 0 ? `unsupported input(s) ${unknown.join(', ')}` : '',
      session.outputNames.includes('logits') ? '' : `no "logits" output (has ${session.outputNames.join(', ')})`,
    ].filter(Boolean);
    await session.release();
    throw new SfError('SF_ERR_MODEL_LOAD', `model directory ${spec.dir}: ${spec.modelFile} has ${problems.join('; ')}`, { details: { inputs: session.inputNames, outputs: session.outputNames } });
  }
  const wantsTokenTypes = session.inputNames.includes('token_type_ids');

  const loaded = loadLinearExplainer(spec, (id) => tokenizer.id_to_token(id));
  let explainer: LinearExplainer | undefined = loaded.ok ? loaded.explainer : undefined;
  let explainReason = loaded.ok ? undefined : loaded.reason;

  const info: ModelInfo = {
    name: spec.name,
    version: spec.version,
    labels: spec.labels,
    multiLabel: spec.multiLabel,
    maxTokens,
    modelType: spec.modelType,
    temperature: spec.temperature,
    inputNames: [...session.inputNames],
    explanations: { supported: false, reason: 'not checked yet' },
    batchPolicy: { policy: options.policy ?? 'adaptive', calibrationMs: 0, classes: [] },
  };
  const costs = createCallCostModel({ maxTokens: options.groups.maxTokens });
  let recording = false; // cold warm-up calls would mislead the cost model
  const adaptive = info.batchPolicy.policy === 'adaptive';
  const groupLimits: GroupLimits = adaptive ? { ...options.groups, budgetFor: costs.budgetFor } : options.groups;

  async function runGroup(rows: number[][]): Promise<Float32Array> {
    const { inputIds, attentionMask, length } = padBatch(rows, padId);
    const dims = [rows.length, length];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', inputIds, dims),
      attention_mask: new ort.Tensor('int64', attentionMask, dims),
    };
    if (wantsTokenTypes) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(inputIds.length), dims);
    let logits: ort.Tensor | undefined;
    const started = performance.now();
    try {
      logits = (await session.run(feeds, ['logits'])).logits;
    } catch (err) {
      throw toSfError(err, 'SF_ERR_INFERENCE', `inference failed: ${(err as Error).message}`);
    }
    if (recording) costs.observe({ rows: rows.length, paddedLength: length, realTokens: rows.reduce((sum, r) => sum + r.length, 0), ms: performance.now() - started });
    if (!logits || logits.dims.length !== 2 || logits.dims[0] !== rows.length || logits.dims[1] !== spec.labels.length) {
      throw new SfError('SF_ERR_MODEL_LOAD', `model directory ${spec.dir}: logits have shape [${logits?.dims.join(', ')}], expected [${rows.length}, ${spec.labels.length}] (config.json id2label has ${spec.labels.length} labels)`);
    }
    return logits.data as Float32Array;
  }

  /**
   * Scores a batch of texts, or of encodings the caller made with the same tokenizer (the
   * token-budget policy tokenizes before batching). `explainFlags[i]` asks for an explanation of item i (its top `explainTopK`
   * phrases each way); unflagged items and models without an explainer cost nothing extra.
   */
  async function score(
    texts: readonly (string | Encoded)[],
    explainFlags?: readonly boolean[],
    explainTopK: number = DEFAULT_EXPLAIN_TOP_K,
  ): Promise<{ items: ItemOutcome[]; stats: BatchStats }> {
    const t0 = performance.now();
    const encoded: (Encoded | SfError)[] = texts.map((text) => {
      if (typeof text !== 'string') return text;
      try {
        return encoder.encode(text);
      } catch (err) {
        return toSfError(err, 'SF_ERR_BAD_INPUT');
      }
    });
    const t1 = performance.now();
    const items: ItemOutcome[] = encoded.map((e) => (e instanceof SfError ? { ok: false, error: e.toJSON() } : (undefined as never)));
    const good = encoded.flatMap((e, i) => (e instanceof SfError ? [] : [i]));
    const lengths = good.map((i) => (encoded[i] as Encoded).ids.length);
    const groups = groupByLength(lengths, groupLimits);
    const longest = Math.max(0, ...lengths);
    const tokenBudget = Math.min(groupLimits.maxTokens, groupLimits.budgetFor?.(longest) ?? Infinity);
    let computedTokens = 0;
    for (const group of groups) {
      const rows = group.map((g) => (encoded[good[g]!] as Encoded).ids);
      const logits = await runGroup(rows);
      computedTokens += rows.length * Math.max(...rows.map((r) => r.length));
      group.forEach((g, row) => {
        const index = good[g]!;
        const enc = encoded[index] as Encoded;
        const probs = probabilities(logits, row * spec.labels.length, spec.labels.length, spec.multiLabel, spec.temperature);
        items[index] = { ok: true, ...labelScores(probs, spec.labels), tokens: enc.ids.length, truncated: enc.truncated };
      });
    }
    const t2 = performance.now();
    let explained = 0;
    if (explainer && explainFlags) {
      for (const index of good) {
        const item = items[index]!;
        if (!explainFlags[index] || !item.ok) continue;
        try {
          item.explanation = explainer.explain((encoded[index] as Encoded).ids, spec.labels.indexOf(item.label), explainTopK);
          explained++;
        } catch {
          // An explanation is an extra: the item keeps its score without one.
        }
      }
    }
    const realTokens = lengths.reduce((a, b) => a + b, 0);
    const explainMs = performance.now() - t2;
    return { items, stats: { tokenizeMs: t1 - t0, inferenceMs: t2 - t1, calls: groups.length, computedTokens, realTokens, explainMs, explained, tokenBudget } };
  }

  /**
   * Start-up self-check of the explainer: on one text, its decomposition must reproduce the
   * margin of the ONNX logits for every label, else explanations are turned off.
   */
  async function checkExplainer(ids: number[]): Promise<void> {
    if (!explainer) return;
    const logits = await runGroup([ids]);
    for (let label = 0; label < spec.labels.length; label++) {
      const expected = explainer.margin(logits, 0, label);
      let got = NaN;
      let problem = '';
      try {
        got = explainer.decompose(ids, label).margin;
      } catch (err) {
        problem = (err as Error).message;
      }
      if (!(Math.abs(got - expected) <= 1e-3 * Math.max(1, Math.abs(expected)))) {
        explainer = undefined;
        explainReason = `explainer self-check failed: ${problem || `margin ${got} vs the model's ${expected}`}`;
        return;
      }
    }
  }

  /** Seeds the cost model: each calibration length's calls of 1, 2, 4 … rows (see calibrateClass). */
  async function calibrate(ids: number[]): Promise<void> {
    const started = performance.now();
    const content = ids.slice(1, -1);
    const lengths = [...new Set(CALIBRATION_LENGTHS.map((l) => Math.max(2, Math.min(l, maxTokens))))];
    for (const length of lengths) {
      costs.addClass(length);
      const row = [ids[0]!, ...Array.from({ length: length - 2 }, (_, i) => content[i % content.length]!), ids.at(-1)!];
      const time = async (rows: number): Promise<number> => {
        const t = performance.now();
        await runGroup(Array.from({ length: rows }, () => row));
        return performance.now() - t;
      };
      const sizes = await calibrateClass(time, { length, maxTokens: options.groups.maxTokens, maxRows: options.maxRows ?? Infinity, stopMs: CALIBRATION_STOP_MS, extraPasses: CALIBRATION_EXTRA_PASSES });
      for (const { rows, ms } of sizes) costs.observe({ rows, paddedLength: length, realTokens: rows * length, ms });
    }
    info.batchPolicy = { ...info.batchPolicy, ...costs.snapshot(), calibrationMs: performance.now() - started };
  }

  // Warm-up: one real inference, so the first batch does not pay for lazy initialisation and a
  // model whose output does not match its config fails now, at start-up.
  const warmUp = 'warm-up review: good product, bad delivery';
  try {
    await score([warmUp]);
    await checkExplainer(encoder.encode(warmUp).ids);
    if (adaptive) await calibrate(encoder.encode(warmUp).ids);
    recording = true;
    info.explanations = explainer ? { supported: true, method: 'linear-exact' } : { supported: false, reason: explainReason ?? 'unknown' };
  } catch (err) {
    await session.release();
    throw toSfError(err, 'SF_ERR_MODEL_LOAD', `model directory ${spec.dir}: warm-up inference failed (${(err as Error).message})`);
  }

  let closed = false;
  return {
    info,
    score,
    /** The cost model's current state (token budget and measured buckets of each length class). */
    costs: () => costs.snapshot(),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await session.release();
    },
  };
}

export type ModelRunner = Awaited<ReturnType<typeof createModelRunner>>;
