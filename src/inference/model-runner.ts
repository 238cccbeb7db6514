import ort from 'onnxruntime-node';
import type { GroupLimits } from '../batching/length-groups.ts';
import { SfError, toSfError, type SerializedSfError } from '../errors/sf-error.ts';
import { padBatch, type Encoded, type Truncation } from '../tokenize/encoder.ts';
import { loadModelTokenizer, type ModelTokenizer } from '../tokenize/model-tokenizer.ts';
import { encodeAll, planCalls } from './batch-plan.ts';
import { logitsProblem, marginsAgree, sessionProblems } from './model-io.ts';
import type { Explanation } from '../contracts/result-contract.ts';
import {
  DEFAULT_EXPLAIN_TOP_K,
  loadLinearExplainer,
  type ExplanationSupport,
  type LinearExplainer,
} from './linear-explainer.ts';
import { readModelSpec, type ModelSpec } from '../model-format/model-dir.ts';
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
  /** How a batch is split into model calls (length groups within BATCH_MAX_TOKENS and BATCH_MAX_PADDING). */
  groups: GroupLimits;
}

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
}

/** A loaded model: its files, tokenizer and checked onnxruntime session (loadModel). */
interface LoadedModel extends ModelTokenizer {
  spec: ModelSpec;
  session: ort.InferenceSession;
  wantsTokenTypes: boolean;
}

/** Load: the model directory, its tokenizer and an onnxruntime session whose inputs and outputs fit. */
async function loadModel(options: RunnerOptions): Promise<LoadedModel> {
  const spec = readModelSpec(options.modelDir, { name: options.name, version: options.version });
  const tokenizer = loadModelTokenizer(spec, options);
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
    throw new SfError(
      'SF_ERR_MODEL_LOAD',
      `model directory ${spec.dir}: ${spec.modelFile} is not a loadable ONNX model (${(err as Error).message})`,
      { cause: err },
    );
  }
  const problems = sessionProblems(session.inputNames, session.outputNames);
  if (problems.length > 0) {
    await session.release();
    throw new SfError(
      'SF_ERR_MODEL_LOAD',
      `model directory ${spec.dir}: ${spec.modelFile} has ${problems.join('; ')}`,
      { details: { inputs: session.inputNames, outputs: session.outputNames } },
    );
  }
  return { ...tokenizer, spec, session, wantsTokenTypes: session.inputNames.includes('token_type_ids') };
}

/** One model call on rows of token ids (padded here); its logits, [rows, labels] row-major. */
async function runCall(model: LoadedModel, rows: number[][]): Promise<Float32Array> {
  const { inputIds, attentionMask, length } = padBatch(rows, model.padId);
  const dims = [rows.length, length];
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', inputIds, dims),
    attention_mask: new ort.Tensor('int64', attentionMask, dims),
  };
  if (model.wantsTokenTypes) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(inputIds.length), dims);
  let logits: ort.Tensor | undefined;
  try {
    logits = (await model.session.run(feeds, ['logits'])).logits;
  } catch (err) {
    throw toSfError(err, 'SF_ERR_INFERENCE', `inference failed: ${(err as Error).message}`);
  }
  const problem = logitsProblem(logits?.dims, rows.length, model.spec.labels.length);
  if (problem) throw new SfError('SF_ERR_MODEL_LOAD', `model directory ${model.spec.dir}: ${problem}`);
  return logits!.data as Float32Array;
}

/**
 * Check: on one text, the explainer's decomposition must reproduce the margin of the ONNX logits
 * for every label. Returns why it does not, or undefined.
 */
async function explainerProblem(
  model: LoadedModel,
  explainer: LinearExplainer,
  ids: number[],
): Promise<string | undefined> {
  const logits = await runCall(model, [ids]);
  for (let label = 0; label < model.spec.labels.length; label++) {
    const expected = explainer.margin(logits, 0, label);
    let got: number;
    try {
      got = explainer.decompose(ids, label).margin;
    } catch (err) {
      return `explainer self-check failed: ${(err as Error).message}`;
    }
    if (!marginsAgree(got, expected)) return `explainer self-check failed: margin ${got} vs the model's ${expected}`;
  }
  return undefined;
}

