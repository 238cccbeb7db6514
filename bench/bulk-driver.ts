/**
 * The bulk lane in the benchmark (issue 19): closed loops through chunk jobs, and live reviews in
 * an open loop while a backfill drains in the bulk lane, on a fleet of fleet-driver.ts (the same
 * worker processes serve both lanes). The finish line is the live lane's: results on the results
 * queue (a chunk job completes only after its results job is added), no sink.
 */
import { Queue } from 'bullmq';
import type { BenchReview } from './bench-texts.ts';
import { cpuSecondsOf, openLoop, type CpuShares, type Fleet } from './fleet-driver.ts';
import { sleep } from './measure-stats.ts';

const bulkQueues = new WeakMap<Fleet, Queue>();
let runSeq = 0;

/** The fleet's bulk queue (BULK_QUEUE), opened once per fleet; closed by closeBulk. */
export function bulkQueueOf(fleet: Fleet): Queue {
  let q = bulkQueues.get(fleet);
  if (!q)
    bulkQueues.set(
      fleet,
      (q = new Queue(fleet.config.queues.bulk, { connection: fleet.connection, prefix: fleet.config.redis.prefix })),
    );
  return q;
}

export async function closeBulk(fleet: Fleet): Promise<void> {
  await bulkQueues.get(fleet)?.close();
  bulkQueues.delete(fleet);
}

/** Chunk jobs completed so far (the workers' BullMQ metrics counter). */
async function completedChunks(fleet: Fleet): Promise<number> {
  return (await bulkQueueOf(fleet).getMetrics('completed', 0, 0)).meta.count;
}

async function lastChunkAt(fleet: Fleet): Promise<number> {
  const [job] = await bulkQueueOf(fleet).getJobs(['completed'], 0, 0, false);
  return job?.finishedOn ?? NaN;
}

function cpuNow(fleet: Fleet): CpuShares {
  const self = process.cpuUsage();
  return {
    workers: fleet.children.reduce((s, c) => s + cpuSecondsOf(c.pid), 0),
    redis: cpuSecondsOf(fleet.redis.pid),
    benchProcess: (self.user + self.system) / 1e6,
  };
}

/** Enqueues `reviews` in the bulk lane (8 chunks per call, as import does); returns the chunk jobs added. */
async function enqueueBulk(fleet: Fleet, reviews: readonly BenchReview[]): Promise<number> {
  let chunks = 0;
  const perCall = 8 * fleet.config.bulk.chunkSize;
  for (let i = 0; i < reviews.length; i += perCall)
    await fleet.producer.enqueueMany(reviews.slice(i, i + perCall), { lane: 'bulk', onChunk: () => void chunks++ });
  return chunks;
}

async function waitChunks(
  fleet: Fleet,
  before: number,
  target: () => number,
  enqueued: Promise<unknown>,
  timeoutMs: number,
): Promise<number> {
  const started = performance.now();
  let finished = false;
  void enqueued.then(() => (finished = true));
  let done = 0;
  while (performance.now() - started < timeoutMs) {
    done = (await completedChunks(fleet)) - before;
    if (finished && done >= target()) break;
    await sleep(Math.min(100, Math.max(10, (performance.now() - started) / 20)));
  }
  return done;
}

/**
 * Closed loop in the bulk lane: n reviews of the set from `start`, enqueued as chunk jobs, timed
 * from the first enqueue to the last chunk's completion (its results on the results queue).
 */
