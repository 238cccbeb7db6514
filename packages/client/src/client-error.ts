import { errorCodes, isErrorCode, type ErrorCode } from '../../../src/contracts/error-codes.ts';
import type { FieldProblem } from '../../../src/contracts/review-schema.ts';

export interface SentimentFleetErrorOptions {
  cause?: unknown;
  /** The HTTP status the service answered (HTTP client only). */
  status?: number;
  /** Seconds the service asked to wait before a retry (its Retry-After header, 429 and 503). */
  retryAfterS?: number;
  /** The field problems of a refused request: `[3].text`, `ids[0]`. */
  problems?: FieldProblem[];
}

/**
 * The one error both clients throw. `code` is a code of the fleet's registry (what the service
 * answered, or SF_ERR_CONFIG for a misused client, SF_ERR_REDIS for an unreachable Redis,
 * SF_ERR_UNREACHABLE for an unreachable HTTP service, SF_ERR_VALIDATION for invalid reviews);
 * `retryable` says whether the same call may succeed later.
 */
export class SentimentFleetError extends Error {
  readonly code: ErrorCode | (string & {});
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterS: number | undefined;
  readonly problems: FieldProblem[] | undefined;

  constructor(code: ErrorCode | (string & {}), message: string, options: SentimentFleetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SentimentFleetError';
    this.code = code;
    this.status = options.status;
    this.retryAfterS = options.retryAfterS;
    this.problems = options.problems;
    this.retryable = isErrorCode(code)
      ? errorCodes[code].retryable
      : options.status !== undefined && (options.status >= 500 || options.status === 429);
  }
}
