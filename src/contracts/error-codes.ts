/**
 * The error registry: every error sentiment-fleet raises on purpose has a stable code here, with
 * the HTTP status it is answered with (src/errors/http-error.ts) and whether a retry can help.
 * Callers classify errors by code (or by the SfError class, src/errors), never by message text.
 * It is part of the wire contract (clients see the codes), so it lives in src/contracts and is
 * compiled into the client package.
 */
export const errorCodes = {
  SF_ERR_CONFIG: { http: 500, retryable: false, summary: 'invalid configuration' },
  SF_ERR_VALIDATION: {
    http: 400,
    retryable: false,
    summary: 'the request failed validation: a review or a field in it, the JSON, the URL or a query parameter',
  },
  SF_ERR_BAD_JOB: { http: 500, retryable: false, summary: 'a job payload has the wrong shape' },
  SF_ERR_BAD_INPUT: { http: 400, retryable: false, summary: 'an item cannot be tokenized or scored' },
  SF_ERR_MODEL_LOAD: { http: 500, retryable: false, summary: 'the model directory cannot be loaded' },
  SF_ERR_INFERENCE: { http: 503, retryable: true, summary: 'the inference session failed' },
  SF_ERR_THREAD_CRASH: { http: 503, retryable: true, summary: 'an inference thread exited or crashed' },
  SF_ERR_POOL_CLOSED: { http: 503, retryable: true, summary: 'the inference pool is closed' },
  SF_ERR_REDIS: { http: 503, retryable: true, summary: 'Redis is unreachable or failed' },
  SF_ERR_BACKPRESSURE: { http: 503, retryable: true, summary: 'the backlog is above its high-water mark' },
  SF_ERR_NO_DATABASE: {
    http: 503,
    retryable: false,
    summary: 'this service has no results database: set DATABASE_URL (the PostgreSQL the result sink writes to)',
  },
  SF_ERR_STORAGE: { http: 503, retryable: true, summary: 'the results database is unreachable or failed' },
  SF_ERR_IMPORT: { http: 400, retryable: false, summary: 'an import file cannot be read' },
  SF_ERR_NO_REDIS: { http: 500, retryable: false, summary: 'no Redis URL is set and no redis-server is on PATH' },
  SF_ERR_SHUTDOWN: { http: 503, retryable: true, summary: 'the process is shutting down' },
  SF_ERR_UNAUTHORIZED: { http: 401, retryable: false, summary: 'HTTP 401: no API key, or an unknown one' },
  SF_ERR_FORBIDDEN: { http: 403, retryable: false, summary: 'HTTP 403: the API key lacks the scope the request needs' },
  SF_ERR_TOO_LARGE: {
    http: 413,
    retryable: false,
    summary: 'HTTP 413: the body, one review in it, or the number of reviews is over its limit',
  },
  SF_ERR_URI_TOO_LONG: {
    http: 414,
    retryable: false,
    summary: 'HTTP 414: a path parameter (a review id) is over its length limit',
  },
  SF_ERR_UNSUPPORTED_MEDIA_TYPE: { http: 415, retryable: false, summary: 'HTTP 415: the body is not application/json' },
  SF_ERR_TIMEOUT: {
    http: 408,
    retryable: true,
    summary:
      'HTTP 408: the request did not arrive within the server timeouts (HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS)',
  },
  SF_ERR_HEADERS_TOO_LARGE: {
    http: 431,
    retryable: false,
    summary: 'HTTP 431: the request headers are over the server limit',
  },
  SF_ERR_NOT_FOUND: { http: 404, retryable: false, summary: 'HTTP 404: no such route, job or stored result' },
  SF_ERR_READ_ONLY: {
    http: 405,
    retryable: false,
    summary: 'HTTP 405: bull-board is read-only (with DASHBOARD_ALLOW_RETRIES, except for retrying failed jobs)',
  },
  SF_ERR_JOB_STATE: {
    http: 409,
    retryable: false,
    summary: 'HTTP 409: the job is not failed, and only failed jobs can be retried from bull-board',
  },
  SF_ERR_INTERNAL: { http: 500, retryable: false, summary: 'an unexpected internal error (details in the log only)' },
  SF_ERR_RATE_LIMIT: {
    http: 429,
    retryable: true,
    summary: 'HTTP 429: the API key (or client) is over its requests per minute',
  },
  SF_ERR_UNREACHABLE: {
    http: 503,
    retryable: true,
    summary: 'the client package got no answer from the service (network error or timeout)',
  },
} as const satisfies Record<string, { http: number; retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof errorCodes;

/**
 * The code of an HTTP error answer known only by its status: fastify's own 4xx (a URL that does
 * not decode, a Content-Length that lies), Node's (a request timeout, headers too large), an
 * answer without an error body (a proxy's). Each code's registered status is the key.
 */
const BY_HTTP_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'SF_ERR_VALIDATION',
  401: 'SF_ERR_UNAUTHORIZED',
  403: 'SF_ERR_FORBIDDEN',
  404: 'SF_ERR_NOT_FOUND',
  408: 'SF_ERR_TIMEOUT',
  413: 'SF_ERR_TOO_LARGE',
  414: 'SF_ERR_URI_TOO_LONG',
  415: 'SF_ERR_UNSUPPORTED_MEDIA_TYPE',
  429: 'SF_ERR_RATE_LIMIT',
  431: 'SF_ERR_HEADERS_TOO_LARGE',
  500: 'SF_ERR_INTERNAL',
};

/** The code for an error answer of this status; another 4xx is SF_ERR_VALIDATION, another 5xx SF_ERR_INTERNAL. */
export function codeForHttpStatus(status: number): ErrorCode {
  return BY_HTTP_STATUS[status] ?? (status < 500 ? 'SF_ERR_VALIDATION' : 'SF_ERR_INTERNAL');
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCodes, value);
}
