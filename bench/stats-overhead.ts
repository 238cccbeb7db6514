/**
 * Does polling the stats service slow the fleet? One run, side by side: a local redis-server,
 * one inference worker process (workers/inference-worker.ts) and two stats service processes
 * (workers/stats-server.ts: one with the default STATS_CACHE_MS=1000, one with 0 so that every
 * poll computes a document). Each round enqueues N reviews and times them until completed, in
 * three modes, order rotated per round: no poller; GET /v1/stats every 100 ms on the cached
 * server; the same on the uncached one. Prints reviews/s per mode (median and mean of the
 * rounds), the CPU time the polled stats process and Redis spent per round, and the stats
 * requests' latency.
 *
 *   node --import tsx bench/stats-overhead.ts [reviews=20000] [rounds=3]
 *   MODEL_DIR, BATCH_MAX_SIZE, INFERENCE_THREADS … apply to the worker as usual.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/load-config.ts';
import { findFreePort, startLocalRedis } from '../src/dev/local-redis.ts';
import { createReviewProducer } from '../src/queue/review-producer.ts';
import { createLogger } from '../src/logging/logger.ts';

const root = path.resolve(import.meta.dirname, '..');
const [count = 20_000, rounds = 3] = process.argv.slice(2).map(Number);
const logger = createLogger({ level: 'warn', format: 'json' });
const redis = await startLocalRedis();
// Completed reviews are kept briefly, and results are dropped after each round (no sink runs):
// Redis stays small, so later rounds are not slower for a reason unrelated to the poller.
const env = {
  ...process.env,
  REDIS_URL: redis.url,
  QUEUE_PREFIX: 'bench',
  LOG_FORMAT: 'json',
  LOG_LEVEL: 'warn',
  KEEP_COMPLETED_COUNT: '1000',
};
const config = loadConfig(env);

function spawnEntry(entry: string, extra: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(root, entry)], {
    cwd: root,
    env: { ...env, ...extra },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const worker = spawnEntry('workers/inference-worker.ts', {});
await new Promise<void>((resolve, reject) => {
  worker.on('message', (m: { type?: string }) => m.type === 'ready' && resolve());
  worker.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
});
const statsServers: Record<string, { url: string; child: ChildProcess }> = {};
for (const [name, cacheMs] of [
  ['cached', '1000'],
  ['uncached', '0'],
] as const) {
  const port = await findFreePort();
  const child = spawnEntry('workers/stats-server.ts', {
    STATS_HTTP_PORT: String(port),
    STATS_CACHE_MS: cacheMs,
    HTTP_HOST: '127.0.0.1',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/readyz`)).ok, `stats server ${name}`);
  statsServers[name] = { url, child };
}

const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
const producer = createReviewProducer({ config, connection, logger });
const reviewsQueue = new Queue(config.queues.reviews, { connection, prefix: config.redis.prefix });
const resultsQueue = new Queue(config.queues.results, { connection, prefix: config.redis.prefix });

const WORDS = [
  'great',
  'battery',
  'love',
  'screen',
  'broke',
  'after',
  'a',
  'week',
  'waste',
  'of',
  'money',
  'fast',
  'delivery',
  'works',
  'fine',
  'terrible',
  'sound',
  'quality',
];
function text(i: number): string {
  const n = 12 + (i % 40);
  return Array.from({ length: n }, (_, k) => WORDS[(i * 7 + k * 13) % WORDS.length]).join(' ');
}

/** CPU seconds (user + system) a process has used so far (Linux /proc; 0 elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

async function redisCpuSeconds(): Promise<number> {
  const info = await connection.info('cpu');
  const value = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return value('used_cpu_sys') + value('used_cpu_user');
}

type Mode = 'none' | 'cached' | 'uncached';
let sent = 0;
let completedTarget = 0;

interface RoundResult {
  reviewsPerSecond: number;
  polls: number;
  pollMs: number[];
  /** CPU seconds of both stats processes during the round. */
  statsCpu: number;
  redisCpu: number;
}

