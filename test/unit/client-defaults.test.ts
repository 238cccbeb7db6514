import { describe, expect, it } from 'vitest';
import { SERVER_DEFAULTS } from '../../packages/client/src/redis-client.ts';
import { defaultConfig } from '../helpers/config.ts';
import { reviewJobOptions } from '../../src/queue/queue-setup.ts';
import { reviewJobOptions as contractJobOptions } from '../../src/contracts/review-job.ts';

// The client package cannot read the services' settings: its defaults must be the services'
// defaults, or its jobs would land on another queue or be kept and retried differently.
describe('client defaults', () => {
  it('equal the defaults of QUEUE_PREFIX, REVIEWS_QUEUE, MAX_TEXT_CHARS, ENQUEUE_CHUNK_SIZE and the job settings', () => {
    const config = defaultConfig({});
    expect(SERVER_DEFAULTS.prefix).toBe(config.redis.prefix);
    expect(SERVER_DEFAULTS.queue).toBe(config.queues.reviews);
    expect(SERVER_DEFAULTS.maxTextChars).toBe(config.reviews.maxTextChars);
    expect(SERVER_DEFAULTS.chunkSize).toBe(config.producer.chunkSize);
    expect(contractJobOptions(SERVER_DEFAULTS.jobs)).toEqual(reviewJobOptions(config));
  });
});
