import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import type { InferencePool } from '../../src/inference/inference-pool.ts';
import type { ItemOutcome, ModelInfo } from '../../src/inference/model-runner.ts';
import { createReviewWorker } from '../../src/app/review-worker.ts';
import { createResultPublisher } from '../../src/results/result-publisher.ts';
import { openQueues, silentLogger, testEnv } from '../helpers/fleet.ts';
import { useTestRedis } from '../helpers/redis.ts';

const redis = useTestRedis();

/**
 * An inference pool whose calibration says: rows of ~128 tokens go one per model call, shorter
 * ones any number. It records the size of every batch it is given and takes 20 ms per batch, so
 * that reviews queue up behind it.
 */
function fakePool(): { pool: InferencePool; batchSizes: number[] } {
  const batchSizes: number[] = [];
  const info: ModelInfo = {
    name: 'fake',
    version: '1',
    labels: ['negative', 'positive'],
    multiLabel: false,
    maxTokens: 512,
    modelType: undefined,
    temperature: 1,
    inputNames: ['input_ids', 'attention_mask'],
    explanations: { supported: false, reason: 'fake model' },
    batchPolicy: { policy: 'adaptive', calibrationMs: 0, classes: [{ length: 32, rows: undefined, buckets: [] }, { length: 128, rows: 1, buckets: [] }] },
  };
  const pool = {
    info,
    pending: 0,
    async score(texts: string[]) {
      batchSizes.push(texts.length);
      await new Promise((r) => setTimeout(r, 20));
      const items: ItemOutcome[] = texts.map((t) => ({ ok: true, label: 'positive', score: 0.9, scores: { negative: 0.1, positive: 0.9 }, tokens: Math.ceil(t.length / 4), truncated: false }));
      return { items, stats: { tokenizeMs: 1, inferenceMs: 19, calls: texts.length, computedTokens: 0, realTokens: 0, explainMs: 0, explained: 0, tokenBudget: 512 } };
    },
  };
  return { pool: pool as unknown as InferencePool, batchSizes };
}

/** 40 reviews of ~600 characters (~150 tokens at the cut's starting 4 characters per token). */
const longReviews = Array.from({ length: 40 }, (_, i) => ({ id: `long-${i}`, text: `${'the battery lasts all day and the screen is bright '.repeat(12)}${i}` }));

async function batchSizesWith(threads: string): Promise<number[]> {
  const config = defaultConfig(testEnv(redis.current.url, '/nonexistent-model-dir', { BATCH_POLICY: 'adaptive', INFERENCE_THREADS: threads }));
  const queues = await openQueues(config);
  const connection = new Redis(config.redis.url!, { maxRetriesPerRequest: null });
  const resultsQueue = new Queue(config.queues.results, { connection, prefix: config.redis.prefix });
  const { pool, batchSizes } = fakePool();
  const worker = createReviewWorker({ config, connection, pool, publisher: createResultPublisher(resultsQueue), logger: silentLogger });
  try {
    await worker.waitUntilReady();
    await queues.producer.enqueueMany(longReviews);
    await queues.settled(longReviews.length);
    expect((await queues.reviews.getJobCounts('completed')).completed).toBe(longReviews.length);
    return batchSizes;
  } finally {
    await worker.close();
    await resultsQueue.close();
    await queues.close();
    connection.disconnect();
  }
}

describe('the review worker cuts adaptive batches to a few model calls only with several inference threads', () => {
  it('two inference threads: no batch of ~128-token reviews holds more than 4 calls of 1 row', async () => {
    const sizes = await batchSizesWith('2');
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(longReviews.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
  });

  it('one inference thread: what queued meanwhile goes in one batch (up to BATCH_MAX_SIZE)', async () => {
    const sizes = await batchSizesWith('1');
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(longReviews.length);
    expect(Math.max(...sizes)).toBeGreaterThan(4);
  });
});
