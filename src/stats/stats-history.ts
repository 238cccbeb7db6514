/**
 * The stats service's own history: every STATS_HISTORY_INTERVAL_S it records one point
 * (history-point.ts) in the Redis stream `${QUEUE_PREFIX}:sf:stats:history`, so that a freshly
 * opened dashboard draws the past (`GET /v1/stats/history`), a restarted service keeps it and its
 * replicas share one history.
 *
 * - Bounded: XADD … MAXLEN = STATS_HISTORY_POINTS (exact trim; 720 points ≈ 0.35 MB).
 * - One point per slot, whichever replica records it: a point's stream id is its slot's start
 *   (`<slotMs>-0`), and Redis refuses an id not greater than the stream's last one, so a second
 *   replica (or a second tick in the same slot) records nothing.
 */
import type { Logger } from '../logging/logger.ts';
import type { RedisClient } from '../queue/redis-connection.ts';
import { historyValues, type HistoryPoint, type HistoryValues } from './history-point.ts';
import type { FleetStats } from './fleet-stats.ts';

export function historyStreamKey(prefix: string): string {
  return `${prefix}:sf:stats:history`;
}

/** The start (epoch ms) of the slot that holds time `t`. */
export function historySlot(t: number, intervalMs: number): number {
  return Math.floor(t / intervalMs) * intervalMs;
}

/** One XRANGE entry → a point; undefined when malformed (skipped). */
export function decodeHistoryEntry(id: string, fields: string[]): HistoryPoint | undefined {
  const ms = Number(id.split('-')[0]);
  const i = fields.indexOf('v');
  if (!Number.isFinite(ms) || i < 0 || i % 2 !== 0) return undefined;
  let values: unknown;
  try {
    values = JSON.parse(fields[i + 1] ?? '');
  } catch {
    return undefined;
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return undefined;
  const clean: HistoryValues = {};
  for (const [k, v] of Object.entries(values))
    if (v === null || (typeof v === 'number' && Number.isFinite(v))) clean[k] = v;
  return { at: new Date(ms).toISOString(), values: clean };
}

/** Stored values keep 4 decimals (a rate of 0.0001/s, a share of 0.01 %): JSON a third shorter than full doubles. */
function rounded(values: HistoryValues): HistoryValues {
  const out: HistoryValues = {};
  for (const [k, v] of Object.entries(values))
    out[k] = v === null || Number.isInteger(v) ? v : Math.round(v * 1e4) / 1e4;
  return out;
}

const isIdTooSmall = (err: unknown) =>
  err instanceof Error && /equal or smaller than the target stream top item/i.test(err.message);

export interface HistoryStoreOptions {
  connection: RedisClient;
  prefix: string;
  intervalS: number;
  /** Points kept (MAXLEN). */
  points: number;
}

export function createHistoryStore(options: HistoryStoreOptions) {
  const key = historyStreamKey(options.prefix);
  const intervalMs = options.intervalS * 1000;
  return {
    key,
    intervalSeconds: options.intervalS,
    points: options.points,
    /** Records `values` at time `t`'s slot; false when that slot (or a later one) is recorded already. */
    async append(t: number, values: HistoryValues): Promise<boolean> {
      try {
        await options.connection.xadd(
          key,
          'MAXLEN',
          '=',
          String(options.points),
          `${historySlot(t, intervalMs)}-0`,
          'v',
          JSON.stringify(rounded(values)),
        );
        return true;
      } catch (err) {
        if (isIdTooSmall(err)) return false;
        throw err;
      }
    },
    /**
     * The points of the retained period (points × interval) ending at `now`, oldest first; with
     * `after`, only the later ones (a client's incremental read).
     */
    async read(now: number, after?: number): Promise<HistoryPoint[]> {
      const from = Math.max(
        now - options.points * intervalMs,
        after === undefined ? 0 : historySlot(after, intervalMs) + 1,
      );
      const reply = (await options.connection.xrange(key, String(from), '+', 'COUNT', options.points)) as [
        string,
        string[],
      ][];
      const points: HistoryPoint[] = [];
      for (const [id, fields] of reply) {
        const p = decodeHistoryEntry(id, fields);
        if (p) points.push(p);
      }
      return points;
    },
  };
}

export type HistoryStore = ReturnType<typeof createHistoryStore>;

export interface HistoryRecorderOptions {
  collector: { collect: () => Promise<FleetStats> };
  store: Pick<HistoryStore, 'append' | 'intervalSeconds'>;
  logger: Logger;
  /** Injected in tests; defaults to Date.now. */
  now?: () => number;
}

/**
 * Records a point every interval (a collect, cached and shared with the other callers, then one
 * XADD in the slot of the tick's time). A tick still running when the next is due is not doubled; a failed one is logged (once
 * until one succeeds) and retried at the next. `close()` stops it; safe twice.
 */
export function startHistoryRecorder(options: HistoryRecorderOptions) {
  const log = options.logger.child({ component: 'stats-history' });
  const now = options.now ?? Date.now;
  let running: Promise<void> | undefined;
  let failing = false;
  let recorded = 0;

  async function record(): Promise<void> {
    const startedAt = now();
    try {
      const stats = await options.collector.collect();
      // The slot is the tick's: a document served from the collector's cache (STATS_CACHE_MS) may
      // have been computed in the previous slot, which would then be refused as recorded.
      if (await options.store.append(startedAt, historyValues(stats))) recorded++;
      if (failing) log.info('stats history recorded again');
      failing = false;
    } catch (err) {
      if (!failing) log.warn({ err }, 'stats history point not recorded (Redis?): retrying every interval');
      failing = true;
    }
  }

  const tick = (): Promise<void> =>
    (running ??= record().finally(() => {
      running = undefined;
    }));

  const timer = setInterval(() => void tick(), options.store.intervalSeconds * 1000);
  timer.unref();
  void tick();
  return {
    /** Records a point now (tests; the timer calls it). */
    tick,
    /** Points this process recorded (not counting slots another replica recorded first). */
    recorded: () => recorded,
    async close(): Promise<void> {
      clearInterval(timer);
      await running;
    },
  };
}

export type HistoryRecorder = ReturnType<typeof startHistoryRecorder>;
