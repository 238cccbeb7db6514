import { errorCodes, type ErrorCode } from '../contracts/error-codes.ts';
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

export function errorBody(code: string, message: string, problems?: readonly HttpProblem[]): HttpErrorBody {
  if (!problems) return { error: { code, message } };
  const listed = problems.slice(0, MAX_PROBLEMS_IN_REPLY);
  const omitted = problems.length - listed.length;
  return { error: omitted > 0 ? { code, message, problems: listed, problemsOmitted: omitted } : { code, message, problems: listed } };
}

interface FrameworkError {
  statusCode?: unknown;
  code?: unknown;
  message?: unknown;
}

/**
 * The answer to an error, for every HTTP service: an SfError gets its registry status; 4xx carry
 * the error's message (it names the problem, never internals) and its field problems; 5xx carry
 * the registered code and `publicMessage` only — never the message, the cause, a stack or a path.
 * A framework error (fastify's 4xx) keeps its code and message; anything else is 500
 * SF_ERR_INTERNAL.
 */
export function httpErrorReply(err: unknown): HttpErrorReply {
  if (isSfError(err)) {
    const status = errorCodes[err.code].http;
    if (status >= 500) return { status, body: errorBody(err.code, publicMessage(err.code)), internal: true, retryAfter: status === 503 && errorCodes[err.code].retryable };
    const problems = err.details?.problems as HttpProblem[] | undefined;
    return { status, body: errorBody(err.code, err.message, Array.isArray(problems) ? problems : undefined), internal: false, retryAfter: status === 429 };
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as FrameworkError;
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
  if (status >= 500) return { status: 500, body: errorBody('SF_ERR_INTERNAL', publicMessage('SF_ERR_INTERNAL')), internal: true, retryAfter: false };
  const code = typeof e.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(e.code) ? e.code : 'SF_ERR_HTTP';
  return { status, body: errorBody(code, typeof e.message === 'string' ? e.message : 'bad request'), internal: false, retryAfter: false };
}
