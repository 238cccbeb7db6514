import type { SerializedSfError } from '../errors/sf-error.ts';
import type { Encoded } from '../tokenize/encoder.ts';
import type { BatchStats, ItemOutcome, ModelInfo, RunnerOptions } from './model-runner.ts';

/** Which items of a batch to explain (`flags[i]` for texts[i]) and how many phrases each way. */
export interface ExplainRequest {
  flags: boolean[];
  topK: number;
}

/**
 * Messages between the worker's main thread and its inference threads. A thread is stopped by
 * Worker.terminate() (InferencePool.close, once no batch is in flight): no message for that.
 */
export type ToThread = {
  type: 'score';
  id: number;
  /** Texts, or their encodings when the worker tokenized them before batching. */
  texts: (string | Encoded)[];
  explain?: ExplainRequest | undefined;
  /** Which of the thread's models scores the batch (ThreadData.models key); absent: the default model. */
  model?: string | undefined;
};

export type FromThread =
  | { type: 'ready'; info: ModelInfo; models?: Record<string, ModelInfo>; niceError?: string }
  | { type: 'init-error'; error: SerializedSfError }
  | { type: 'scored'; id: number; items: ItemOutcome[]; stats: BatchStats }
  | { type: 'batch-error'; id: number; error: SerializedSfError };

export interface ThreadData {
  entry: string;
  runner: RunnerOptions;
  /** Further models the thread loads (MODEL_ROUTES), by key (src/inference/model-router.ts). */
  models?: { key: string; runner: RunnerOptions }[];
  /** A bulk thread's nice value, set before its sessions start their threads (thread-priority.ts). */
  nice?: number;
}
