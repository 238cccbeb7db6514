/**
 * `@sentiment-fleet/client/http`: the HTTP client alone (global fetch, nothing else loaded), for
 * apps that cannot reach the fleet's Redis, and for runtimes without Node's net module.
 */
export {
  createHttpClient,
  type HttpClientOptions,
  type SentimentFleetHttpClient,
  type StoredResult,
} from './http-client.ts';
export { SentimentFleetError } from './client-error.ts';
export type { EnqueueOutcome } from '../../../src/contracts/review-job.ts';
export type { FieldProblem, Review } from '../../../src/contracts/review-schema.ts';
export type { ReviewFailure, ReviewState, ReviewStatus } from '../../../src/contracts/review-status.ts';
export type { ErrorCode } from '../../../src/contracts/error-codes.ts';