export async function bulkClosedLoop(
  fleet: Fleet,
  reviews: readonly BenchReview[],
  n: number,
  tokens?: readonly number[],
  start = 0,
): Promise<{ reviewsPerS: number; tokensPerS: number; cpu: CpuShares }> {
  await fleet.results.drain();
  const tag = `b${++runSeq}`;
  const batch = Array.from({ length: n }, (_, i) => ({ ...reviews[(start + i) % reviews.length]!, id: `${tag}-${i}` }));
  const batchTokens = tokens
    ? Array.from({ length: n }, (_, i) => tokens[(start + i) % reviews.length]!).reduce((a, b) => a + b, 0)
    : NaN;
  const before = await completedChunks(fleet);
  const cpu0 = cpuNow(fleet);
  const t0 = performance.now();
  const t0Wall = Date.now();
  let chunks = 0;
  const enqueued = enqueueBulk(fleet, batch).then((c) => (chunks = c));
  const done = await waitChunks(fleet, before, () => chunks, enqueued, 300_000);
  await enqueued;
  const waited = (performance.now() - t0) / 1000;
  const cpu1 = cpuNow(fleet);
  const last = done >= chunks ? ((await lastChunkAt(fleet)) - t0Wall) / 1000 : NaN;
  const s = last > 0 && last <= waited ? last : waited;
  await fleet.results.drain();
  const got = done >= chunks ? n : (n * done) / Math.max(1, chunks);
  const cpu = {
    workers: (cpu1.workers - cpu0.workers) / waited,
    redis: (cpu1.redis - cpu0.redis) / waited,
    benchProcess: (cpu1.benchProcess - cpu0.benchProcess) / waited,
  };
  return { reviewsPerS: got / s, tokensPerS: (batchTokens * (got / n)) / s, cpu };
}

/**
 * Live reviews in an open loop at `liveRate` (openLoop: latency from scheduled arrival to its
 * results job, after a warm-up) while a backfill of `backfill` reviews, enqueued in the bulk lane
 * just before (paused until the open loop starts), drains. Returns the live percentiles and the
 * backfill's rate over the open loop (chunks completed × chunk size per second, over the time to
 * its last chunk if it drained sooner), then waits for the rest of the backfill.
 */
export async function backfillWhileLive(
  fleet: Fleet,
  reviews: readonly BenchReview[],
  p: { backfill: number; liveRate: number; seconds: number },
) {
  // The same open loop without a backfill first: what the backfill costs live reviews.
  const solo = await openLoop(fleet, reviews, p.liveRate, p.seconds);
  const tag = `f${++runSeq}`;
  const backfill = Array.from({ length: p.backfill }, (_, i) => ({
    ...reviews[i % reviews.length]!,
    id: `${tag}-${i}`,
  }));
  const before = await completedChunks(fleet);
  // The backfill waits, paused, until the live loop starts: otherwise the workers drain part of it
  // while it is being enqueued, and it may be gone before the live window ends.
  const queue = bulkQueueOf(fleet);
  await queue.pause();
  const t0 = performance.now();
  const chunks = await enqueueBulk(fleet, backfill);
  const enqueueS = (performance.now() - t0) / 1000;
  const liveStart = performance.now();
  const liveStartWall = Date.now();
  const atLiveStart = await completedChunks(fleet);
  await queue.resume();
  const live = await openLoop(fleet, reviews, p.liveRate, p.seconds);
  const liveS = (performance.now() - liveStart) / 1000;
  const duringLive = (await completedChunks(fleet)) - atLiveStart;
  const size = fleet.config.bulk.chunkSize;
  const drained = (await completedChunks(fleet)) - before >= chunks;
  // Drained within the window: its rate is over the time it took (the last chunk's finishedOn).
  const lastS = drained ? ((await lastChunkAt(fleet)) - liveStartWall) / 1000 : NaN;
  const backfillRate = Math.min(p.backfill, duringLive * size) / (lastS > 0 && lastS < liveS ? lastS : liveS);
  await waitChunks(fleet, before, () => chunks, Promise.resolve(), 600_000);
  await fleet.results.drain();
  return {
    live,
    liveSolo: solo,
    backfill: p.backfill,
    chunkSize: size,
    enqueueS,
    liveWindowS: liveS,
    backfillReviewsPerS: backfillRate,
    drainedDuringLive: drained,
  };
}
