import { describe, expect, it } from 'vitest';
import { encodeJobFailure } from '../../src/contracts/job-failure.ts';
import { groupFailureReasons } from '../../src/stats/failure-reasons.ts';

describe('failure reasons', () => {
  it('counts by code (contracts/job-failure.ts), most frequent first, with the latest failure time', () => {
    const rows = [
      { reason: 'SF_ERR_BAD_INPUT: no tokens', finishedOn: 1_000 }, // failed before the JSON reasons
      { reason: encodeJobFailure({ code: 'SF_ERR_BAD_JOB', message: 'x' }), finishedOn: 3_000 },
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
