import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../src/logging/logger.ts';
import { CRASH_THREAD_SIGNAL } from './thread-crash.ts';
import type { ChaosDatabase } from './chaos-database.ts';
import type { ChaosFleet } from './chaos-fleet.ts';
import { loadSeconds, type ChaosOptions, type FaultKind } from './chaos-options.ts';

export interface PlannedFault {
  kind: FaultKind;
  /** Offset from the start of the load, ms. */
  atMs: number;
  /** Which worker (worker-kill, thread-crash). */
  workerIndex: number;
}

export interface FaultEvent {
  kind: FaultKind;
  plannedAtMs: number;
  /** When it was injected and when its remedy was done (restart ready, SIGCONT...), ms since epoch. */
  at: number;
  healedAt: number;
  target: string;
  /** Review ids the killed process held (worker-kill: its active review jobs; sink-kill: its active results). */
  inFlight: string[];
  detail: Record<string, unknown>;
  error?: string;
}

/**
 * The faults of one run, at seeded random times: the kinds are shuffled, the load's 10–85 % is
 * cut into one slot per fault, and each fault falls at a random point of its slot's first 60 %.
 */
export function planFaults(
  options: Pick<ChaosOptions, 'faults' | 'reviews' | 'rate' | 'workers'>,
  random: () => number,
): PlannedFault[] {
  const kinds = (Object.entries(options.faults) as [FaultKind, number][]).flatMap(([kind, n]) =>
    Array.from({ length: n }, () => kind),
  );
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  const durationMs = loadSeconds(options) * 1000;
  const start = durationMs * 0.1;
  const slot = (durationMs * 0.75) / Math.max(1, kinds.length);
  return kinds.map((kind, i) => ({
    kind,
    atMs: Math.round(start + slot * i + random() * slot * 0.6),
    workerIndex: Math.floor(random() * options.workers),
  }));
}

async function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return await Promise.race([promise.catch(() => fallback), late]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface FaultContext {
  fleet: ChaosFleet;
  db: ChaosDatabase;
  reviews: Queue;
  results: Queue;
  options: ChaosOptions;
  logger: Logger;
}

/** Active jobs of a queue whose worker name holds `/<pid>/` (all of them without a pid), as review ids. */
async function activeReviewIds(
  queue: Queue,
  pid: number | undefined,
  idsOf: (data: Record<string, unknown>) => unknown[],
): Promise<string[]> {
  const jobs = await withTimeout(queue.getActive(0, 2000), 2000, []);
  return jobs
    .filter((j) => pid === undefined || (j.processedBy ?? '').includes(`/${pid}/`))
    .flatMap((j) => idsOf(j.data as Record<string, unknown>))
    .filter((id): id is string => typeof id === 'string');
}

/** Waits (bounded) until the worker at `index` holds active jobs, so the kill lands mid-batch. */
async function waitUntilBusy(ctx: FaultContext, index: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await activeReviewIds(ctx.reviews, ctx.fleet.workers[index]!.pid, (d) => [d.id])).length > 0) return;
    await sleep(50);
  }
}

