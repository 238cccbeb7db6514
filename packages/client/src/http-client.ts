import { codeForHttpStatus, type ErrorCode } from '../../../src/contracts/error-codes.ts';
import type { EnqueueOutcome } from '../../../src/contracts/review-job.ts';
import type { FieldProblem, Review } from '../../../src/contracts/review-schema.ts';
import type { ReviewStatus } from '../../../src/contracts/review-status.ts';
import { SentimentFleetError } from './client-error.ts';

/**
 * A stored result as the service returns it (docs/contracts.md, "The result"), with `storedAt`.
 * Only the fields every result has are typed; the others (timings, explanation, the shop's
 * fields) are there as the service sends them.
 */
export interface StoredResult {
  reviewId: string;
  productId: string | null;
  label: string;
  score: number;
  scores: Record<string, number>;
  model: { name: string; version: string };
  processedAt: string;
  storedAt: string;
  [field: string]: unknown;
}

export interface HttpClientOptions {
  /** The ingest service, such as http://127.0.0.1:3000. */
  baseUrl: string;
  /** An API key (API_KEYS): `write` to enqueue, `read` to read results; either for status. */
  apiKey?: string;
  /** Per request (default 30,000 ms); over it the call fails with SF_ERR_UNREACHABLE. */
  timeoutMs?: number;
  /** Ids per status request: at most the service's MAX_REVIEWS_PER_REQUEST (default 1000). */
  maxIdsPerRequest?: number;
  /** A fetch of your own (default: the global fetch). */
  fetch?: typeof fetch;
}

export interface SentimentFleetHttpClient {
  /** POST /v1/reviews with one review. */
  enqueue(review: Review): Promise<EnqueueOutcome>;
  /**
   * POST /v1/reviews with an array (at most MAX_REVIEWS_PER_REQUEST; all or nothing).
   * `lane: 'bulk'`: POST /v1/reviews?lane=bulk, one job per chunk of reviews (backfills).
   */
  enqueueMany(reviews: readonly Review[], options?: { lane?: 'live' | 'bulk' }): Promise<EnqueueOutcome>;
  /** POST /v1/reviews/status, maxIdsPerRequest ids per request: `stored` and, with a read key, `result`. */
  status(ids: readonly string[]): Promise<ReviewStatus<StoredResult>[]>;
  /** GET /v1/results/:id: the newest stored result, or undefined when there is none. */
  result(id: string): Promise<StoredResult | undefined>;
  /** Nothing to release (fetch keeps no state of the client's); for symmetry with createClient. */
  close(): Promise<void>;
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; problems?: unknown };
}

/**
 * A client of the ingest service's HTTP API, for apps that cannot reach Redis: only the global
 * fetch, no dependency (import it from `@sentiment-fleet/client/http` to load nothing else).
 * Every failure is a SentimentFleetError with the service's registered code and message, the
 * HTTP status, Retry-After (429, 503) and the field problems of a 400.
 */
/**
 * The code of an error answer without the service's error body (a proxy's): 502, 503 and 504
 * say the service did not answer (SF_ERR_UNREACHABLE); any other status, its registered code.
 */
function codeWithoutBody(status: number): ErrorCode {
  return status === 502 || status === 503 || status === 504 ? 'SF_ERR_UNREACHABLE' : codeForHttpStatus(status);
}

export function createHttpClient(options: HttpClientOptions): SentimentFleetHttpClient {
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch {
    throw new SentimentFleetError(
      'SF_ERR_CONFIG',
      `baseUrl ${JSON.stringify(String(options.baseUrl))} is not a URL: expected such as http://127.0.0.1:3000`,
    );
  }
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxIds = options.maxIdsPerRequest ?? 1000;
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
  };

  async function call<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    okStatuses: readonly number[] = [200],
  ): Promise<{ status: number; body: T }> {
    const url = new URL(path, base);
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const why =
        (err as Error).name === 'TimeoutError'
          ? `no answer within ${timeoutMs} ms`
          : `${(err as Error).message}${(err as { cause?: { code?: string } }).cause?.code ? ` (${(err as { cause: { code: string } }).cause.code})` : ''}`;
      throw new SentimentFleetError('SF_ERR_UNREACHABLE', `${method} ${url.origin}${url.pathname} failed: ${why}`, {
        cause: err,
      });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (okStatuses.includes(res.status)) return { status: res.status, body: parsed as T };
    const error = (parsed as ErrorBody | undefined)?.error;
    const retryAfter = Number(res.headers.get('retry-after'));
    throw new SentimentFleetError(
      typeof error?.code === 'string' ? error.code : codeWithoutBody(res.status),
      typeof error?.message === 'string' ? error.message : `HTTP ${res.status} from ${method} ${url.pathname}`,
      {
        status: res.status,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterS: retryAfter } : {}),
        ...(Array.isArray(error?.problems) ? { problems: error.problems as FieldProblem[] } : {}),
      },
    );
  }

  async function post(payload: unknown, lane?: 'live' | 'bulk'): Promise<EnqueueOutcome> {
    const { body } = await call<{ ids: string[]; duplicates: string[] }>(
      'POST',
      lane === 'bulk' ? '/v1/reviews?lane=bulk' : '/v1/reviews',
      payload,
      [202],
    );
    return { accepted: body.ids, duplicates: body.duplicates };
  }

  return {
    enqueue: (review) => post(review),
    enqueueMany: (reviews, options) => post(reviews, options?.lane),
    async status(ids) {
      const out: ReviewStatus<StoredResult>[] = [];
      for (let start = 0; start < ids.length; start += maxIds) {
        const { body } = await call<{ statuses: ReviewStatus<StoredResult>[] }>('POST', '/v1/reviews/status', {
          ids: ids.slice(start, start + maxIds),
        });
        out.push(...body.statuses);
      }
      return out;
    },
    async result(id) {
      try {
        const { body } = await call<{ results: StoredResult[] }>('GET', `/v1/results/${encodeURIComponent(id)}`);
        return body.results[0];
      } catch (err) {
        if (err instanceof SentimentFleetError && err.status === 404 && err.code === 'SF_ERR_NOT_FOUND')
          return undefined;
        throw err;
      }
    },
    async close() {},
  };
}
