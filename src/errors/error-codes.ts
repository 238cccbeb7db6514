/**
 * The error registry: every error sentiment-fleet raises on purpose has a stable code here.
 * Callers classify errors by code (or by the SfError class), never by message text.
 */
export const errorCodes = {
  SF_ERR_CONFIG: { retryable: false, summary: 'invalid configuration' },
  SF_ERR_VALIDATION: { retryable: false, summary: 'a review failed validation' },
  SF_ERR_BAD_JOB: { retryable: false, summary: 'a job payload has the wrong shape' },
  SF_ERR_BAD_INPUT: { retryable: false, summary: 'an item cannot be tokenized or scored' },
  SF_ERR_MODEL_LOAD: { retryable: false, summary: 'the model directory cannot be loaded' },
  SF_ERR_INFERENCE: { retryable: true, summary: 'the inference session failed' },
  SF_ERR_THREAD_CRASH: { retryable: true, summary: 'an inference thread exited or crashed' },
  SF_ERR_POOL_CLOSED: { retryable: true, summary: 'the inference pool is closed' },
  SF_ERR_REDIS: { retryable: true, summary: 'Redis is unreachable or failed' },
  SF_ERR_BACKPRESSURE: { retryable: true, summary: 'the backlog is above its high-water mark' },
  SF_ERR_STORAGE: { retryable: true, summary: 'the results database is unreachable or failed' },
  SF_ERR_IMPORT: { retryable: false, summary: 'an import file cannot be read' },
  SF_ERR_NO_REDIS: { retryable: false, summary: 'no Redis URL is set and no redis-server is on PATH' },
  SF_ERR_NO_DATABASE: { retryable: false, summary: 'HTTP 503: the service has no results database (the standalone ingest service without DATABASE_URL)' },
  SF_ERR_SHUTDOWN: { retryable: true, summary: 'the process is shutting down' },
  SF_ERR_UNAUTHORIZED: { retryable: false, summary: 'HTTP 401: no API key, or an unknown one' },
  SF_ERR_FORBIDDEN: { retryable: false, summary: 'HTTP 403: the API key lacks the scope the request needs' },
  SF_ERR_RATE_LIMIT: { retryable: true, summary: 'HTTP 429: the API key (or client) is over its requests per minute' },
  SF_ERR_NOT_FOUND: { retryable: false, summary: 'HTTP 404: no such route, job or stored result' },
  SF_ERR_READ_ONLY: { retryable: false, summary: 'HTTP 405: bull-board is read-only (with DASHBOARD_ALLOW_RETRIES, except for retrying failed jobs)' },
  SF_ERR_JOB_STATE: { retryable: false, summary: 'HTTP 409: the job is not failed, and only failed jobs can be retried from bull-board' },
} as const satisfies Record<string, { retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof errorCodes;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCodes, value);
}
