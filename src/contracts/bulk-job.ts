import { reviewIdToJobId } from './job-id.ts';
import type { Review } from './review-schema.ts';
import type { EnqueueOutcome } from './review-job.ts';

/**
 * The bulk lane: one BullMQ job on the bulk queue (BULK_QUEUE) carries a chunk of up to
 * BULK_CHUNK_SIZE reviews, so a backfill pays the queue's per-job cost once per chunk instead of
 * once per review (docs/guarantees.md, "Two lanes").
 *
 * - A chunk job's id is BULK_JOB_ID_PREFIX + a digest of its sorted review ids and the model
 *   version: the same chunk sent twice is one job while the first is kept (reported as duplicates).
 * - A review sent again in another chunk (or in the live lane) is scored again; the storage upsert
 *   (one row per review and model version) stores it once.
 * - Each review gets a status marker (its chunk's job id) written before the chunk is added, with
 *   a TTL (BULK_STATUS_TTL_S), so status(id) reads the chunk's state for it (bulk-status.ts).
 */
export const BULK_JOB_NAME = 'chunk';

/**
 * A chunk job's name: BULK_JOB_NAME, then `:` and its number of reviews (`chunk:256`), so the stats
 * service counts the bulk backlog in reviews from job names (one HGET each), never reading job data.
 * A bare BULK_JOB_NAME (a chunk from before the size was recorded) is still a chunk, of unknown size.
 */
export function bulkJobName(size: number): string {
  return `${BULK_JOB_NAME}:${size}`;
}

/** The size a chunk job's name records; null for a bare BULK_JOB_NAME; undefined when the name is not a chunk's. */
export function bulkJobSize(name: string): number | null | undefined {
  if (name === BULK_JOB_NAME) return null;
  const size = name.startsWith(`${BULK_JOB_NAME}:`) ? name.slice(BULK_JOB_NAME.length + 1) : '';
  return /^\d{1,9}$/.test(size) ? Number(size) : undefined;
}
export const BULK_JOB_ID_PREFIX = 'c~';

/** The data of a chunk job. */
export interface BulkChunk {
  reviews: Review[];
  /** Set on the halves of a chunk split after a failed attempt (for the logs). */
  splitFrom?: string;
}

/** What a chunk job returns: its reviews that failed alone (the others are published), or its halves. */
export interface BulkChunkReturn {
  scored: number;
  /** Review id → the BullMQ failure reason (job-failure.ts encoding) of each review that failed alone. */
  failed: Record<string, string>;
  /** The job id of the results job holding its results (stored when that job completes). */
  results?: string;
  /** Job ids of the halves this chunk was split into (then it scored nothing itself), and their sizes. */
  split?: string[];
  splitSizes?: number[];
}

/** The status marker of a review in the bulk lane: `<prefix>:<bulk queue>:rm:<review job id>`. */
export function bulkMarkerKey(queue: { toKey(type: string): string }, reviewId: string): string {
  return queue.toKey(`rm:${reviewIdToJobId(reviewId)}`);
}

/** What enqueueing a chunk needs of the bulk queue: a BullMQ Queue has both. */
export interface BulkJobQueue {
  toKey(type: string): string;
  addBulk(jobs: { name: string; data: BulkChunk; opts: { jobId: string } }[]): Promise<unknown>;
}

/** What enqueueing needs of the queue's Redis connection (ioredis Redis or Cluster). */
export interface BulkRedis {
  pipeline(): {
    exists(key: string): unknown;
    set(key: string, value: string, ex: 'EX', seconds: number): unknown;
    exec(): Promise<[Error | null, unknown][] | null>;
  };
}

