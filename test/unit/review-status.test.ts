import { describe, expect, it } from 'vitest';
import { errorCodes, type ErrorCode } from '../../src/contracts/error-codes.ts';
import { encodeJobFailure, jobFailure } from '../../src/contracts/job-failure.ts';
import { legacyReviewJobId, reviewIdToJobId } from '../../src/contracts/job-id.ts';
import {
  createReviewStatusReader,
  jobState,
  type JobReplies,
  type StatusClient,
} from '../../src/contracts/review-status.ts';

const job = (over: Partial<JobReplies> = {}): JobReplies => ({
  exists: true,
  active: false,
  completed: false,
  failed: false,
  failedReason: null,
  attemptsMade: 0,
  ...over,
});

describe('review status from a job', () => {
  it('maps the job to queued, active, scored, failed or unknown', () => {
    expect(jobState('a', job({ exists: false }))).toEqual({ id: 'a', state: 'unknown' });
    expect(jobState('a', job())).toEqual({ id: 'a', state: 'queued' });
    // A job waiting for its retry after a retryable failure has a reason but is queued.
    expect(jobState('a', job({ failedReason: 'SF_ERR_REDIS: x', attemptsMade: 1 }))).toEqual({
      id: 'a',
      state: 'queued',
    });
    expect(jobState('a', job({ active: true }))).toEqual({ id: 'a', state: 'active' });
    expect(jobState('a', job({ completed: true, attemptsMade: 1 }))).toEqual({ id: 'a', state: 'scored' });
    expect(
      jobState(
        'a',
        job({
          failed: true,
          attemptsMade: 1,
          failedReason: encodeJobFailure({
            code: 'SF_ERR_BAD_INPUT',
            message: 'text has no tokens after normalization',
          }),
        }),
      ),
    ).toEqual({
      id: 'a',
      state: 'failed',
      failure: { code: 'SF_ERR_BAD_INPUT', message: 'text has no tokens after normalization', attempts: 1 },
    });
  });

  it('shows the message of a failure about the review (4xx codes), and only the registered summary of any other', () => {
    const internal = 'ORT run failed at /opt/app/models/x.onnx: Redis WRONGTYPE Operation against a key';
    for (const code of Object.keys(errorCodes) as ErrorCode[]) {
      const failure = jobFailure(encodeJobFailure({ code, message: internal }));
      expect(failure.code).toBe(code);
      expect(failure.message).toBe(errorCodes[code].http < 500 ? internal : errorCodes[code].summary);
    }
    expect(jobFailure(encodeJobFailure({ code: 'SF_ERR_INFERENCE', message: internal })).message).toBe(
      'the inference session failed',
    );
    expect(jobFailure('job stalled more than allowable limit')).toEqual({
      code: 'BULLMQ_STALLED_LIMIT',
      message: expect.stringContaining('stalled'),
    });
    expect(jobFailure(`something about "Great phone" ${internal}`)).toEqual({
      code: 'OTHER',
      message: 'the review failed for a reason without a registered code',
    });
    expect(jobFailure(null).code).toBe('OTHER');
    expect(jobFailure('SF_ERR_BAD_INPUT: ' + 'x'.repeat(10_000)).message).toHaveLength(501); // 500 and an ellipsis
  });

  it('counts at least one attempt for a failed job', () => {
    expect(
      jobState('a', job({ failed: true, attemptsMade: 0, failedReason: 'job stalled more than allowable limit' }))
        .failure?.attempts,
    ).toBe(1);
    expect(
      jobState('a', job({ failed: true, attemptsMade: 5, failedReason: 'SF_ERR_THREAD_CRASH: x' })).failure?.attempts,
    ).toBe(5);
  });
});

