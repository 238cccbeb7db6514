/**
 * Why jobs failed for good, by error code, from the most recent failed jobs of a queue: their
 * ids (one ZREVRANGE of the failed set) and two fields of each job hash (`failedReason`,
 * `finishedOn`), never the job's data, so no review text leaves Redis.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { decodeJobFailure } from '../contracts/job-failure.ts';

export interface FailureReason {
  /** An SF_ERR_* code, BULLMQ_STALLED_LIMIT (taken over too often), or OTHER. */
  code: string;
  /** Failed jobs with this code among the `sampled` most recent. */
  count: number;
  /** When the most recent of them failed. */
  lastAt: string | null;
}

export interface FailureStats {
  /** How many of the most recent failed jobs were read (at most the limit). */
  sampled: number;
  reasons: FailureReason[];
}

/** How many recent failed jobs are read per queue. */
export const FAILURE_SAMPLE = 200;

export function groupFailureReasons(
  rows: readonly { reason: string | null; finishedOn: number | null }[],
): FailureReason[] {
  const byCode = new Map<string, { count: number; last: number | null }>();
  for (const row of rows) {
    const { code } = decodeJobFailure(row.reason);
    const known = byCode.get(code) ?? { count: 0, last: null };
    known.count++;
    if (row.finishedOn !== null && (known.last === null || row.finishedOn > known.last)) known.last = row.finishedOn;
    byCode.set(code, known);
  }
  return [...byCode]
    .map(([code, v]) => ({ code, count: v.count, lastAt: v.last === null ? null : new Date(v.last).toISOString() }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

export async function readFailureStats(queue: Queue, limit = FAILURE_SAMPLE): Promise<FailureStats> {
  const ids = await queue.getRanges(['failed'], 0, limit - 1, false); // newest first
  if (ids.length === 0) return { sampled: 0, reasons: [] };
  const client = (await queue.backend.client) as unknown as Pick<Redis, 'pipeline'>; // ioredis (standalone or cluster)
  const pipeline = client.pipeline();
  for (const id of ids) pipeline.hmget(queue.toKey(id), 'failedReason', 'finishedOn');
  const replies: [Error | null, unknown][] = (await pipeline.exec()) ?? [];
  const rows = replies.flatMap(([err, value]) => {
    if (err || !Array.isArray(value)) return [];
    const [reason, finishedOn] = value as (string | null)[];
    return [{ reason: reason ?? null, finishedOn: finishedOn ? Number(finishedOn) : null }];
  });
  return { sampled: rows.length, reasons: groupFailureReasons(rows) };
}
