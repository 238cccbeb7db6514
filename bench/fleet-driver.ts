/**
 * Drives the fleet for the benchmark: N worker processes (the real entrypoint, compiled as the
 * image runs it: dist/workers/inference-worker.js, built once per bench process) on a local redis-server, the producer (createReviewProducer) in this process, and
 * the results queue as the finish line (no sink runs).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../src/config/load-config.ts';
import type { LocalRedis } from '../src/dev/local-redis.ts';
import { createReviewProducer } from '../src/queue/review-producer.ts';
import { createLogger } from '../src/logging/logger.ts';
import type { BenchReview } from './bench-texts.ts';
import type { Measure } from './report.ts';
import { percentile, sleep, summarize } from './measure-stats.ts';

const root = path.resolve(import.meta.dirname, '..');
const logger = createLogger({ level: 'warn', format: 'json' });

export interface Fleet {
  children: ChildProcess[];
  ready: WorkerReady[];
  redis: LocalRedis;
  config: Config;
  connection: Redis;
  producer: ReturnType<typeof createReviewProducer>;
  /** The reviews queue (its BullMQ metrics count completed review jobs). */
  reviews: Queue;
  results: Queue;
  /** SIGTERMs every worker; returns each one's peak and final RSS (from /proc, read just before). */
  stop(): Promise<{ vmHwmKb: number; vmRssKb: number }[]>;
}

export interface FleetOptions {
  /** Worker processes (default 1). */
  workers?: number;
  /** Extra node flags for the workers (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

let fleetSeq = 0;

/** What the worker's "worker ready" log line says about its batch policy (read from its stdout). */
export interface WorkerReady {
  batchPolicy?: { policy: string; maxTokens: number; maxSize: number };
}

let built = false;

/** `npm run build` once per bench process, so that the workers run the current sources. */
function buildOnce(): void {
  if (built) return;
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules/@typescript/native/bin/tsc'), '-p', 'tsconfig.build.json'],
    { cwd: root, stdio: 'inherit' },
  );
  built = true;
}

