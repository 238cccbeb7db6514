import { errorCodes, isErrorCode, type ErrorCode } from '../contracts/error-codes.ts';

export interface SfErrorOptions {
  cause?: unknown;
  /** Structured, log-safe details (field names, counts): never review text. */
  details?: Record<string, unknown>;
  /** Overrides the registry's default. */
  retryable?: boolean;
}

/** The one error class of sentiment-fleet: a stable code, whether a retry can help, the cause. */
export class SfError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: SfErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SfError';
    this.code = code;
    this.retryable = options.retryable ?? errorCodes[code].retryable;
    this.details = options.details;
  }

  /** A plain object that survives structured clone (worker_threads) and JSON. */
  toJSON(): SerializedSfError {
    return { code: this.code, message: this.message, retryable: this.retryable, details: this.details };
  }

  static fromJSON(value: SerializedSfError): SfError {
    return new SfError(value.code, value.message, { retryable: value.retryable, details: value.details });
  }
}

export interface SerializedSfError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  details: Record<string, unknown> | undefined;
}

export function isSfError(err: unknown, code?: ErrorCode): err is SfError {
  return err instanceof SfError && (code === undefined || err.code === code);
}

export function isSerializedSfError(value: unknown): value is SerializedSfError {
  return typeof value === 'object' && value !== null && isErrorCode((value as { code?: unknown }).code);
}

/** Wraps anything thrown into an SfError with the given code, keeping it as `cause`. */
export function toSfError(err: unknown, code: ErrorCode, message?: string): SfError {
  if (err instanceof SfError) return err;
  const text = message ?? (err instanceof Error ? err.message : String(err));
  return new SfError(code, text, { cause: err });
}
