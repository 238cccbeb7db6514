/**
 * The bulk lane's backlog (BULK_QUEUE, src/contracts/bulk-job.ts) in chunks and in reviews. A
 * chunk job's name records its size (`chunk:256`), so the reviews are counted from job names: one
 * LRANGE / ZRANGE of the waiting and delayed ids and one pipelined HGET of each job's name, never
 * the job data. At most BULK_SIZE_SCAN_MAX chunks are read per collect; chunks beyond them, chunks
 * without a recorded size (bare `chunk`) and prioritized ones count BULK_CHUNK_SIZE each: the
 * figure is then an upper bound, and says so (`reviewsBasis: 'upper-bound'`).
 */
import type { Queue } from 'bullmq';
import { bulkJobSize } from '../contracts/bulk-job.ts';
import type { RedisClient } from '../queue/redis-connection.ts';
import type { QueueStats } from './fleet-stats.ts';

/**
 * Chunk names read per collect: 5,000 chunks are 1.28 M reviews at BULK_CHUNK_SIZE 256. Measured
 * (2-core host shared with other jobs, local Redis 7, 30 reads): 5,000 chunks 31.6 ms median
 * (p90 51.8), 1,000 chunks 6.5 ms, against 0.13 ms for the job counts alone: at most once per
 * STATS_CACHE_MS (1 s), and each HGET is O(1) for Redis, which never blocks on it.
 */
export const BULK_SIZE_SCAN_MAX = 5000;

export interface BulkBacklogCount {
  /** Chunk jobs not yet taken: waiting + prioritized + delayed + paused. */
  chunks: number;
  /** Reviews in them (exact, or an upper bound: see reviewsBasis). */
  reviews: number;
  /** `exact`: every chunk's size was read from its name; `upper-bound`: some counted BULK_CHUNK_SIZE. */
  reviewsBasis: 'exact' | 'upper-bound';
}

/** Chunks not yet taken, from the bulk queue's counts (the backlog's definition, as for the live lane). */
export function bulkBacklogChunks(counts: QueueStats['counts']): number {
  return counts.waiting + counts.prioritized + counts.delayed + counts.paused;
}

/**
 * Reviews in `chunks` chunk jobs, of which `names` were read (null: the job left the queue in the
 * meantime, so it counts 0). Every chunk not read, or whose name records no size, counts
 * `chunkSize`. Pure.
 */
export function countBulkBacklog(
  chunks: number,
  names: readonly (string | null)[],
  chunkSize: number,
): BulkBacklogCount {
  let reviews = 0;
  let unknown = Math.max(0, chunks - names.length);
  for (const name of names) {
    if (name === null) continue;
    const size = bulkJobSize(name);
    if (typeof size === 'number') reviews += size;
    else unknown++;
  }
  reviews += unknown * chunkSize;
  return { chunks, reviews, reviewsBasis: unknown > 0 ? 'upper-bound' : 'exact' };
}

/**
 * Reads the names of up to `max` waiting and delayed chunk jobs (the wait list holds a paused
 * queue's jobs too; prioritized chunks are not read: the bulk lane adds none) and counts the backlog.
 */
export async function readBulkBacklog(
  queue: Queue,
  connection: RedisClient,
  counts: QueueStats['counts'],
  chunkSize: number,
  max = BULK_SIZE_SCAN_MAX,
): Promise<BulkBacklogCount> {
  const chunks = bulkBacklogChunks(counts);
  if (chunks === 0) return { chunks, reviews: 0, reviewsBasis: 'exact' };
  const waitingIds = max > 0 ? await connection.lrange(queue.toKey('wait'), 0, max - 1) : [];
  const room = max - waitingIds.length;
  const delayedIds =
    room > 0 && counts.delayed > 0 ? await connection.zrange(queue.toKey('delayed'), '0', String(room - 1)) : [];
  const ids = [...waitingIds, ...delayedIds];
  if (ids.length === 0) return countBulkBacklog(chunks, [], chunkSize);
  const pipeline = connection.pipeline();
  for (const id of ids) pipeline.hget(queue.toKey(id), 'name');
  const names = ((await pipeline.exec()) ?? []).map(([err, value]) => {
    if (err) throw err;
    return typeof value === 'string' ? value : null;
  });
  return countBulkBacklog(chunks, names, chunkSize);
}
