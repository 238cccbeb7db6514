import { UnrecoverableError } from 'bullmq';
import type { ErrorCode } from '../contracts/error-codes.ts';
import { encodeJobFailure, type FailureProblem } from '../contracts/job-failure.ts';
import { SfError, toSfError } from '../errors/sf-error.ts';

/** The field problems an SfError carries in `details.problems` (as the HTTP answers list them). */
function problemsOf(err: SfError): FailureProblem[] | undefined {
  const problems = err.details?.problems;
  if (!Array.isArray(problems)) return undefined;
  return problems.filter((p): p is FailureProblem => typeof p?.path === 'string' && typeof p?.message === 'string');
}

/**
 * What a BullMQ processor throws to fail a job: its message is the failure reason
 * (encodeJobFailure: code, message, field problems), so BullMQ stores it as `failedReason`.
 * A retryable error (by the registry, or the SfError's own `retryable`) is retried with the
 * job's backoff; any other is an UnrecoverableError, which BullMQ fails at once. Anything not an
 * SfError is `fallback`.
 */
export function toJobError(err: unknown, fallback: ErrorCode): Error {
  const sf = toSfError(err, fallback);
  const problems = problemsOf(sf);
  const reason = encodeJobFailure({ code: sf.code, message: sf.message, ...(problems ? { problems } : {}) });
  return sf.retryable
    ? new SfError(sf.code, reason, { cause: sf, details: sf.details })
    : new UnrecoverableError(reason);
}
