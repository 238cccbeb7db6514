import type { RedisClient } from '../queue/redis-connection.ts';
import type { Logger } from '../logging/logger.ts';
import { decodeBatchEntry, statsStreamKey, type BatchStatsEntry } from './stats-stream.ts';

export interface StatsWindowOptions {
  connection: RedisClient;
  prefix: string;
  /** Entries older than this (by ts) are dropped from memory. */
  retainMs: number;
  /** At most this many entries (batches) are kept; the oldest go first. */
  maxEntries: number;
  logger: Logger;
}

/** Entries per XRANGE call. */
const PAGE = 1000;

type XRangeReply = [id: string, fields: string[]][];

/**
 * The stats stream's recent entries, held in memory and read incrementally: each refresh asks
 * Redis only for the entries after the last one seen (XRANGE (lastId + COUNT …), so reading
 * costs Redis in proportion to the batch rate, never to the window's size. The first refresh
 * reads the retained period back from the stream (bounded by its MAXLEN).
 */
export function createStatsWindow(options: StatsWindowOptions) {
  const key = statsStreamKey(options.prefix);
  const log = options.logger.child({ component: 'stats-window', stream: key });
  let entries: BatchStatsEntry[] = [];
  let lastId: string | undefined;
  let malformed = 0;
  const listeners: ((added: readonly BatchStatsEntry[]) => void)[] = [];

  return {
    key,
    /** The entries held, in stream order. Do not mutate. */
    entries: (): readonly BatchStatsEntry[] => entries,
    /** Called with every batch of entries read (Prometheus histograms and counters). */
    onEntries(listener: (added: readonly BatchStatsEntry[]) => void): void {
      listeners.push(listener);
    },
    /** Reads the entries appended since the last refresh and drops the ones out of the window. */
    async refresh(now: number): Promise<number> {
      const added: BatchStatsEntry[] = [];
      let cursor = lastId; // committed only once every page is read: a failed refresh loses nothing
      for (;;) {
        const start = cursor === undefined ? `${Math.max(0, now - options.retainMs)}-0` : `(${cursor}`;
        const page = (await options.connection.xrange(key, start, '+', 'COUNT', PAGE)) as XRangeReply;
        for (const [id, fields] of page) {
          const entry = decodeBatchEntry(id, fields);
          if (entry) added.push(entry);
          else if (malformed++ === 0) log.warn({ id }, 'skipping a malformed stats entry (logged once)');
          cursor = id;
        }
        // Stop at the end of the stream, or after one window's worth (the rest comes next time).
        if (page.length < PAGE || added.length >= options.maxEntries) break;
      }
      lastId = cursor;
      const cutoff = now - options.retainMs;
      entries = entries.concat(added).filter((e) => e.ts >= cutoff);
      if (entries.length > options.maxEntries) entries = entries.slice(entries.length - options.maxEntries);
      if (added.length > 0) {
        for (const listener of listeners) {
          try {
            listener(added);
          } catch (err) {
            log.error({ err }, 'stats entry listener failed');
          }
        }
      }
      return added.length;
    },
  };
}

export type StatsWindow = ReturnType<typeof createStatsWindow>;
