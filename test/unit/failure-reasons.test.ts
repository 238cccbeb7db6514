import { describe, expect, it } from 'vitest';
import { failureCode, groupFailureReasons } from '../../src/stats/failure-reasons.ts';

describe('failure reasons', () => {
  it('takes the error code a reason starts with, labels BullMQ stall failures, and nothing else', () => {
    expect(failureCode('SF_ERR_BAD_JOB: job data is not a valid review: text: text is required')).toBe('SF_ERR_BAD_JOB');
    expect(failureCode('job stalled more than allowable limit')).toBe('BULLMQ_STALLED_LIMIT');
    expect(failureCode('SF_ERR_NOT_A_CODE: x')).toBe('OTHER');
    expect(failureCode('something about "Great phone"')).toBe('OTHER'); // free text never becomes a code
    expect(failureCode(null)).toBe('OTHER');
  });

  it('counts by code, most frequent first, with the latest failure time', () => {
    const rows = [
      { reason: 'SF_ERR_BAD_INPUT: no tokens', finishedOn: 1_000 },
      { reason: 'SF_ERR_BAD_JOB: x', finishedOn: 3_000 },
      { reason: 'SF_ERR_BAD_JOB: y', finishedOn: 2_000 },
      { reason: 'weird', finishedOn: null },
    ];
    expect(groupFailureReasons(rows)).toEqual([
      { code: 'SF_ERR_BAD_JOB', count: 2, lastAt: new Date(3_000).toISOString() },
      { code: 'OTHER', count: 1, lastAt: null },
      { code: 'SF_ERR_BAD_INPUT', count: 1, lastAt: new Date(1_000).toISOString() },
    ]);
  });
});
