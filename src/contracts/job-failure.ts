import { errorCodes, isErrorCode, type ErrorCode } from './error-codes.ts';

/**
 * Why a job failed, as BullMQ keeps it: the text `failedReason` of the job. The fleet writes it
 * with encodeJobFailure, a one-line JSON object that bull-board shows as it is:
 *
 *   {"code":"SF_ERR_BAD_JOB","message":"job data is not a valid review (2 problems)","problems":[{"path":"text","message":"text is required"}, …]}
 *
 * and everything reads it back with decodeJobFailure: the stats service (failures by code), review
 * status (a client's view: jobFailure), the chaos run. These two functions are the only ones that
 * write or parse a failure reason. decodeJobFailure also reads the `CODE: message` text of jobs
 * failed before this encoding (kept for KEEP_FAILED_S after an upgrade) and names BullMQ's own
 * reasons (a job stalled too often), which have no code.
 */

/** A job BullMQ gave up on after it stalled more than `maxStalledCount` times. */
export const STALLED_LIMIT_CODE = 'BULLMQ_STALLED_LIMIT';
/** A reason with no registered code (thrown by something other than the fleet's code). */
export const OTHER_FAILURE_CODE = 'OTHER';

export type FailureCode = ErrorCode | typeof STALLED_LIMIT_CODE | typeof OTHER_FAILURE_CODE;

/** A field-level problem of a malformed job: where (`results.3.label`) and what; never review text. */
export interface FailureProblem {
  path: string;
  message: string;
}

/** A failure as the fleet writes it. */
export interface JobFailureReason {
  code: ErrorCode;
  /** Names the problem; never review text (failure reasons are shown in bull-board). */
  message: string;
  problems?: FailureProblem[];
}

/** A failure as read back: any reason has a code; `problems` only where the writer gave some. */
export interface DecodedJobFailure {
  code: FailureCode;
  message: string;
  problems?: FailureProblem[];
}

/** Problems kept in a reason (the rest are counted in the message by the writer). */
export const MAX_REASON_PROBLEMS = 20;
/** Longest message or problem message kept in a reason, in characters. */
const MAX_REASON_CHARS = 1000;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** The `failedReason` of a job that failed for this reason. */
export function encodeJobFailure(failure: JobFailureReason): string {
  const problems = failure.problems
    ?.slice(0, MAX_REASON_PROBLEMS)
    .map((p) => ({ path: clip(p.path, 200), message: clip(p.message, MAX_REASON_CHARS) }));
  return JSON.stringify({
    code: failure.code,
    message: clip(failure.message, MAX_REASON_CHARS),
    ...(problems && problems.length > 0 ? { problems } : {}),
  });
}

function decodeJson(reason: string): JobFailureReason | undefined {
  let value: unknown;
  try {
    value = JSON.parse(reason);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { code, message, problems } = value as Record<string, unknown>;
  if (!isErrorCode(code) || typeof message !== 'string') return undefined;
  const listed = Array.isArray(problems)
    ? problems.filter((p): p is FailureProblem => typeof p?.path === 'string' && typeof p?.message === 'string')
    : [];
  return listed.length > 0 ? { code, message, problems: listed } : { code, message };
}

/** The separator of the reasons written before encodeJobFailure: `SF_ERR_BAD_INPUT: text has no tokens`. */
const LEGACY_SEPARATOR = ': ';
/** BullMQ's own reason for a job that stalled more than maxStalledCount times. */
const BULLMQ_STALLED_REASON = 'job stalled more than allowable limit';

/** What a failure reason says: its code, message and problems; a reason of nobody's making is OTHER. */
export function decodeJobFailure(reason: string | null | undefined): DecodedJobFailure {
  const text = reason ?? '';
  const decoded = text.startsWith('{') ? decodeJson(text) : undefined;
  if (decoded) return decoded;
  const at = text.indexOf(LEGACY_SEPARATOR);
  const legacyCode = at > 0 ? text.slice(0, at) : undefined;
  if (isErrorCode(legacyCode)) return { code: legacyCode, message: text.slice(at + LEGACY_SEPARATOR.length).trim() };
  if (text === BULLMQ_STALLED_REASON) return { code: STALLED_LIMIT_CODE, message: text };
  return { code: OTHER_FAILURE_CODE, message: text };
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
  const { code, message } = decodeJobFailure(reason);
  if (code === STALLED_LIMIT_CODE)
    return {
      code,
      message: 'the review was given up after the workers scoring it stopped too often (BullMQ stalled limit)',
    };
  if (code === OTHER_FAILURE_CODE) return { code, message: 'the review failed for a reason without a registered code' };
  const entry = errorCodes[code];
  if (entry.http >= 500) return { code, message: entry.summary };
  return {
    code,
    message: message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message || entry.summary,
  };
}