async function round(mode: Mode): Promise<RoundResult> {
  const pollMs: number[] = [];
  const statsPids = Object.values(statsServers).map((s) => s.child.pid);
  const statsCpuNow = () => statsPids.reduce<number>((a, pid) => a + cpuSeconds(pid), 0);
  const statsCpu0 = statsCpuNow();
  const redisCpu0 = await redisCpuSeconds();
  let timer: NodeJS.Timeout | undefined;
  if (mode !== 'none') {
    const url = `${statsServers[mode]!.url}/v1/stats`;
    timer = setInterval(() => {
      const t = performance.now();
      void fetch(url).then(
        async (r) => {
          await r.arrayBuffer();
          if (r.ok) pollMs.push(performance.now() - t);
        },
        () => undefined,
      );
    }, 100);
  }
  const batch = Array.from({ length: count }, (_, i) => ({ id: `b-${sent + i}`, text: text(sent + i) }));
  sent += count;
  completedTarget += count;
  const started = performance.now();
  await producer.enqueueMany(batch);
  // BullMQ's all-time completed counter (the completed set itself is capped at KEEP_COMPLETED_COUNT).
  await waitFor(
    async () => (await reviewsQueue.getMetrics('completed', 0, 0)).meta.count >= completedTarget,
    'a round',
    600_000,
  );
  const seconds = (performance.now() - started) / 1000;
  if (timer) clearInterval(timer);
  const statsCpu = statsCpuNow() - statsCpu0;
  const redisCpu = (await redisCpuSeconds()) - redisCpu0;
  await resultsQueue.drain(); // not timed
  return { reviewsPerSecond: Math.round(count / seconds), polls: pollMs.length, pollMs, statsCpu, redisCpu };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));
const modes: Mode[] = ['none', 'cached', 'uncached'];
await round('none'); // warm-up
const results: Record<Mode, RoundResult[]> = { none: [], cached: [], uncached: [] };
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < modes.length; k++) {
    const mode = modes[(r + k) % modes.length]!;
    const result = await round(mode);
    results[mode].push(result);
    console.error(
      `round ${r + 1} ${mode}: ${result.reviewsPerSecond} reviews/s (${result.polls} polls, stats CPU ${result.statsCpu.toFixed(2)} s, redis CPU ${result.redisCpu.toFixed(2)} s)`,
    );
  }
}
const stats = (await (await fetch(`${statsServers.cached!.url}/v1/stats`)).json()) as {
  latency: unknown;
  batchSizes: { mean: number };
};
const baseline = median(results.none.map((r) => r.reviewsPerSecond));
const summary = (mode: Mode) => {
  const rs = results[mode];
  const rates = rs.map((r) => r.reviewsPerSecond);
  const seconds = rs.reduce((a, r) => a + count / r.reviewsPerSecond, 0);
  const pollMs = rs.flatMap((r) => r.pollMs);
  return {
    reviewsPerSecond: {
      median: median(rates),
      mean: Math.round(mean(rates)),
      sd: Math.round(sd(rates)),
      rounds: rates,
    },
    vsNoPollerMedian: Number((median(rates) / baseline - 1).toFixed(3)),
    statsCpuPerSecond: Number((rs.reduce((a, r) => a + r.statsCpu, 0) / seconds).toFixed(3)),
    redisCpuPer1000Reviews: Number(((rs.reduce((a, r) => a + r.redisCpu, 0) / (count * rs.length)) * 1000).toFixed(4)),
    ...(pollMs.length > 0
      ? {
          polls: pollMs.length,
          requestMs: { p50: Number(median(pollMs).toFixed(2)), max: Number(Math.max(...pollMs).toFixed(2)) },
        }
      : {}),
  };
};
console.log(
  JSON.stringify(
    {
      reviewsPerRound: count,
      rounds,
      batchMaxSize: config.batching.maxSize,
      model: path.basename(config.model.dir),
      noPoller: summary('none'),
      poll100msCached: summary('cached'),
      poll100msUncached: summary('uncached'),
      lastStats: { latency: stats.latency, meanBatchSize: stats.batchSizes.mean },
    },
    null,
    2,
  ),
);

await producer.close();
await reviewsQueue.close();
await resultsQueue.close();
connection.disconnect();
for (const child of [worker, ...Object.values(statsServers).map((s) => s.child)]) {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
await redis.stop();
