import type { ReviewProducer } from '../src/queue/review-producer.ts';
import type { Logger } from '../src/logging/logger.ts';
import type { ChaosReview, ReviewSource } from './chaos-review-source.ts';

export interface LoadStats {
  /** Reviews offered to the producer. */
  offered: number;
  /** Ids the producer acknowledged (accepted, or reported as already queued). */
  accepted: Set<string>;
  /** When each id was first acknowledged (ms since epoch). */
  acceptedAt: Map<string, number>;
  /** Enqueue calls that failed (Redis away): their reviews were sent again. */
  failedCalls: number;
  /** Reviews still unacknowledged when the load generator gave up. */
  unacknowledged: number;
  /** Longest time the producer could not enqueue, ms. */
  longestOutageMs: number;
}

const TICK_MS = 100;
const MAX_CHUNK = 2000;

/**
 * A sustained load at `rate` reviews per second, `total` reviews in all: every tick it offers the reviews due so far to
 * the producer; a failed call (Redis away) keeps them and sends them again on the next tick, as
 * a client retrying a 503 would. Only acknowledged ids count as accepted.
 */
export function startLoad(options: {
  producer: ReviewProducer;
  source: ReviewSource;
  rate: number;
  total: number;
  logger: Logger;
  bulkShare?: number;
}) {
  const { producer, source, rate, total, logger } = options;
  const bulkShare = options.bulkShare ?? 0;
  /** Review i goes to the bulk lane for a `bulkShare` of the indexes, spread evenly (deterministic). */
  const inBulk = (i: number): boolean => Math.floor((i + 1) * bulkShare) > Math.floor(i * bulkShare);
  const lane = new Map<string, 'bulk'>();
  const stats: LoadStats = {
    offered: 0,
    accepted: new Set(),
    acceptedAt: new Map(),
    failedCalls: 0,
    unacknowledged: 0,
    longestOutageMs: 0,
  };
  const pending: ChaosReview[] = [];
  const startedAt = Date.now();
  let stopped = false;
  let failingSince: number | undefined;

  function offer(i: number): ChaosReview {
    const review = source.review(i);
    if (inBulk(i)) lane.set(review.id, 'bulk');
    return review;
  }

  async function sendPending(): Promise<void> {
    const chunk = pending.slice(0, MAX_CHUNK);
    try {
      const bulk = chunk.filter((r) => lane.has(r.id));
      const live = bulk.length === 0 ? chunk : chunk.filter((r) => !lane.has(r.id));
      const outcomes = [
        live.length > 0 ? await producer.enqueueMany(live) : { accepted: [], duplicates: [] },
        bulk.length > 0 ? await producer.enqueueMany(bulk, { lane: 'bulk' }) : { accepted: [], duplicates: [] },
      ];
      const outcome = {
        accepted: outcomes.flatMap((o) => o.accepted),
        duplicates: outcomes.flatMap((o) => o.duplicates),
      };
      const now = Date.now();
      for (const id of [...outcome.accepted, ...outcome.duplicates]) {
        if (!stats.accepted.has(id)) {
          stats.accepted.add(id);
          stats.acceptedAt.set(id, now);
        }
      }
      pending.splice(0, chunk.length);
      if (failingSince !== undefined) {
        stats.longestOutageMs = Math.max(stats.longestOutageMs, now - failingSince);
        logger.info({ outageMs: now - failingSince, resent: chunk.length }, 'producer: enqueueing again');
        failingSince = undefined;
      }
    } catch (err) {
      stats.failedCalls++;
      if (failingSince === undefined) {
        failingSince = Date.now();
        logger.warn({ err }, 'producer: enqueue failed, the reviews will be sent again');
      }
    }
  }

  const loop = (async () => {
    for (let tick = 1; !stopped; tick++) {
      const due = Math.min(total, Math.floor(((Date.now() - startedAt) / 1000) * rate));
      while (stats.offered < due) pending.push(offer(stats.offered++));
      if (pending.length > 0) await sendPending();
      const wait = startedAt + tick * TICK_MS - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();

  return {
    stats,
    /** Offers what is left of `total` (the clock's last tick), then retries what is unacknowledged for up to `flushMs`. */
    async stop(flushMs = 30_000): Promise<LoadStats> {
      stopped = true;
      await loop;
      while (stats.offered < total) pending.push(offer(stats.offered++));
      const deadline = Date.now() + flushMs;
      while (pending.length > 0 && Date.now() < deadline) {
        await sendPending();
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      stats.unacknowledged = pending.length;
      return stats;
    },
  };
}
