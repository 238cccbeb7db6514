import { z } from 'zod';
import { jobFailure, type FailureCode } from './job-failure.ts';
import { REVIEW_JOB_ID_PREFIX, legacyReviewJobId, reviewIdToJobId } from './job-id.ts';
import { REVIEW_JOB_NAME } from './review-job.ts';

/**
 * Where a review is, by its id: the state of its BullMQ job on the reviews queue and, where a
 * database is at hand, its stored result. One module for the ingest service (GET /v1/reviews/:id,
 * POST /v1/reviews/status) and the client package's status(ids).
 *
 * - `queued`: its job waits (or waits for a retry after a retryable failure);
 * - `active`: a worker holds it now;
 * - `scored`: its job completed: the result is published on the results queue (or already stored,
 *   when the reader has no database to tell);
 * - `stored`: its result is in the database (whatever the queue still holds);
 * - `failed`: its job failed for good: `failure` says why (code, client-safe message, attempts);
 * - `unknown`: never sent, or sent longer ago than the queue keeps jobs (KEEP_COMPLETED_S,
 *   KEEP_FAILED_S) and without a stored result the reader can see.
 *
 * It reads a few fields of each job hash (never its data: no review text) and the job's place in
 * the completed, failed and active lists, for a batch of ids in one pipeline (one round trip).
 */
export const REVIEW_STATES = ['queued', 'active', 'scored', 'stored', 'failed', 'unknown'] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];

export interface ReviewFailure {
  /** An SF_ERR_* code (src/contracts/error-codes.ts), BULLMQ_STALLED_LIMIT or OTHER. */
  code: FailureCode;
  /** Client-safe (job-failure.ts): the reason about the review, or the code's registered summary. */
  message: string;
  /** Attempts the job made (JOB_ATTEMPTS at most for retryable failures; 1 for the others). */
  attempts: number;
}

export interface ReviewStatus<R = unknown> {
  id: string;
  state: ReviewState;
  failure?: ReviewFailure;
  /** The newest stored result (state `stored`), when the reader has a database and may show it. */
  result?: R;
}

/** Ids of one status request; each at most 128 characters like a review id (no id longer can exist). */
export const reviewStatusRequestSchema = z.strictObject(
  {
    // No .max(): a request over the limit is answered 413 by the route (naming the limit), not 400.
    ids: z.array(
      z
        .string({ error: 'an id must be a string' })
        .min(1, 'an id must not be empty')
        .max(128, 'an id must be at most 128 characters'),
      {
        error: 'ids must be an array of review ids',
      },
    ),
  },
  {
    error: (i) =>
      i.code === 'unrecognized_keys'
        ? `unknown field(s): ${i.keys.slice(0, 10).join(', ')}`
        : 'the body must be {"ids": [...]}',
  },
);

export const reviewFailureSchema = z.object({ code: z.string(), message: z.string(), attempts: z.number().int() });
export const reviewStatusSchema = z.object({
  id: z.string(),
  state: z.enum(REVIEW_STATES),
  failure: reviewFailureSchema.optional(),
  result: z.record(z.string(), z.unknown()).optional(),
});
export const reviewStatusListSchema = z.object({ statuses: z.array(reviewStatusSchema) });

/** The Redis commands the reader pipelines (ioredis Redis and Cluster have them). */
export interface StatusPipeline {
  hmget(key: string, ...fields: string[]): unknown;
  hget(key: string, field: string): unknown;
  zscore(key: string, member: string): unknown;
  lpos(key: string, element: string): unknown;
  exec(): Promise<[Error | null, unknown][] | null>;
}

export interface StatusClient {
  pipeline(): StatusPipeline;
}

/** Keys of the reviews queue: a BullMQ Queue's toKey (`<prefix>:<queue>:<type or job id>`). */
export interface StatusQueue {
  toKey(type: string): string;
}

/** What Redis says of one job: the input of jobState. */
export interface JobReplies {
  /** The job hash exists. */
  exists: boolean;
  active: boolean;
  completed: boolean;
  failed: boolean;
  failedReason: string | null;
  attemptsMade: number;
}

/** A review's status from its job alone (no database). */
export function jobState(id: string, job: JobReplies): ReviewStatus<never> {
  if (!job.exists) return { id, state: 'unknown' };
  if (job.failed)
    return {
      id,
      state: 'failed',
      failure: { ...jobFailure(job.failedReason), attempts: Math.max(1, job.attemptsMade) },
    };
  if (job.completed) return { id, state: 'scored' };
  if (job.active) return { id, state: 'active' };
  return { id, state: 'queued' };
}

/** Fields read from a job hash: `timestamp` (every job has one), attempts (`atm`, or `attemptsMade` before BullMQ 5), the failure. */
const JOB_FIELDS = ['timestamp', 'atm', 'attemptsMade', 'failedReason'] as const;
const COMMANDS_PER_JOB = 4;

function queueJobCommands(pipeline: StatusPipeline, queue: StatusQueue, jobId: string): void {
  pipeline.hmget(queue.toKey(jobId), ...JOB_FIELDS);
  pipeline.zscore(queue.toKey('completed'), jobId);
  pipeline.zscore(queue.toKey('failed'), jobId);
  pipeline.lpos(queue.toKey('active'), jobId);
}

/** A reply of the pipeline; a command error (a legacy id naming a key of another type) reads as absent. */
const reply = (replies: [Error | null, unknown][], index: number): unknown => {
  const [err, value] = replies[index] ?? [null, null];
  return err ? null : value;
};