function spawnWorker(env: NodeJS.ProcessEnv, nodeArgs: string[]): Promise<{ child: ChildProcess; ready: WorkerReady }> {
  buildOnce();
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'dist/workers/inference-worker.js')], {
    cwd: root,
    env: { ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let ready: WorkerReady = {};
  // Keep reading (and dropping) its log so that the pipe never fills.
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.includes('"worker ready"')) return;
    try {
      ready = JSON.parse(line) as WorkerReady;
    } catch {
      // not JSON: ignore
    }
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('worker not ready within 180 s')), 180_000);
    child.on('message', (m: { type?: string }) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        // The IPC message and the log line race; the log line follows within a tick or two.
        setTimeout(() => resolve({ child, ready }), 50);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}`));
    });
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/** Where the CPU went during a run: seconds of CPU per second of wall time, per process. */
export interface CpuShares {
  workers: number;
  redis: number;
  benchProcess: number;
}

function memoryOf(child: ChildProcess): { vmHwmKb: number; vmRssKb: number } {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { vmHwmKb: kb('VmHWM'), vmRssKb: kb('VmRSS') };
}

export async function startFleet(
  redis: LocalRedis,
  modelDir: string,
  extra: Record<string, string>,
  options: FleetOptions = {},
): Promise<Fleet> {
  const env = {
    ...process.env,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: `bench${++fleetSeq}`,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'warn',
    KEEP_COMPLETED_COUNT: '1000',
    MODEL_DIR: modelDir,
    ...extra,
  };
  const config = loadConfig(env);
  // One after the other: a 2-core machine loads models faster that way, and ready means warmed up.
  const children: ChildProcess[] = [];
  const ready: WorkerReady[] = [];
  for (let i = 0; i < (options.workers ?? 1); i++) {
    const w = await spawnWorker(env, options.nodeArgs ?? []);
    children.push(w.child);
    ready.push(w.ready);
  }
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const producer = createReviewProducer({ config, connection, logger });
  const results = new Queue(config.queues.results, { connection, prefix: config.redis.prefix });
  const reviews = new Queue(config.queues.reviews, { connection, prefix: config.redis.prefix });
  return {
    children,
    ready,
    redis,
    config,
    connection,
    producer,
    reviews,
    results,
    async stop() {
      const memory = children.map(memoryOf);
      await Promise.all(
        children.map(async (child) => {
          const exited = new Promise<void>((r) => child.once('exit', () => r()));
          child.kill('SIGTERM');
          await Promise.race([exited, sleep(30_000)]);
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        }),
      );
      await producer.close();
      await results.close();
      await reviews.close();
      await connection.quit();
      return memory;
    },
  };
}

/** The results in a result job: a batch job holds several (ResultBatch), a single-result job one. */
function resultsOf(data: unknown): { reviewId?: string; batchSize?: number }[] {
  const batch = (data as { results?: unknown } | undefined)?.results;
  return Array.isArray(batch) ? (batch as { reviewId?: string }[]) : [data as { reviewId?: string }];
}

/** Where the next closed-loop round starts in each text set: rounds sweep through the set. */
const cursors = new WeakMap<readonly BenchReview[], number>();

let runSeq = 0;

function cpuNow(fleet: Fleet): CpuShares {
  const self = process.cpuUsage();
  return {
    workers: fleet.children.reduce((s, c) => s + cpuSecondsOf(c.pid), 0),
    redis: cpuSecondsOf(fleet.redis.pid),
    benchProcess: (self.user + self.system) / 1e6,
  };
}

/** Review jobs completed so far (the workers' BullMQ metrics counter: one small read). */
async function completedReviews(fleet: Fleet): Promise<number> {
  return (await fleet.reviews.getMetrics('completed', 0, 0)).meta.count;
}

/**
 * Waits until the completed-review counter reaches `target`; returns how many of `n` completed.
 * The counter is read every 5% of the time waited so far (10–100 ms): a round's clock stops at
 * its last job's `finishedOn` (lastCompletedAt), not at the read that sees it, so reading rarely
 * costs no precision. Waking up is dear on this machine: reading every 5 ms took the bench process
 * ~0.15–0.19 of a core (1.2 ms of CPU per read; the bare 5 ms timer alone 0.06), CPU that the fleet
 * under test lost in every round and the in-process peer did not.
 */
async function waitCompleted(fleet: Fleet, before: number, n: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let done = 0;
  while (performance.now() - started < timeoutMs) {
    done = (await completedReviews(fleet)) - before;
    if (done >= n) break;
    await sleep(Math.min(100, Math.max(10, (performance.now() - started) / 20)));
  }
  return Math.min(done, n);
}

/** When the latest review job completed (its finishedOn, the worker's clock: ms since the epoch). */
async function lastCompletedAt(fleet: Fleet): Promise<number> {
  const [job] = await fleet.reviews.getJobs(['completed'], 0, 0, false);
  return job?.finishedOn ?? NaN;
}

/**
 * Closed loop: enqueue n reviews of the set from `start` (default: where the previous round on
 * this set stopped), producer addBulk chunks, and time until all n review jobs have completed — a
 * review job completes only after its batch's results are in the results queue, and counting
 * completions costs one small read, where reading the result jobs would load the bench process
 * with the work of a sink. Returns reviews/s, tokens/s (the tokens the model sees per review,
 * `tokens[i]` for `reviews[i]`, when given) and the CPU each party used per second of wall time.
 */
export async function closedLoop(
  fleet: Fleet,
  reviews: readonly BenchReview[],
  n: number,
  tokens?: readonly number[],
  start?: number,
): Promise<{ reviewsPerS: number; tokensPerS: number; cpu: CpuShares }> {
  await fleet.results.drain();
  const tag = `c${++runSeq}`;
  const from = start ?? cursors.get(reviews) ?? 0;
  if (start === undefined) cursors.set(reviews, (from + n) % reviews.length);
  const batch = Array.from({ length: n }, (_, i) => ({ ...reviews[(from + i) % reviews.length]!, id: `${tag}-${i}` }));
  const batchTokens = tokens
    ? Array.from({ length: n }, (_, i) => tokens[(from + i) % reviews.length]!).reduce((a, b) => a + b, 0)
    : NaN;
  const before = await completedReviews(fleet);
  const cpu0 = cpuNow(fleet);
  const t0 = performance.now();
  const t0Wall = Date.now();
  const enqueued = (async () => {
    for (let i = 0; i < n; i += 2000) await fleet.producer.enqueueMany(batch.slice(i, i + 2000));
  })();
  const got = await waitCompleted(fleet, before, n, 300_000);
  await enqueued;
  const waited = (performance.now() - t0) / 1000;
  const cpu1 = cpuNow(fleet);
  // The round ends when its last job completed (all n did), else when the wait gave up.
  const last = got === n ? ((await lastCompletedAt(fleet)) - t0Wall) / 1000 : NaN;
  const s = last > 0 && last <= waited ? last : waited;
  await fleet.results.drain();
  const cpu = {
    workers: (cpu1.workers - cpu0.workers) / waited,
    redis: (cpu1.redis - cpu0.redis) / waited,
    benchProcess: (cpu1.benchProcess - cpu0.benchProcess) / waited,
  };
  return { reviewsPerS: got / s, tokensPerS: (batchTokens * (got / n)) / s, cpu };
}

export interface FleetThroughput {
  reviewsPerS: Measure;
  tokensPerS: Measure;
  reviewsPerRound: number;
  /** CPU shares during the last round. */
  cpu: CpuShares;
}

/**
 * Fleets side by side on one set: a warm-up round per fleet estimates its speed, and every round
 * is sized from the median estimate to about `seconds`. The rounds interleave (round r of every
 * fleet, then `between(start, n)`, e.g. the in-process peer on the same reviews, then round r + 1
 * …), and round r of every party scores the very same n reviews, so that neither the machine's
 * drifting speed nor the texts' lengths (cost per token grows with length) favour one of them.
 */
export async function interleavedThroughput(
  fleets: readonly Fleet[],
  reviews: readonly BenchReview[],
  p: { rounds: number; seconds: number; warmup: number },
  tokens?: readonly number[],
  between?: (start: number, n: number) => Promise<void>,
): Promise<FleetThroughput[]> {
  const estimates: number[] = [];
  for (const fleet of fleets) estimates.push((await closedLoop(fleet, reviews, p.warmup, tokens)).reviewsPerS);
  const n = Math.max(20, Math.min(60_000, Math.round(summarize(estimates, 'reviews/s').median * p.seconds)));
  const rounds = fleets.map(() => [] as Awaited<ReturnType<typeof closedLoop>>[]);
  for (let r = 0; r < p.rounds; r++) {
    const start = cursors.get(reviews) ?? 0;
    for (const [i, fleet] of fleets.entries()) rounds[i]!.push(await closedLoop(fleet, reviews, n, tokens, start));
    await between?.(start, n);
    cursors.set(reviews, (start + n) % reviews.length);
  }
  return rounds.map((list) => ({
    reviewsPerS: summarize(
      list.map((x) => x.reviewsPerS),
      'reviews/s',
    ),
    tokensPerS: summarize(
      list.map((x) => x.tokensPerS),
      'tokens/s',
    ),
    reviewsPerRound: n,
    cpu: list.at(-1)!.cpu,
  }));
}

/** One fleet's closed-loop throughput on a set (interleavedThroughput of one). */
export async function fleetThroughput(
  fleet: Fleet,
  reviews: readonly BenchReview[],
  p: { rounds: number; seconds: number; warmup: number },
  tokens?: readonly number[],
): Promise<FleetThroughput> {
  return (await interleavedThroughput([fleet], reviews, p, tokens))[0]!;
}

/**
 * Seconds of load at the open loop's rate before the measured window. A fleet that was idle (the
 * other variants' rounds, the peer) answers the first second or two of load more slowly: in three
 * 10 s runs at 1,500 reviews/s (default model, 2 cores, 2026-12-01) the worst half-second of the
 * first two had a p99 of 366, 245 and 154 ms, the rest of the run 186, 157 and 93 ms. The window
 * after the warm-up is the steady state that "latency at X% load" means; the warm-up's own p99
 * is reported too.
 */
export const OPEN_LOOP_WARMUP_S = 2;

/**
 * Open loop: review i is due at t0 + i/rate; latency = result job timestamp − scheduled arrival
 * (no coordinated omission). The first `warmupSeconds` of reviews are sent at the same rate but
 * counted apart (warmupP99Ms); the percentiles are those of the `seconds` after them.
 */
export async function openLoop(
  fleet: Fleet,
  reviews: readonly BenchReview[],
  rate: number,
  seconds: number,
  warmupSeconds = OPEN_LOOP_WARMUP_S,
) {
  await fleet.results.drain();
  const tag = `o${++runSeq}`;
  const warm = Math.round(rate * warmupSeconds);
  const total = warm + Math.max(1, Math.round(rate * seconds));
  const before = await completedReviews(fleet);
  const t0 = Date.now() + 50;
  const due = (i: number): number => t0 + (i * 1000) / rate;
  let sent = 0;
  let maxLagMs = 0;
  while (sent < total) {
    const now = Date.now();
    const upTo = Math.min(total, Math.floor(((now - t0) * rate) / 1000) + 1);
    if (upTo > sent) {
      if (sent >= warm) maxLagMs = Math.max(maxLagMs, now - due(sent));
      const chunk = Array.from({ length: upTo - sent }, (_, j) => ({
        ...reviews[(sent + j) % reviews.length]!,
        id: `${tag}-${sent + j}`,
      }));
      sent = upTo;
      await fleet.producer.enqueueMany(chunk);
    }
    await sleep(Math.max(0, Math.min(5, due(sent) - Date.now())));
  }
  await waitCompleted(fleet, before, total, 120_000);
  const jobs = await fleet.results.getJobs(['waiting'], 0, -1);
  const batchSizes: number[] = [];
  const latencies: number[] = [];
  const warmLatencies: number[] = [];
  for (const j of jobs) {
    for (const data of resultsOf(j.data)) {
      const id = data.reviewId ?? '';
      if (!id.startsWith(`${tag}-`)) continue;
      const i = Number(id.slice(tag.length + 1));
      if (i < warm) {
        warmLatencies.push(j.timestamp - due(i));
        continue;
      }
      batchSizes.push(data.batchSize ?? NaN);
      latencies.push(j.timestamp - due(i));
    }
  }
  latencies.sort((a, b) => a - b);
  warmLatencies.sort((a, b) => a - b);
  await fleet.results.drain();
  const meanBatch = batchSizes.reduce((a, b) => a + b, 0) / Math.max(1, batchSizes.length);
  return {
    ratePerS: rate,
    seconds,
    warmupSeconds,
    offered: total - warm,
    completed: latencies.length,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? NaN,
    warmupP99Ms: percentile(warmLatencies, 99),
    maxEnqueueLagMs: maxLagMs,
    meanBatchSize: meanBatch,
  };
}
