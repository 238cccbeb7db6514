import type { BulkChunkReturn } from '../contracts/bulk-job.ts';

/**
 * Follows bulk chunks from enqueue to storage without a database connection (`import --wait`):
 * a chunk is done when its job has finished and the results job it names (BulkChunkReturn.results)
 * has completed on the results queue, that is when the sink has committed its results. A chunk
 * split in halves is followed through its halves. Reviews are counted as:
 * - `stored`: in a results job the sink completed (or that retention already removed: it completed);
 * - `failed`: failed alone in their chunk, in a chunk that failed for good, or in a results job
 *   that failed for good (the database refused them).
 * One pipeline per poll, for at most `perPoll` chunks and as many results jobs.
 */
export interface ProgressRedis {
  pipeline(): {
    hmget(key: string, ...fields: string[]): unknown;
    zscore(key: string, member: string): unknown;
    exec(): Promise<[Error | null, unknown][] | null>;
  };
}

export interface BulkProgressOptions {
  redis: ProgressRedis;
  bulkQueue: { toKey(type: string): string };
  resultsQueue: { toKey(type: string): string };
  perPoll?: number;
}

export interface BulkProgressCounts {
  /** Reviews in the chunks followed. */
  total: number;
  stored: number;
  failed: number;
  /** Reviews not yet stored nor failed. */
  pending: number;
}

const value = (replies: [Error | null, unknown][], i: number): unknown => {
  const [err, v] = replies[i] ?? [null, null];
  return err ? null : v;
};

export function createBulkProgress(options: BulkProgressOptions) {
  const perPoll = options.perPoll ?? 1000;
  /** Chunk job id → reviews; results job id → reviews (scored, waiting for the sink). */
  const chunks = new Map<string, number>();
  const results = new Map<string, number>();
  let total = 0;
  let stored = 0;
  let failed = 0;

  const counts = (): BulkProgressCounts => ({ total, stored, failed, pending: total - stored - failed });

  async function pollChunks(ids: string[]): Promise<void> {
    const p = options.redis.pipeline();
    for (const id of ids) {
      p.hmget(options.bulkQueue.toKey(id), 'finishedOn', 'returnvalue', 'timestamp');
      p.zscore(options.bulkQueue.toKey('failed'), id);
    }
    const replies = (await p.exec()) ?? [];
    ids.forEach((id, k) => {
      const [finishedOn, returnvalue, timestamp] = (value(replies, 2 * k) as (string | null)[] | null) ?? [];
      const size = chunks.get(id)!;
      const failedForGood = value(replies, 2 * k + 1) !== null;
      if (failedForGood) {
        chunks.delete(id);
        failed += size;
        return;
      }
      // Gone (removed by retention after it finished): its results are stored or in the sink's hands.
      if (!timestamp) {
        chunks.delete(id);
        stored += size;
        return;
      }
      if (!finishedOn || !returnvalue) return;
      let returned: BulkChunkReturn;
      try {
        returned = JSON.parse(returnvalue) as BulkChunkReturn;
      } catch {
        return;
      }
      chunks.delete(id);
      if (returned.split) {
        returned.split.forEach((half, i) => chunks.set(half, returned.splitSizes?.[i] ?? 0));
        failed += size - (returned.splitSizes ?? []).reduce((a, b) => a + b, 0);
        return;
      }
      const alone = Object.keys(returned.failed ?? {}).length;
      failed += alone;
      if (returned.results && returned.scored > 0)
        results.set(returned.results, (results.get(returned.results) ?? 0) + returned.scored);
      else stored += Math.max(0, size - alone);
    });
  }

  async function pollResults(ids: string[]): Promise<void> {
    const p = options.redis.pipeline();
    for (const id of ids) {
      p.hmget(options.resultsQueue.toKey(id), 'finishedOn', 'timestamp');
      p.zscore(options.resultsQueue.toKey('failed'), id);
    }
    const replies = (await p.exec()) ?? [];
    ids.forEach((id, k) => {
      const [finishedOn, timestamp] = (value(replies, 2 * k) as (string | null)[] | null) ?? [];
      const n = results.get(id)!;
      if (value(replies, 2 * k + 1) !== null) {
        results.delete(id);
        failed += n;
      } else if (!timestamp || finishedOn) {
        results.delete(id);
        stored += n;
      }
    });
  }

  return {
    /** Follows a chunk job of `size` reviews (ReviewProducer.enqueueMany's onChunk). */
    add(id: string, size: number): void {
      if (chunks.has(id)) return;
      chunks.set(id, size);
      total += size;
    },
    /** Reads the state of up to `perPoll` chunks and results jobs; returns the counts. */
    async poll(): Promise<BulkProgressCounts> {
      const chunkIds = [...chunks.keys()].slice(0, perPoll);
      if (chunkIds.length > 0) await pollChunks(chunkIds);
      const resultIds = [...results.keys()].slice(0, perPoll);
      if (resultIds.length > 0) await pollResults(resultIds);
      return counts();
    },
    counts,
  };
}

export type BulkProgress = ReturnType<typeof createBulkProgress>;