function readJobReplies(replies: [Error | null, unknown][], at: number): JobReplies {
  const fields = (reply(replies, at) as (string | null)[] | null) ?? [];
  const [timestamp, atm, attemptsMade, failedReason] = fields;
  return {
    exists: timestamp !== null && timestamp !== undefined,
    completed: reply(replies, at + 1) !== null,
    failed: reply(replies, at + 2) !== null,
    active: reply(replies, at + 3) !== null,
    failedReason: failedReason ?? null,
    attemptsMade: Number(atm ?? attemptsMade ?? 0) || 0,
  };
}

/** Job ids of the mapping before `r~` for the ids whose current job is unknown (docs/operating.md). */
function legacyCandidate(id: string): string | undefined {
  const legacy = legacyReviewJobId(id);
  // An old job id that starts with r~ is also a current one (of another review): never read as legacy.
  return legacy.startsWith(REVIEW_JOB_ID_PREFIX) ? undefined : legacy;
}

async function run(redis: StatusClient, fill: (p: StatusPipeline) => void): Promise<[Error | null, unknown][]> {
  const pipeline = redis.pipeline();
  fill(pipeline);
  return (await pipeline.exec()) ?? [];
}

/**
 * The queue status of each id (unique ids; the order of `ids`): one pipeline for all of them.
 * A job queued before the `r~` job ids (a fleet upgraded with reviews in flight) is found too:
 * the same pipeline asks whether the old job id names a review job, and a second round trip, only
 * when one does, reads its state.
 */
export async function readQueueStatuses(
  redis: StatusClient,
  queue: StatusQueue,
  ids: readonly string[],
): Promise<ReviewStatus<never>[]> {
  const legacy = ids.map(legacyCandidate);
  const per = COMMANDS_PER_JOB + 1;
  const replies = await run(redis, (p) => {
    ids.forEach((id, i) => {
      queueJobCommands(p, queue, reviewIdToJobId(id));
      p.hget(queue.toKey(legacy[i] ?? reviewIdToJobId(id)), 'name');
    });
  });
  const statuses = ids.map((id, i) => jobState(id, readJobReplies(replies, i * per)));
  const old = ids.flatMap((id, i) =>
    statuses[i]!.state === 'unknown' &&
    legacy[i] !== undefined &&
    reply(replies, i * per + COMMANDS_PER_JOB) === REVIEW_JOB_NAME
      ? [i]
      : [],
  );
  if (old.length > 0) {
    const legacyReplies = await run(redis, (p) => old.forEach((i) => queueJobCommands(p, queue, legacy[i]!)));
    old.forEach((i, k) => (statuses[i] = jobState(ids[i]!, readJobReplies(legacyReplies, k * COMMANDS_PER_JOB))));
  }
  return statuses;
}

export interface ReviewStatusReaderOptions<R> {
  redis: StatusClient;
  queue: StatusQueue;
  /**
   * The newest stored result of each id that has one (the server's database). Without it, a
   * review whose result is stored reads `scored` while its job is kept, then `unknown`.
   */
  storedResults?: ((ids: readonly string[]) => Promise<ReadonlyMap<string, R>>) | undefined;
  /** Ids per Redis round trip (default 1000). */
  batchSize?: number;
  /**
   * The bulk lane's statuses (bulk-status.ts) of ids the reviews queue does not know: a review
   * sent in both lanes reads its live job's state.
   */
  bulkStatuses?: ((ids: readonly string[]) => Promise<ReviewStatus<never>[]>) | undefined;
}

export interface StatusOptions {
  /** Add the stored result to `stored` statuses (the server: only for a key with the read scope). Default true. */
  includeResult?: boolean;
}

export type ReviewStatusReader<R> = ReturnType<typeof createReviewStatusReader<R>>;

export function createReviewStatusReader<R>(options: ReviewStatusReaderOptions<R>) {
  const batchSize = options.batchSize ?? 1000;
  return {
    /** One status per id, in the order given (an id asked twice is answered twice). */
    async statuses(ids: readonly string[], statusOptions: StatusOptions = {}): Promise<ReviewStatus<R>[]> {
      const unique = [...new Set(ids)];
      const [queued, stored] = await Promise.all([
        (async () => {
          const out: ReviewStatus<never>[] = [];
          for (let start = 0; start < unique.length; start += batchSize) {
            const slice = await readQueueStatuses(options.redis, options.queue, unique.slice(start, start + batchSize));
            const unknown = slice.flatMap((s, i) => (s.state === 'unknown' ? [i] : []));
            if (options.bulkStatuses && unknown.length > 0) {
              const bulk = await options.bulkStatuses(unknown.map((i) => slice[i]!.id));
              unknown.forEach((i, k) => (slice[i] = bulk[k]!));
            }
            out.push(...slice);
          }
          return out;
        })(),
        options.storedResults && unique.length > 0
          ? options.storedResults(unique)
          : Promise.resolve(new Map<string, R>()),
      ]);
      const byId = new Map<string, ReviewStatus<R>>();
      queued.forEach((status) => {
        const result = stored.get(status.id);
        if (result === undefined) byId.set(status.id, status);
        else
          byId.set(
            status.id,
            statusOptions.includeResult === false
              ? { id: status.id, state: 'stored' }
              : { id: status.id, state: 'stored', result },
          );
      });
      return ids.map((id) => byId.get(id)!);
    },
  };
}
