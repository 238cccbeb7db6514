import { describe, expect, it } from 'vitest';
import { SERVER_DEFAULTS, bulkChunkJobId as clientChunkId } from '../../packages/client/src/redis-client.ts';
import { bulkChunkJobId } from '../../src/queue/bulk-chunk-id.ts';
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
  it('equal the bulk lane defaults (BULK_QUEUE, BULK_CHUNK_SIZE, BULK_STATUS_TTL_S) and make the same chunk ids', () => {
    const config = defaultConfig({});
    expect(SERVER_DEFAULTS.bulkQueue).toBe(config.queues.bulk);
    expect(SERVER_DEFAULTS.bulkChunkSize).toBe(config.bulk.chunkSize);
    expect(SERVER_DEFAULTS.bulkStatusTtlS).toBe(config.bulk.statusTtlS);
    for (const [ids, version] of [
      [['b', 'a', 'c~:%'], ''],
      [['x'], 'v2'],
      [[], ''],
    ] as const)
      expect(clientChunkId(ids, version)).toBe(bulkChunkJobId(ids, version));
    // Order-free, and the model version counts.
    expect(bulkChunkJobId(['a', 'b'], '1')).toBe(bulkChunkJobId(['b', 'a'], '1'));
    expect(bulkChunkJobId(['a', 'b'], '1')).not.toBe(bulkChunkJobId(['a', 'b'], '2'));
    expect(bulkChunkJobId(['a', 'b'], '1')).toMatch(/^c~[0-9a-f]{32}$/);
  });
});
