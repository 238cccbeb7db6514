/**
 * `@sentiment-fleet/client`: enqueue reviews for sentiment-fleet and follow them.
 * - createClient: straight to the fleet's Redis (BullMQ), the same checks and job ids as the
 *   ingest service (the schemas are compiled from the server's src/contracts, not copied).
 * - createHttpClient: through the ingest service's HTTP API, global fetch only.
 */
export {
  bulkChunkJobId,
  createClient,
  SERVER_DEFAULTS,
  type ClientOptions,
  type EnqueueManyOptions,
  type SentimentFleetClient,
} from './redis-client.ts';
export type { ClientLogger } from './client-logger.ts';
export type { RedisConnection } from './redis-connect.ts';
export * from './http.ts';
export { REVIEW_STATES } from '../../../src/contracts/review-status.ts';
export type { ReviewJobSettings } from '../../../src/contracts/review-job.ts';