async function stopRedis(ctx: FaultContext, how: 'kill' | 'shutdown'): Promise<Record<string, unknown>> {
  if (how === 'kill') {
    await ctx.fleet.redis.kill('SIGKILL');
    return { signal: 'SIGKILL' };
  }
  const client = new Redis(ctx.fleet.redis.url, {
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.call('SHUTDOWN', 'NOSAVE').catch(() => undefined); // the connection closes instead of a reply
  } finally {
    client.disconnect();
  }
  const deadline = Date.now() + 10_000;
  while (ctx.fleet.redis.pid !== undefined && Date.now() < deadline) await sleep(20);
  if (ctx.fleet.redis.pid !== undefined) await ctx.fleet.redis.kill('SIGKILL');
  return { command: 'SHUTDOWN NOSAVE' };
}

/** Injects one fault and applies its remedy; never throws (a failed injection is recorded). */
export async function injectFault(ctx: FaultContext, planned: PlannedFault): Promise<FaultEvent> {
  const { fleet } = ctx;
  const event: FaultEvent = {
    kind: planned.kind,
    plannedAtMs: planned.atMs,
    at: Date.now(),
    healedAt: 0,
    target: '',
    inFlight: [],
    detail: {},
  };
  try {
    switch (planned.kind) {
      case 'worker-kill': {
        await waitUntilBusy(ctx, planned.workerIndex, 3000);
        const victim = fleet.workers[planned.workerIndex]!;
        event.inFlight = await activeReviewIds(ctx.reviews, victim.pid, (d) => [d.id]);
        event.target = `${victim.name} (pid ${victim.pid})`;
        event.at = Date.now();
        const next = await fleet.replaceWorker(planned.workerIndex);
        event.detail = { activeJobsAtKill: event.inFlight.length, replacementPid: next.pid };
        break;
      }
      case 'sink-kill': {
        const victim = fleet.sink;
        event.inFlight = await activeReviewIds(ctx.results, undefined, (d) =>
          Array.isArray(d.results) ? (d.results as { reviewId?: unknown }[]).map((r) => r.reviewId) : [d.reviewId],
        );
        event.target = `${victim.name} (pid ${victim.pid})`;
        event.at = Date.now();
        const next = await fleet.replaceSink();
        event.detail = { activeResultsAtKill: event.inFlight.length, replacementPid: next.pid };
        break;
      }
      case 'redis-kill':
      case 'redis-shutdown': {
        event.target = `redis-server (pid ${fleet.redis.pid})`;
        event.at = Date.now();
        event.detail = await stopRedis(ctx, planned.kind === 'redis-kill' ? 'kill' : 'shutdown');
        event.detail.downMs = Date.now() - event.at;
        await fleet.redis.restart();
        break;
      }
      case 'redis-pause': {
        event.target = `redis-server (pid ${fleet.redis.pid})`;
        event.at = Date.now();
        fleet.redis.pause();
        await sleep(ctx.options.pauseMs);
        fleet.redis.resume();
        event.detail = { pausedMs: Date.now() - event.at, lockDurationMs: ctx.options.lockDurationMs };
        break;
      }
      case 'pg-terminate': {
        event.target = `database ${ctx.db.name}`;
        event.at = Date.now();
        event.detail = { terminated: await ctx.db.terminateSinkConnections() };
        break;
      }
      case 'thread-crash': {
        await waitUntilBusy(ctx, planned.workerIndex, 3000);
        const victim = fleet.workers[planned.workerIndex]!;
        event.target = `${victim.name} (pid ${victim.pid})`;
        const seen = fleet.events.length;
        event.at = Date.now();
        victim.child.kill(CRASH_THREAD_SIGNAL);
        // The fault fires with the worker's next batch: wait (bounded) for the thread's replacement.
        const deadline = Date.now() + 10_000;
        let replaced: number | undefined;
        while (replaced === undefined && Date.now() < deadline) {
          replaced = fleet.events
            .slice(seen)
            .find((e) => e.pid === victim.pid && e.msg === 'replacing inference thread')?.at;
          if (replaced === undefined) await sleep(20);
        }
        event.detail = {
          threadReplaced: replaced !== undefined,
          replacedAfterMs: replaced === undefined ? null : replaced - event.at,
        };
        break;
      }
    }
  } catch (err) {
    event.error = (err as Error).message;
    ctx.logger.error({ err, fault: planned.kind }, 'fault injection failed');
  }
  event.healedAt = Date.now();
  ctx.logger.info(
    {
      fault: event.kind,
      target: event.target,
      inFlight: event.inFlight.length,
      ...event.detail,
      tookMs: event.healedAt - event.at,
    },
    'fault injected',
  );
  return event;
}
