/**
 * The error registry: every error sentiment-fleet raises on purpose has a stable code here, with
 * the HTTP status it is answered with (src/errors/http-error.ts) and whether a retry can help.
 * Callers classify errors by code (or by the SfError class, src/errors), never by message text.
 * It is part of the wire contract (clients see the codes), so it lives in src/contracts and is
 * compiled into the client package.
 */
export const errorCodes = {
  SF_ERR_CONFIG: { http: 500, retryable: false, summary: 'invalid configuration' },
  SF_ERR_VALIDATION: { http: 400, retryable: false, summary: 'a review failed validation' },
  SF_ERR_BAD_JOB: { http: 500, retryable: false, summary: 'a job payload has the wrong shape' },
  SF_ERR_BAD_INPUT: { http: 400, retryable: false, summary: 'an item cannot be tokenized or scored' },
  SF_ERR_MODEL_LOAD: { http: 500, retryable: false, summary: 'the model directory cannot be loaded' },
  SF_ERR_INFERENCE: { http: 503, retryable: true, summary: 'the inference session failed' },
  SF_ERR_THREAD_CRASH: { http: 503, retryable: true, summary: 'an inference thread exited or crashed' },
  SF_ERR_POOL_CLOSED: { http: 503, retryable: true, summary: 'the inference pool is closed' },
  SF_ERR_REDIS: { http: 503, retryable: true, summary: 'Redis is unreachable or failed' },
  SF_ERR_BACKPRESSURE: { http: 503, retryable: true, summary: 'the backlog is above its high-water mark' },
  SF_ERR_NO_DATABASE: { http: 503, retryable: false, summary: 'this service has no results database: set DATABASE_URL (the PostgreSQL the result sink writes to)' },
  SF_ERR_STORAGE: { http: 503, retryable: true, summary: 'the results database is unreachable or failed' },
  SF_ERR_IMPORT: { http: 400, retryable: false, summary: 'an import file cannot be read' },
  SF_ERR_NO_REDIS: { http: 500, retryable: false, summary: 'no Redis URL is set and no redis-server is on PATH' },
  SF_ERR_SHUTDOWN: { http: 503, retryable: true, summary: 'the process is shutting down' },
  SF_ERR_UNAUTHORIZED: { http: 401, retryable: false, summary: 'HTTP 401: no API key, or an unknown one' },
  SF_ERR_FORBIDDEN: { http: 403, retryable: false, summary: 'HTTP 403: the API key lacks the scope the request needs' },
  SF_ERR_TOO_LARGE: { http: 413, retryable: false, summary: 'HTTP 413: the body, one review in it, or the number of reviews is over its limit' },
  SF_ERR_NOT_FOUND: { http: 404, retryable: false, summary: 'HTTP 404: no such route, job or stored result' },
  SF_ERR_READ_ONLY: { http: 405, retryable: false, summary: 'HTTP 405: bull-board is read-only (with DASHBOARD_ALLOW_RETRIES, except for retrying failed jobs)' },
  SF_ERR_JOB_STATE: { http: 409, retryable: false, summary: 'HTTP 409: the job is not failed, and only failed jobs can be retried from bull-board' },
  SF_ERR_INTERNAL: { http: 500, retryable: false, summary: 'an unexpected internal error (details in the log only)' },
  SF_ERR_RATE_LIMIT: { http: 429, retryable: true, summary: 'HTTP 429: the API key (or client) is over its requests per minute' },
  SF_ERR_UNREACHABLE: { http: 503, retryable: true, summary: 'the client package got no answer from the service (network error or timeout)' },
} as const satisfies Record<string, { http: number; retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof errorCodes;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCodes, value);
}
