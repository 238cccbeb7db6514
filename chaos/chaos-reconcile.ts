import type { Job, Queue } from 'bullmq';
import { decodeJobFailure } from '../src/contracts/job-failure.ts';
import type { StoredRow } from './chaos-database.ts';
import type { FaultEvent } from './chaos-faults.ts';
import type { LoadStats } from './chaos-load.ts';

export interface QueueTally {
  completed: number;
  failed: number;
  /** Failed attempts that were retried or ended the job (BullMQ attemptsMade). */
  failedAttempts: number;
  /** Times jobs were taken over after their worker stopped renewing the lock. */
  stalls: number;
  /** Jobs started more than once (a retry, or a takeover after a stall). */
  startedMoreThanOnce: number;
  /** Failure reasons of failed jobs, by error code (never the job's data). */
  failedReasons: Record<string, number>;
}

export interface Reconciliation {
  accepted: number;
  /** Rows in sentiment_results. */
  stored: number;
  /** Accepted reviews with no stored row. */
  lost: number;
  lostIds: string[];
  /** Reviews with more than one stored row (the key is (review_id, model_version): one model here). */
  duplicated: number;
  /** Rows of reviews the producer never got an acknowledgement for (a call that failed after Redis took it). */
  storedUnacknowledged: number;
  /** Upserts that hit an existing row: re-deliveries the storage absorbed. */
  upsertHits: number;
  reviews: QueueTally;
  results: QueueTally;
}

async function tally(queue: Queue): Promise<QueueTally> {
  const out: QueueTally = {
    completed: 0,
    failed: 0,
    failedAttempts: 0,
    stalls: 0,
    startedMoreThanOnce: 0,
    failedReasons: {},
  };
  const page = 1000;
  for (const state of ['completed', 'failed'] as const) {
    for (let start = 0; ; start += page) {
      const jobs: Job[] = await queue.getJobs([state], start, start + page - 1, true);
      for (const job of jobs) {
        out[state]++;
        // BullMQ counts the successful attempt of a completed job in attemptsMade too.
        out.failedAttempts += Math.max(0, (job.attemptsMade ?? 0) - (state === 'completed' ? 1 : 0));
        out.stalls += job.stalledCounter ?? 0;
        if ((job.attemptsStarted ?? 0) > 1) out.startedMoreThanOnce++;
        if (state === 'failed') {
          const { code } = decodeJobFailure(job.failedReason);
          out.failedReasons[code] = (out.failedReasons[code] ?? 0) + 1;
        }
      }
      if (jobs.length < page) break;
    }
  }
  return out;
}

/** Every accepted review against the stored rows, and what the queues went through. */
export async function reconcile(input: {
  load: LoadStats;
  rows: StoredRow[];
  upsertHits: number;
  reviews: Queue;
  results: Queue;
}): Promise<Reconciliation> {
  const perReview = new Map<string, number>();
  for (const row of input.rows) perReview.set(row.reviewId, (perReview.get(row.reviewId) ?? 0) + 1);
  const lostIds = [...input.load.accepted].filter((id) => !perReview.has(id));
  const [reviews, results] = await Promise.all([tally(input.reviews), tally(input.results)]);
  return {
    accepted: input.load.accepted.size,
    stored: input.rows.length,
    lost: lostIds.length,
    lostIds: lostIds.slice(0, 50),
    duplicated: [...perReview.values()].filter((n) => n > 1).length,
    storedUnacknowledged: [...perReview.keys()].filter((id) => !input.load.accepted.has(id)).length,
    upsertHits: input.upsertHits,
    reviews,
    results,
  };
}

export interface FaultRecovery {
  kind: string;
  target: string;
  /** Offset of the fault from the start of the load, s. */
  atS: number;
  /** Injection to remedy done (restart ready, SIGCONT...), ms. */
  healMs: number;
  /** Fault → the first result stored after the remedy, ms. */
  storedAgainMs: number | null;
  /** Fault → stored throughput back to ≥ 80 % of the offered rate over one second, ms. */
  steadyAgainMs: number | null;
  /** Fault → every review accepted before the fault stored, ms (null if one never was). */
  caughtUpMs: number | null;
  /** Fault → the last review the killed process held stored, ms (worker-kill, sink-kill). */
  inFlightStoredMs: number | null;
  inFlight: number;
  detail: Record<string, unknown>;
  error?: string;
}

/** Recovery times of each fault, from the stored rows' stored_at (the commit's transaction time). */
export function recoveryTimes(input: {
  faults: FaultEvent[];
  rows: StoredRow[];
  load: LoadStats;
  loadStartedAt: number;
  rate: number;
}): FaultRecovery[] {
  const times = input.rows.map((r) => r.storedAtMs).sort((a, b) => a - b);
  const storedAt = new Map(input.rows.map((r) => [r.reviewId, r.storedAtMs]));
  const acceptedSorted = [...input.load.acceptedAt.entries()].sort((a, b) => a[1] - b[1]);
  const firstAtOrAfter = (t: number): number => {
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const need = Math.max(1, Math.floor(input.rate * 0.8));
  return input.faults.map((f) => {
    const next = firstAtOrAfter(f.healedAt);
    let steady: number | null = null;
    for (let i = next; i < times.length; i++) {
      // `need` rows within one second starting at row i
      if (i + need - 1 < times.length && times[i + need - 1]! - times[i]! <= 1000) {
        steady = times[i + need - 1]! - f.at;
        break;
      }
    }
    let caughtUp: number | null = 0;
    for (const [id, at] of acceptedSorted) {
      if (at > f.at) break;
      const s = storedAt.get(id);
      if (s === undefined) {
        caughtUp = null;
        break;
      }
      caughtUp = Math.max(caughtUp, s - f.at);
    }
    let inFlightStored: number | null = null;
    if (f.inFlight.length > 0) {
      const stored = f.inFlight.map((id) => storedAt.get(id));
      inFlightStored = stored.some((s) => s === undefined) ? null : Math.max(0, ...stored.map((s) => s! - f.at));
    }
    return {
      kind: f.kind,
      target: f.target,
      atS: Math.round((f.at - input.loadStartedAt) / 100) / 10,
      healMs: f.healedAt - f.at,
      storedAgainMs: next < times.length ? Math.max(0, times[next]! - f.at) : null,
      steadyAgainMs: steady === null ? null : Math.max(0, steady),
      caughtUpMs: caughtUp,
      inFlightStoredMs: inFlightStored,
      inFlight: f.inFlight.length,
      detail: f.detail,
      ...(f.error ? { error: f.error } : {}),
    };
  });
}
