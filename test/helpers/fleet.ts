import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { createWorkerApp, type WorkerAppOptions } from '../../src/app/worker-app.ts';
import type { Config } from '../../src/config/load-config.ts';
import { defaultConfig } from './config.ts';
import { createReviewProducer, type ReviewProducer } from '../../src/queue/review-producer.ts';
import { createLogger } from '../../src/logging/logger.ts';
import type { ResultBatch, SentimentResult } from '../../src/contracts/result-contract.ts';
import { uniqueName } from './redis.ts';
import { writeTinyModel, type TinyModelOptions } from './tiny-model.ts';

export const silentLogger = createLogger({ level: 'silent', format: 'json' });
export const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');

/** A model directory in a temp dir, removed by `remove()`. */
export async function tempModel(options: TinyModelOptions = {}): Promise<{ dir: string; remove: () => void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sf-model-'));
  await writeTinyModel(dir, options);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Settings of one test: a unique queue prefix on the given Redis, fast retries. */
export function testEnv(
  redisUrl: string,
  modelDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `{${uniqueName('sft')}}`, // a Redis Cluster hash tag, as deployments use
    MODEL_DIR: modelDir,
    BACKOFF_DELAY_MS: '50',
    INFERENCE_THREADS: '1',
    INTRA_OP_THREADS: '1',
    HTTP_PORT: '0',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'silent',
    ...extra,
  };
}

/** Producer, queues and queue events on one test's prefix; everything closed by `close()`. */
export async function openQueues(config: Config) {
  const connection = new Redis(config.redis.url!, { maxRetriesPerRequest: null });
  const producer: ReviewProducer = createReviewProducer({ config, connection, logger: silentLogger });
  const opts = { connection: { url: config.redis.url! }, prefix: config.redis.prefix };
  const reviews = new Queue(config.queues.reviews, opts);
  const results = new Queue<ResultBatch>(config.queues.results, opts);
  // From the stream's start (each test has a fresh prefix): '$' could miss the first events.
  const reviewEvents = new QueueEvents(config.queues.reviews, { ...opts, lastEventId: '0-0' });
  await Promise.all([reviews.waitUntilReady(), results.waitUntilReady(), reviewEvents.waitUntilReady()]);
  return {
    connection,
    producer,
    reviews,
    results,
    reviewEvents,
    /** Resolves when `count` review jobs have reached a final state (completed, or failed for good). */
    settled(count: number, timeoutMs = 30_000): Promise<void> {
      return waitForCounts(
        reviews,
        (c) => (c.completed ?? 0) + (c.failed ?? 0) >= count,
        timeoutMs,
        `${count} jobs settled`,
      );
    },
    /** Resolves when at least `count` review jobs are active (or already done). */
    active(count: number, timeoutMs = 30_000): Promise<void> {
      return waitForCounts(
        reviews,
        (c) => (c.active ?? 0) + (c.completed ?? 0) + (c.failed ?? 0) >= count,
        timeoutMs,
        `${count} jobs active`,
      );
    },
    /** Result jobs on the results queue, in any state (one per inference batch). */
    async resultJobs(): Promise<Job<ResultBatch>[]> {
      return results.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized']);
    },
    /** Every result published so far, one entry per review result, with the id of its batch job. */
    async publishedResults(): Promise<{ jobId: string; data: SentimentResult }[]> {
      return (await this.resultJobs()).flatMap((job) => job.data.results.map((data) => ({ jobId: job.id!, data })));
    },
    async close(): Promise<void> {
      await reviewEvents.close();
      await producer.close();
      await reviews.obliterate({ force: true }).catch(() => undefined);
      await results.obliterate({ force: true }).catch(() => undefined);
      await reviews.close();
      await results.close();
      connection.disconnect();
    },
  };
}

/** Polls a queue's job counts (bounded) until `done` holds; job counts cannot miss an event. */
async function waitForCounts(
  queue: Queue,
  done: (c: Record<string, number>) => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await queue.getJobCounts('active', 'completed', 'failed', 'waiting', 'delayed');
    if (done(counts)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export type TestQueues = Awaited<ReturnType<typeof openQueues>>;

export async function startWorker(env: Record<string, string>, options: WorkerAppOptions = {}) {
  const config = defaultConfig(env);
  return createWorkerApp(config, silentLogger, options);
}

export function reviews(n: number, start = 0): { id: string; text: string; title?: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `r-${start + i}`,
    text: (start + i) % 2 === 0 ? `I love this great phone number ${i}` : `terrible broken waste number ${i}`,
  }));
}

/** For a test file's top level: a tiny model directory for its tests, removed after them. */
export function useTempModel(options: TinyModelOptions = {}): { readonly dir: string } {
  let model: Awaited<ReturnType<typeof tempModel>> | undefined;
  beforeAll(async () => {
    model = await tempModel(options);
  });
  afterAll(() => model?.remove());
  return {
    get dir(): string {
      if (!model) throw new Error('useTempModel: the model is not written yet (read .dir inside a test)');
      return model.dir;
    },
  };
}
