import { jobFailure } from './job-failure.ts';
import { bulkMarkerKey, type BulkChunkReturn } from './bulk-job.ts';
import { jobState, type ReviewStatus, type StatusPipeline } from './review-status.ts';

/**
 * The status of reviews sent in the bulk lane (bulk-job.ts): each review's marker names its chunk
 * job, whose state is the review's, except that a review which failed alone in a completed chunk
 * reads `failed` (the chunk's return value lists it). Two round trips: the markers, then the
 * chunk jobs (each chunk read once however many of its reviews are asked).
 */
export interface BulkStatusClient {
  pipeline(): StatusPipeline & { get(key: string): unknown };
}

const JOB_FIELDS = ['timestamp', 'atm', 'failedReason', 'returnvalue'] as const;

function value(replies: [Error | null, unknown][], index: number): unknown {
  const [err, v] = replies[index] ?? [null, null];
  return err ? null : v;
}

/** The statuses of `ids` in the bulk lane (`unknown` for those without a marker or chunk). */
export async function readBulkStatuses(
  redis: BulkStatusClient,
  queue: { toKey(type: string): string },
  ids: readonly string[],
): Promise<ReviewStatus<never>[]> {
  if (ids.length === 0) return [];
  const markers = redis.pipeline();
  for (const id of ids) markers.get(bulkMarkerKey(queue, id));
  const markerReplies = (await markers.exec()) ?? [];
  const chunkOf = ids.map((_, i) => value(markerReplies, i) as string | null);
  const chunks = [...new Set(chunkOf.filter((c): c is string => typeof c === 'string'))];
  if (chunks.length === 0) return ids.map((id) => ({ id, state: 'unknown' }));
  const jobs = redis.pipeline();
  for (const c of chunks) {
    jobs.hmget(queue.toKey(c), ...JOB_FIELDS);
    jobs.zscore(queue.toKey('completed'), c);
    jobs.zscore(queue.toKey('failed'), c);
    jobs.lpos(queue.toKey('active'), c);
  }
  const replies = (await jobs.exec()) ?? [];
  const byChunk = new Map(
    chunks.map((c, k) => {
      const fields = (value(replies, k * 4) as (string | null)[] | null) ?? [];
      const [timestamp, atm, failedReason, returnvalue] = fields;
      let returned: BulkChunkReturn | undefined;
      try {
        returned = returnvalue ? (JSON.parse(returnvalue) as BulkChunkReturn) : undefined;
      } catch {
        returned = undefined;
      }
      const replies4 = {
        exists: timestamp !== null && timestamp !== undefined,
        completed: value(replies, k * 4 + 1) !== null,
        failed: value(replies, k * 4 + 2) !== null,
        active: value(replies, k * 4 + 3) !== null,
        failedReason: failedReason ?? null,
        attemptsMade: Number(atm ?? 0) || 0,
      };
      return [c, { replies: replies4, returned }] as const;
    }),
  );
  return ids.map((id, i) => {
    const chunk = chunkOf[i] ? byChunk.get(chunkOf[i]!) : undefined;
    if (!chunk) return { id, state: 'unknown' };
    const status = jobState(id, chunk.replies);
    const alone = status.state === 'scored' ? chunk.returned?.failed?.[id] : undefined;
    if (alone !== undefined)
      return {
        id,
        state: 'failed',
        failure: { ...jobFailure(alone), attempts: Math.max(1, chunk.replies.attemptsMade) },
      };
    return status;
  });
}
