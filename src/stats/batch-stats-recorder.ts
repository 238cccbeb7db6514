import type { RedisClient } from '../queue/redis-connection.ts';
import type { Logger } from '../logging/logger.ts';
import { encodeBatchEntry, statsStreamKey, type BatchStatsInput } from './stats-stream.ts';

export interface BatchStatsRecorderOptions {
  connection: RedisClient;
  prefix: string;
  /** XADD MAXLEN ~ this (STATS_STREAM_MAXLEN). */
  maxLen: number;
  logger: Logger;
  /** The worker id written with each entry (the BullMQ worker name). */
  workerId: string;
  /** Called on each failed XADD (the worker counts them in its metrics). */
  onError?: () => void;
}

/** One scored item of a batch, as the stats stream needs it. */
export interface RecordedItem {
  /** The review job's timestamp (enqueue time), epoch ms. */
  enqueuedAt: number;
  label: string;
  /** Probability of `label` (the max probability). */
  score: number;
  tokens: number;
  truncated: boolean;
  /** The review's star rating, when it had one. */
  rating?: number | undefined;
  /** The language its model was chosen by (result `language.tag`; null: unknown), with MODEL_ROUTES. */
  language?: string | null | undefined;
}

export interface RecordedBatch {
  /** processedAt of the batch's results, epoch ms. */
  processedAt: number;
  /** Every item of the batch, failed ones included. */
  size: number;
  inferenceMs: number;
  /** The model's labels (label indexes in the entry refer to them). */
  labels: readonly string[];
  /** The scored items (results published). */
  items: readonly RecordedItem[];
  /** `name@version` of the model that scored them, when the worker routes (its worker id names only the default model). */
  model?: string | undefined;
  /** `bulk`: a batch of the bulk lane. */
  lane?: 'bulk' | undefined;
}

/** The stream entry of a batch: enqueue → result latency per item, label index, confidence, tokens. */
export function toBatchStatsInput(workerId: string, batch: RecordedBatch): BatchStatsInput {
  const labels = [...batch.labels];
  const indexOf = (label: string) => {
    let i = labels.indexOf(label);
    if (i < 0) i = labels.push(label) - 1; // a label the model info did not list: kept, never dropped
    return i;
  };
  return {
    ts: batch.processedAt,
    worker: workerId,
    size: batch.size,
    inferenceMs: batch.inferenceMs,
    labels,
    latencyMs: batch.items.map((i) => Math.max(0, batch.processedAt - i.enqueuedAt)),
    labelIndex: batch.items.map((i) => indexOf(i.label)),
    confidence: batch.items.map((i) => i.score),
    tokens: batch.items.map((i) => i.tokens),
    truncated: batch.items.map((i) => (i.truncated ? 1 : 0)),
    ratings: batch.items.some((i) => i.rating !== undefined) ? batch.items.map((i) => i.rating ?? null) : null,
    ...(batch.model !== undefined ? { model: batch.model } : {}),
    ...(batch.lane === 'bulk' ? { lane: 'bulk' as const } : {}),
    ...(batch.items.some((i) => i.language !== undefined)
      ? { languages: batch.items.map((i) => i.language ?? null) }
      : {}),
  };
}

/**
 * Appends one compact entry per batch to the capped stats stream: a single XADD with
 * MAXLEN ~ (one round trip, nothing else pipelined). Never throws and is not awaited by the
 * batch: a failure to record is logged once (until a later success) and the batch goes on.
 */
export function createBatchStatsRecorder(options: BatchStatsRecorderOptions) {
  const key = statsStreamKey(options.prefix);
  const log = options.logger.child({ component: 'stats-recorder', stream: key });
  let failing = false;
  return {
    key,
    /** Resolves when the entry is written or given up on; never rejects. */
    async record(batch: RecordedBatch): Promise<void> {
      if (batch.items.length === 0 && batch.size === 0) return;
      try {
        const fields = encodeBatchEntry(toBatchStatsInput(options.workerId, batch));
        await options.connection.xadd(key, 'MAXLEN', '~', String(options.maxLen), '*', ...fields);
        if (failing) log.info('recording batch stats works again');
        failing = false;
      } catch (err) {
        options.onError?.();
        if (!failing)
          log.warn(
            { err },
            'could not record batch stats (the batch is not affected); logged once until it works again',
          );
        failing = true;
      }
    },
  };
}

export type BatchStatsRecorder = ReturnType<typeof createBatchStatsRecorder>;