/** Explains the flagged items that scored; returns how many got an explanation. */
function explainItems(
  explainer: LinearExplainer,
  labels: readonly string[],
  encoded: readonly (Encoded | SfError)[],
  items: ItemOutcome[],
  flags: readonly boolean[],
  topK: number,
): number {
  let explained = 0;
  items.forEach((item, index) => {
    if (!flags[index] || !item.ok) return;
    try {
      item.explanation = explainer.explain((encoded[index] as Encoded).ids, labels.indexOf(item.label), topK);
      explained++;
    } catch {
      // An explanation is an extra: the item keeps its score without one.
    }
  });
  return explained;
}

/**
 * Loads a model directory into an onnxruntime session and scores texts with it. This is the one
 * scoring path: inference threads, `sentiment-fleet eval` and the benchmarks all use it.
 * session.run() blocks the calling thread, so the fleet calls this inside worker_threads only.
 * Steps: load (loadModel), check (warm-up, explainer self-check), score.
 */
export async function createModelRunner(options: RunnerOptions) {
  const model = await loadModel(options);
  const { spec, encoder } = model;
  const loaded = loadLinearExplainer(spec, (id) => model.tokenizer.id_to_token(id));
  let explainer: LinearExplainer | undefined = loaded.ok ? loaded.explainer : undefined;
  let explainReason = loaded.ok ? undefined : loaded.reason;

  const info: ModelInfo = {
    name: spec.name,
    version: spec.version,
    labels: spec.labels,
    multiLabel: spec.multiLabel,
    maxTokens: model.maxTokens,
    modelType: spec.modelType,
    temperature: spec.temperature,
    inputNames: [...model.session.inputNames],
    explanations: { supported: false, reason: 'not checked yet' },
  };

  /**
   * Scores a batch of texts, or of encodings the caller made with the same tokenizer (the
   * token-budget policy tokenizes before batching). `explainFlags[i]` asks for an explanation of
   * item i (its top `explainTopK` phrases each way); unflagged items and models without an
   * explainer cost nothing extra.
   */
  async function score(
    texts: readonly (string | Encoded)[],
    explainFlags?: readonly boolean[],
    explainTopK: number = DEFAULT_EXPLAIN_TOP_K,
  ): Promise<{ items: ItemOutcome[]; stats: BatchStats }> {
    const t0 = performance.now();
    const encoded = encodeAll(texts, (text) => encoder.encode(text));
    const t1 = performance.now();
    const items: ItemOutcome[] = encoded.map((e) =>
      e instanceof SfError ? { ok: false, error: e.toJSON() } : (undefined as never),
    );
    const plan = planCalls(encoded, options.groups);
    for (const call of plan.calls) {
      const logits = await runCall(
        model,
        call.map((i) => (encoded[i] as Encoded).ids),
      );
      call.forEach((index, row) => {
        const enc = encoded[index] as Encoded;
        const probs = probabilities(
          logits,
          row * spec.labels.length,
          spec.labels.length,
          spec.multiLabel,
          spec.temperature,
        );
        items[index] = {
          ok: true,
          ...labelScores(probs, spec.labels),
          tokens: enc.ids.length,
          truncated: enc.truncated,
        };
      });
    }
    const t2 = performance.now();
    const explained =
      explainer && explainFlags ? explainItems(explainer, spec.labels, encoded, items, explainFlags, explainTopK) : 0;
    const { realTokens, computedTokens } = plan;
    return {
      items,
      stats: {
        tokenizeMs: t1 - t0,
        inferenceMs: t2 - t1,
        calls: plan.calls.length,
        computedTokens,
        realTokens,
        explainMs: performance.now() - t2,
        explained,
      },
    };
  }

  // Check: one real inference, so the first batch does not pay for lazy initialisation and a
  // model whose output does not match its config fails now, at start-up; then the explainer.
  const warmUp = 'warm-up review: good product, bad delivery';
  try {
    await score([warmUp]);
    const ids = encoder.encode(warmUp).ids;
    if (explainer) {
      const problem = await explainerProblem(model, explainer, ids);
      if (problem) [explainer, explainReason] = [undefined, problem];
    }
    info.explanations = explainer
      ? { supported: true, method: 'linear-exact' }
      : { supported: false, reason: explainReason ?? 'unknown' };
  } catch (err) {
    await model.session.release();
    throw toSfError(
      err,
      'SF_ERR_MODEL_LOAD',
      `model directory ${spec.dir}: warm-up inference failed (${(err as Error).message})`,
    );
  }

  let closed = false;
  return {
    info,
    score,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await model.session.release();
    },
  };
}

export type ModelRunner = Awaited<ReturnType<typeof createModelRunner>>;
