import { codeForHttpStatus, errorCodes, type ErrorCode } from '../contracts/error-codes.ts';
import { isSfError } from './sf-error.ts';

/** A field-level problem of a 4xx answer: where (`[3].text`) and what. */
export interface HttpProblem {
  path: string;
  message: string;
}

/** Most problems listed in one 400 answer; the rest are counted in `problemsOmitted`. */
export const MAX_PROBLEMS_IN_REPLY = 100;

export interface HttpErrorBody {
  error: { code: string; message: string; problems?: HttpProblem[]; problemsOmitted?: number };
}

export interface HttpErrorReply {
  status: number;
  body: HttpErrorBody;
  /** The answer is 5xx: log the error (with its cause) — the body says nothing of it. */
  internal: boolean;
  /** 503: send Retry-After. */
  retryAfter: boolean;
}

/** The only message a client sees with a 5xx: fixed per code, never the error's own text. */
export function publicMessage(code: ErrorCode): string {
  const entry = errorCodes[code];
  if (entry.http === 503) return entry.retryable ? `${entry.summary}, try again later` : entry.summary;
  return 'internal error';
}

/** The body of every error answer: a registered code, a message, the field problems of a 4xx. */
export function errorBody(code: ErrorCode, message: string, problems?: readonly HttpProblem[]): HttpErrorBody {
  if (!problems) return { error: { code, message } };
  const listed = problems.slice(0, MAX_PROBLEMS_IN_REPLY);
  const omitted = problems.length - listed.length;
  return {
    error:
      omitted > 0 ? { code, message, problems: listed, problemsOmitted: omitted } : { code, message, problems: listed },
  };
}

interface FrameworkError {
  statusCode?: unknown;
  code?: unknown;
  message?: unknown;
}

/** Messages for fastify's and Node's own errors that say more than theirs. */
const FRAMEWORK_MESSAGES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported content type: send application/json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the body is not as long as its Content-Length says',
  FST_ERR_BAD_URL: 'the URL does not decode (a malformed %-escape)',
  FST_ERR_MAX_PARAM_LENGTH: 'a path parameter is over its length limit (a review id is at most 128 characters)',
  ERR_HTTP_REQUEST_TIMEOUT: 'the request did not arrive in time',
  HPE_HEADER_OVERFLOW: 'the request headers are too large',
};

/** Longest message of a framework 4xx kept (fastify's can quote the URL). */
const MAX_FRAMEWORK_MESSAGE = 300;

function answer(code: ErrorCode, message: string, problems?: readonly HttpProblem[]): HttpErrorReply {
  const status = errorCodes[code].http;
  if (status >= 500)
    return {
      status,
      body: errorBody(code, publicMessage(code)),
      internal: true,
      retryAfter: status === 503 && errorCodes[code].retryable,
    };
  return { status, body: errorBody(code, message, problems), internal: false, retryAfter: status === 429 };
}

/**
 * The answer to an error, for every HTTP service (src/http/error-replies.ts): a registered code
 * and its registry status, always. An SfError keeps its code; 4xx carry the error's message (it
 * names the problem, never internals) and its field problems; 5xx carry `publicMessage` only —
 * never the message, the cause, a stack or a path. fastify's and Node's own errors (a body that
 * is not JSON, a URL that does not decode, a request timeout…) get the code of their status
 * (codeForHttpStatus); anything else is 500 SF_ERR_INTERNAL.
 */
export function httpErrorReply(err: unknown): HttpErrorReply {
  if (isSfError(err)) {
    const problems = err.details?.problems as HttpProblem[] | undefined;
    return answer(err.code, err.message, Array.isArray(problems) ? problems : undefined);
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as FrameworkError;
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
  const code = codeForHttpStatus(status);
  const known = typeof e.code === 'string' ? FRAMEWORK_MESSAGES[e.code] : undefined;
  const message =
    known ??
    (typeof e.message === 'string' && e.message !== ''
      ? e.message.slice(0, MAX_FRAMEWORK_MESSAGE)
      : errorCodes[code].summary);
  return answer(code, message);
}