export interface EnqueueBulkOptions {
  /** Reviews per chunk job: BULK_CHUNK_SIZE. */
  chunkSize: number;
  /**
   * A chunk's job id from its review ids: BULK_JOB_ID_PREFIX and a digest of the sorted ids and
   * the model version (src/queue/bulk-chunk-id.ts; contracts import nothing but zod).
   */
  chunkId: (reviewIds: readonly string[]) => string;
  /** BULK_STATUS_TTL_S: 0 writes no status markers. */
  statusTtlS: number;
  /** Chunks per round trip (existence check, markers, addBulk). Default 8. */
  chunksPerCall?: number;
  prepare?: (review: Review) => Review;
  outcome?: EnqueueOutcome;
  /** Called for each chunk job added (its id and reviews), e.g. to follow it until stored (import --wait). */
  onChunk?: (id: string, size: number) => void;
}

/** Splits reviews into chunks of `size`, a review id repeated in one call kept once (its first). */
export function chunkReviews(reviews: readonly Review[], size: number): Review[][] {
  const seen = new Set<string>();
  const unique = reviews.filter((r) => !seen.has(r.id) && seen.add(r.id));
  const chunks: Review[][] = [];
  for (let start = 0; start < unique.length; start += size) chunks.push(unique.slice(start, start + size));
  return chunks;
}

/**
 * Enqueues validated reviews in the bulk lane: chunks of `chunkSize`, a few chunks per round
 * trip. A chunk whose job exists already is reported as duplicates (all its reviews); the others
 * get their status markers, then are added. A review id repeated within one call counts as a
 * duplicate. Redis errors are thrown as they come; `options.outcome` says what was enqueued before.
 */
export async function enqueueBulkChunks(
  queue: BulkJobQueue,
  redis: BulkRedis,
  reviews: readonly Review[],
  options: EnqueueBulkOptions,
): Promise<EnqueueOutcome> {
  const outcome = options.outcome ?? { accepted: [], duplicates: [] };
  const prepare = options.prepare ?? ((review: Review) => review);
  const chunks = chunkReviews(reviews, options.chunkSize);
  const repeated = reviews.length - chunks.reduce((n, c) => n + c.length, 0);
  if (repeated > 0) {
    const seen = new Set<string>();
    for (const r of reviews)
      if (seen.has(r.id)) outcome.duplicates.push(r.id);
      else seen.add(r.id);
  }
  const perCall = options.chunksPerCall ?? 8;
  for (let start = 0; start < chunks.length; start += perCall) {
    const group = chunks
      .slice(start, start + perCall)
      .map((c) => ({ reviews: c.map(prepare), id: options.chunkId(c.map((r) => r.id)) }));
    const check = redis.pipeline();
    for (const g of group) check.exists(queue.toKey(g.id));
    const known = ((await check.exec()) ?? []).map(([err, value]) => {
      if (err) throw err;
      return value === 1;
    });
    const fresh = group.filter((_, i) => !known[i]);
    group.forEach((g, i) => known[i] && outcome.duplicates.push(...g.reviews.map((r) => r.id)));
    if (fresh.length === 0) continue;
    if (options.statusTtlS > 0) await writeBulkMarkers(queue, redis, fresh, options.statusTtlS);
    await queue.addBulk(
      fresh.map((g) => ({ name: bulkJobName(g.reviews.length), data: { reviews: g.reviews }, opts: { jobId: g.id } })),
    );
    for (const g of fresh) {
      outcome.accepted.push(...g.reviews.map((r) => r.id));
      options.onChunk?.(g.id, g.reviews.length);
    }
  }
  return outcome;
}

/** Points each review's status marker at its chunk job (before the job exists: never a job without markers). */
export async function writeBulkMarkers(
  queue: { toKey(type: string): string },
  redis: BulkRedis,
  chunks: readonly { id: string; reviews: readonly Pick<Review, 'id'>[] }[],
  ttlS: number,
): Promise<void> {
  const pipeline = redis.pipeline();
  for (const c of chunks) for (const r of c.reviews) pipeline.set(bulkMarkerKey(queue, r.id), c.id, 'EX', ttlS);
  for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
}
