import { errorCodes, isErrorCode, type ErrorCode } from './error-codes.ts';

/**
 * Why a review job failed, as BullMQ keeps it: the text `failedReason` of the job, which the
 * worker writes as `<code>: <message>` (jobFailureReason) and the stats service, the chaos run
 * and review status read back (failureCode, jobFailure). This file is the only one that writes
 * or parses that text; BullMQ's own reasons (a job stalled too often) have no code and are named
 * here too.
 */

/** A job BullMQ gave up on after it stalled more than `maxStalledCount` times. */
export const STALLED_LIMIT_CODE = 'BULLMQ_STALLED_LIMIT';
/** A reason that starts with no registered code. */
export const OTHER_FAILURE_CODE = 'OTHER';

export type FailureCode = ErrorCode | typeof STALLED_LIMIT_CODE | typeof OTHER_FAILURE_CODE;

const SEPARATOR = ': ';

/** The failure reason the worker gives BullMQ for an error with this code. */
export function jobFailureReason(code: ErrorCode, message: string): string {
  return `${code}${SEPARATOR}${message}`;
}

/** The code a failure reason starts with (`SF_ERR_...: ...`); BullMQ's own reasons get a label. */
export function failureCode(reason: string | null | undefined): FailureCode {
  const first = (reason ?? '').split(':')[0]!.trim();
  if (isErrorCode(first)) return first;
  if (/stalled more than/i.test(reason ?? '')) return STALLED_LIMIT_CODE;
  return OTHER_FAILURE_CODE;
}

/** Longest message of a 4xx-class failure shown to a client, in characters. */
const MAX_MESSAGE_CHARS = 500;

/** What a client may see of a failure: its code and a message that holds no internals. */
export interface JobFailure {
  code: FailureCode;
  message: string;
}

/**
 * A failure reason as a client may see it, by the rule of the HTTP error answers: a code whose
 * registered status is 4xx (`SF_ERR_BAD_INPUT`: a text with no tokens) was raised about the
 * review itself and keeps its message; any other (5xx: an inference, thread or Redis failure
 * that outlasted its retries, a malformed job) gets its registered summary, never its text,
 * which may hold a driver's or a model's words. Review text never reaches a reason.
 */
export function jobFailure(reason: string | null | undefined): JobFailure {
  const code = failureCode(reason);
  if (code === STALLED_LIMIT_CODE) return { code, message: 'the review was given up after the workers scoring it stopped too often (BullMQ stalled limit)' };
  if (code === OTHER_FAILURE_CODE) return { code, message: 'the review failed for a reason without a registered code' };
  const entry = errorCodes[code];
  if (entry.http >= 500) return { code, message: entry.summary };
  const text = reason?.startsWith(`${code}${SEPARATOR}`) ? reason.slice(code.length + SEPARATOR.length).trim() : '';
  return { code, message: text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}…` : text || entry.summary };
}
