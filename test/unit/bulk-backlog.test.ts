import { describe, expect, it } from 'vitest';
import { BULK_JOB_NAME, bulkJobName, bulkJobSize } from '../../src/contracts/bulk-job.ts';
import { bulkBacklogChunks, countBulkBacklog } from '../../src/stats/bulk-backlog.ts';

describe('bulk chunk job names', () => {
  it('record the chunk size, and read it back', () => {
    expect(bulkJobName(256)).toBe('chunk:256');
    expect(bulkJobSize(bulkJobName(256))).toBe(256);
    expect(bulkJobSize(bulkJobName(1))).toBe(1);
  });

  it('a bare chunk name is a chunk of unknown size; anything else is not a chunk', () => {
    expect(bulkJobSize(BULK_JOB_NAME)).toBeNull();
    for (const name of [
      'review',
      'chunk:',
      'chunk:-1',
      'chunk:1.5',
      'chunk:12a',
      'chunk:1234567890',
      'xchunk:3',
      'chunk:3 ',
    ])
      expect(bulkJobSize(name)).toBeUndefined();
  });
});

describe('countBulkBacklog', () => {
  it('sums the recorded sizes: exact when every chunk was read', () => {
    expect(countBulkBacklog(3, ['chunk:256', 'chunk:256', 'chunk:17'], 256)).toEqual({
      chunks: 3,
      reviews: 529,
      reviewsBasis: 'exact',
    });
    expect(countBulkBacklog(0, [], 256)).toEqual({ chunks: 0, reviews: 0, reviewsBasis: 'exact' });
  });

  it('counts chunks not read, or without a recorded size, at the chunk size: an upper bound', () => {
    // 5 chunks, 2 read (sizes 10 and 20), 3 beyond the scan: 30 + 3 × 256.
    expect(countBulkBacklog(5, ['chunk:10', 'chunk:20'], 256)).toEqual({
      chunks: 5,
      reviews: 798,
      reviewsBasis: 'upper-bound',
    });
    expect(countBulkBacklog(2, ['chunk', 'chunk:4'], 100)).toEqual({
      chunks: 2,
      reviews: 104,
      reviewsBasis: 'upper-bound',
    });
    expect(countBulkBacklog(1, ['other'], 100).reviewsBasis).toBe('upper-bound');
  });

  it('a chunk that left the queue between the reads (no name) counts nothing', () => {
    expect(countBulkBacklog(2, ['chunk:8', null], 256)).toEqual({ chunks: 2, reviews: 8, reviewsBasis: 'exact' });
  });

  it('the chunks of the backlog: every state but active, completed and failed', () => {
    expect(
      bulkBacklogChunks({ waiting: 1, prioritized: 2, delayed: 4, paused: 8, active: 16, completed: 32, failed: 64 }),
    ).toBe(15);
  });
});
