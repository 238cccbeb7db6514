/**
 * Queue-side stats from BullMQ's own bookkeeping, without scanning jobs: job counts (one
 * script), the oldest waiting job (the tail of the wait list: BullMQ LPUSHes new jobs and
 * workers take from the right, so `getWaiting(0, 0)`, ascending, is one LRANGE -1 -1 plus
 * that job's hash), per-minute metrics (a hash and a capped list) and the workers (CLIENT LIST).
 */
import type { Metrics, Queue } from 'bullmq';
import { parseWorkerName } from '../contracts/worker-name.ts';
import { readFailureStats } from './failure-reasons.ts';
import { JOB_STATES, type FleetStats, type QueueStats, type WorkerInfo } from './fleet-stats.ts';

const MINUTE_MS = 60_000;

/**
 * Counts per state, and the age of the oldest waiting job. BullMQ 6 has no paused list: a
 * paused queue keeps its jobs in the wait list, so they are reported as `paused` (and
 * `waiting` 0) while the queue is paused, as earlier BullMQ versions did.
 */
export async function readQueueStats(queue: Queue, now: number): Promise<QueueStats> {
  const [counts, paused, oldest, failures] = await Promise.all([
    queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized'),
    queue.isPaused(),
    queue.getWaiting(0, 0),
    readFailureStats(queue),
  ]);
  const byState = Object.fromEntries(JOB_STATES.map((s) => [s, counts[s] ?? 0])) as QueueStats['counts'];
  if (paused) {
    byState.paused = byState.waiting;
    byState.waiting = 0;
  }
  const timestamp = oldest[0]?.timestamp;
  return {
    counts: byState,
    oldestWaitingAgeMs: typeof timestamp === 'number' ? Math.max(0, now - timestamp) : null,
    failures,
  };
}

/**
 * Finished jobs per UTC minute from BullMQ metrics, the `minutes` minutes up to now's (oldest
 * first). BullMQ keeps, per queue and type, `count` (all time), `prevTS` (time of the last
 * job that closed a minute) and `prevCount`, and a list whose head is the minute before
 * prevTS's: so prevTS's minute holds count − prevCount, earlier minutes are data[0], data[1], …,
 * and minutes after prevTS's had none. `data` must reach `minutes` points back (getMetrics 0..59).
 */
export function metricsPerMinute(metrics: Metrics, now: number, minutes = 60): Map<number, number> {
  const nowMinute = Math.floor(now / MINUTE_MS);
  const out = new Map<number, number>();
  for (let m = nowMinute - minutes + 1; m <= nowMinute; m++) out.set(m, 0);
  const { count, prevTS, prevCount } = metrics.meta;
  if (!(prevTS > 0)) return out;
  const lastMinute = Math.floor(prevTS / MINUTE_MS);
  if (out.has(lastMinute)) out.set(lastMinute, Math.max(0, count - prevCount));
  metrics.data.forEach((value, i) => {
    const m = lastMinute - 1 - i;
    if (out.has(m)) out.set(m, value);
  });
  return out;
}

export function throughputStats(completed: Metrics, failed: Metrics, now: number): FleetStats['throughput'] {
  const c = metricsPerMinute(completed, now);
  const f = metricsPerMinute(failed, now);
  return {
    perMinute: [...c.entries()].map(([minute, n]) => ({
      minute: new Date(minute * MINUTE_MS).toISOString(),
      completed: n,
      failed: f.get(minute) ?? 0,
    })),
    totals: { completed: completed.meta.count, failed: failed.meta.count },
  };
}

export async function readThroughput(queue: Queue, now: number): Promise<FleetStats['throughput']> {
  const [completed, failed] = await Promise.all([
    queue.getMetrics('completed', 0, 59),
    queue.getMetrics('failed', 0, 59),
  ]);
  return throughputStats(completed, failed, now);
}

/**
 * Workers from BullMQ's getWorkers() (one entry per named Redis connection of a worker,
 * `rawname` = `${prefix}:${base64 queue}:w:${worker name}`), one per process: connections
 * counts that process's connections. Unparseable names are listed under their address.
 */
export function parseWorkers(clients: readonly Record<string, string>[]): WorkerInfo[] {
  const byProcess = new Map<string, WorkerInfo>();
  for (const client of clients) {
    const raw = client.rawname ?? '';
    const at = raw.indexOf(':w:');
    const name = at >= 0 ? raw.slice(at + 3) : '';
    const parts = parseWorkerName(name);
    const info: WorkerInfo = parts
      ? { ...parts, connections: 0 }
      : {
          host: (client.addr ?? 'unknown').replace(/:\d+$/, ''),
          pid: 0,
          model: 'unknown',
          version: 'unknown',
          connections: 0,
        };
    const key = `${info.host}\n${info.pid}\n${info.model}\n${info.version}`;
    const known = byProcess.get(key) ?? info;
    known.connections++;
    byProcess.set(key, known);
  }
  return [...byProcess.values()].sort((a, b) => a.host.localeCompare(b.host) || a.pid - b.pid);
}

export async function readWorkers(queue: Queue): Promise<WorkerInfo[]> {
  return parseWorkers(await queue.getWorkers());
}