/** A Redis stand-in: job hashes by key, the completed/failed/active members, and every pipeline run. */
function fakeRedis(state: {
  hashes?: Record<string, Record<string, string>>;
  completed?: string[];
  failed?: string[];
  active?: string[];
  lists?: string[];
}) {
  const runs: string[][] = [];
  const client: StatusClient = {
    pipeline() {
      const commands: string[] = [];
      const replies: [Error | null, unknown][] = [];
      const p = {
        hmget(k: string, ...fields: string[]) {
          commands.push(`hmget ${k}`);
          if (state.lists?.includes(k)) replies.push([new Error('WRONGTYPE'), null]);
          else replies.push([null, fields.map((f) => state.hashes?.[k]?.[f] ?? null)]);
          return p;
        },
        hget(k: string, field: string) {
          commands.push(`hget ${k}`);
          if (state.lists?.includes(k)) replies.push([new Error('WRONGTYPE'), null]);
          else replies.push([null, state.hashes?.[k]?.[field] ?? null]);
          return p;
        },
        zscore(k: string, member: string) {
          commands.push(`zscore ${k}`);
          const set = k === key('completed') ? state.completed : state.failed;
          replies.push([null, set?.includes(member) ? '1' : null]);
          return p;
        },
        lpos(_k: string, element: string) {
          commands.push('lpos');
          replies.push([null, state.active?.includes(element) ? 0 : null]);
          return p;
        },
        async exec() {
          runs.push(commands);
          return replies;
        },
      };
      return p;
    },
  };
  return { client, runs, queue: { toKey: key } };
}

const key = (type: string) => `{p}:reviews:${type}`;

describe('review status reader', () => {
  const { client, runs, queue } = fakeRedis({
    hashes: {
      [key(reviewIdToJobId('q'))]: { timestamp: '1' },
      [key(reviewIdToJobId('done'))]: { timestamp: '1', atm: '1' },
      [key(reviewIdToJobId('bad'))]: {
        timestamp: '1',
        atm: '1',
        failedReason: 'SF_ERR_BAD_INPUT: text has no tokens after normalization',
      },
      [key(reviewIdToJobId('stored'))]: { timestamp: '1', atm: '1' },
      // A job queued before the r~ job ids, and a key that is BullMQ's own with an id's old name.
      [key(legacyReviewJobId('old:1'))]: { timestamp: '1', name: 'review', atm: '1' },
      [key('meta')]: { 'opts.maxLenEvents': '10000', version: 'bullmq:6' },
    },
    completed: [reviewIdToJobId('done'), reviewIdToJobId('stored'), legacyReviewJobId('old:1')],
    failed: [reviewIdToJobId('bad')],
    lists: [key('active'), key('wait')],
  });

  it('answers every id in the order asked, in one pipeline per batch, with stored results where the database has them', async () => {
    const stored = new Map([['stored', { label: 'positive' }]]);
    const reader = createReviewStatusReader({ redis: client, queue, storedResults: async () => stored, batchSize: 3 });
    runs.length = 0;
    const ids = ['bad', 'q', 'done', 'stored', 'nope', 'q', 'active', 'meta'];
    const statuses = await reader.statuses(ids);
    expect(statuses.map((s) => [s.id, s.state])).toEqual([
      ['bad', 'failed'],
      ['q', 'queued'],
      ['done', 'scored'],
      ['stored', 'stored'],
      ['nope', 'unknown'],
      ['q', 'queued'],
      ['active', 'unknown'], // its old job id names the active list: never read as a job
      ['meta', 'unknown'], // its old job id names the meta hash, which is no review job
    ]);
    expect(statuses[0]!.failure).toEqual({
      code: 'SF_ERR_BAD_INPUT',
      message: 'text has no tokens after normalization',
      attempts: 1,
    });
    expect(statuses[3]!.result).toEqual({ label: 'positive' });
    // 7 unique ids, 3 per batch: 3 round trips, 5 commands per id; no legacy job, no second trip.
    expect(runs.map((r) => r.length)).toEqual([15, 15, 5]);
    expect(await reader.statuses(['stored'], { includeResult: false })).toEqual([{ id: 'stored', state: 'stored' }]);
  });

  it('finds a job queued before the r~ job ids with a second round trip, only when one exists', async () => {
    const reader = createReviewStatusReader({ redis: client, queue });
    runs.length = 0;
    expect(await reader.statuses(['old:1', 'stored'])).toEqual([
      { id: 'old:1', state: 'scored' },
      { id: 'stored', state: 'scored' }, // no database: a stored result reads scored while its job is kept
    ]);
    expect(runs.map((r) => r.length)).toEqual([10, 4]);
  });

  it('asks nothing for no ids', async () => {
    const reader = createReviewStatusReader({
      redis: client,
      queue,
      storedResults: async () => {
        throw new Error('not asked');
      },
    });
    runs.length = 0;
    expect(await reader.statuses([])).toEqual([]);
    expect(runs).toEqual([]);
  });
});
