/**
 * 3. The queue ceiling: BullMQ with a no-op processor on the same Redis, at the fleet's worker
 * concurrency. Two ways: `drain` empties a queue pre-filled with addBulk (the pure consumer
 * ceiling); `flow` enqueues with the fleet's own producer (createReviewProducer: validation,
 * duplicate check, addBulk), in the same chunks as the fleet's closed loop, while the no-op
 * worker drains: the fleet's measurement with the processor replaced by a no-op.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Config } from '../src/config/load-config.ts';
import type { LocalRedis } from '../src/dev/local-redis.ts';
import { createReviewProducer } from '../src/queue/review-producer.ts';
import { createLogger } from '../src/logging/logger.ts';
import { reviewIdToJobId } from '../src/contracts/job-id.ts';
import type { BenchReview } from './bench-texts.ts';
import { sleep, summarize } from './measure-stats.ts';

export async function measureQueueCeiling(
  redis: LocalRedis,
  config: Config,
  payloads: readonly BenchReview[],
  p: { rounds: number; jobs: number },
) {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const prefix = 'benchq';
  const drain: number[] = [];
  const enqueue: number[] = [];
  const flow: number[] = [];
  const job = (tag: string, i: number) => ({
    name: 'review',
    data: { ...payloads[i % payloads.length]!, id: `${tag}-${i}` },
    opts: { jobId: reviewIdToJobId(`${tag}-${i}`) },
  });
  async function fill(queue: Queue, tag: string): Promise<void> {
    for (let i = 0; i < p.jobs; i += 500)
      await queue.addBulk(Array.from({ length: Math.min(500, p.jobs - i) }, (_, j) => job(tag, i + j)));
  }
  async function drainWith(name: string, started: Promise<void>): Promise<number> {
    let completed = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((res) => (resolveDone = res));
    const t0 = performance.now();
    const worker = new Worker(name, async () => undefined, {
      connection: new Redis(redis.url, { maxRetriesPerRequest: null }),
      prefix,
      concurrency: config.worker.concurrency,
    });
    worker.on('completed', () => {
      if (++completed >= p.jobs) resolveDone();
    });
    await started;
    await Promise.race([done, sleep(180_000)]);
    const rate = completed / ((performance.now() - t0) / 1000);
    await worker.close();
    return rate;
  }
  for (let r = 0; r < p.rounds; r++) {
    const opts = { connection, prefix, defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: true } };
    const a = new Queue(`noop-drain-${r}`, opts);
    const e0 = performance.now();
    await fill(a, `d${r}`);
    enqueue.push(p.jobs / ((performance.now() - e0) / 1000));
    drain.push(await drainWith(a.name, Promise.resolve()));
    await a.obliterate({ force: true });
    await a.close();
    const b = new Queue(`noop-flow-${r}`, opts);
    // The fleet's job options too (its workers run with KEEP_COMPLETED_COUNT=1000, fleet-driver.ts).
    const producer = createReviewProducer({
      config: {
        ...config,
        queues: { ...config.queues, reviews: b.name },
        redis: { ...config.redis, prefix },
        jobs: { ...config.jobs, keepCompletedCount: 1000 },
      },
      connection,
      logger: createLogger({ level: 'warn', format: 'json' }),
    });
    const tag = `f${r}`;
    const produce = (async () => {
      for (let i = 0; i < p.jobs; i += 2000)
        await producer.enqueueMany(Array.from({ length: Math.min(2000, p.jobs - i) }, (_, j) => job(tag, i + j).data));
    })();
    flow.push(await drainWith(b.name, produce));
    await producer.close();
    await b.obliterate({ force: true });
    await b.close();
  }
  await connection.quit();
  return {
    jobsPerS: summarize(drain, 'jobs/s'),
    flowJobsPerS: summarize(flow, 'jobs/s'),
    addBulkJobsPerS: summarize(enqueue, 'jobs/s'),
    concurrency: config.worker.concurrency,
    jobsPerRound: p.jobs,
  };
}
