import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { decodeJobFailure } from '../../src/contracts/job-failure.ts';
import { reviewIdToJobId } from '../../src/contracts/job-id.ts';
import { resultBatchJobId } from '../../src/results/result-publisher.ts';
import { readFailureStats } from '../../src/stats/failure-reasons.ts';
import {
  PROJECT_ROOT,
  openQueues,
  reviews,
  startWorker,
  testEnv,
  useTempModel,
  type TestQueues,
} from '../helpers/fleet.ts';
import { useTestRedis } from '../helpers/redis.ts';

const redis = useTestRedis();
const model = useTempModel();

async function withFleet(
  extra: Record<string, string>,
  body: (q: TestQueues, env: Record<string, string>) => Promise<void>,
) {
  const env = testEnv(redis.current.url, model.dir, extra);
  const queues = await openQueues(defaultConfig(env));
  const worker = await startWorker(env);
  try {
    await body(queues, env);
  } finally {
    await worker.close();
    await queues.close();
  }
}

describe('producer → batching workers → results queue', () => {
  it('scores every review once, in dynamic batches, with the result contract', async () => {
    // The fixed policy, so that the batch sizes below follow from BATCH_MAX_SIZE / BATCH_MAX_WAIT_MS.
    await withFleet({ BATCH_POLICY: 'fixed', BATCH_MAX_SIZE: '16', BATCH_MAX_WAIT_MS: '20' }, async (q) => {
      const input = reviews(200).map((r, i) => (i === 0 ? { ...r, title: 'Awesome', productId: 'p-1' } : r));
      const outcome = await q.producer.enqueueMany(input);
      expect(outcome.accepted).toHaveLength(200);
      await q.settled(200);

      const results = await q.publishedResults();
      expect(results).toHaveLength(200);
      const byReview = new Map(results.map((j) => [j.data.reviewId, j]));
      expect(byReview.size).toBe(200);
      for (const r of input) {
        const job = byReview.get(r.id)!;
        expect(job.jobId).toMatch(/^rb-[0-9a-f]{40}$/);
        expect(job.data.label).toBe(r.text.startsWith('I love') ? 'positive' : 'negative');
        expect(job.data.score).toBeGreaterThan(0.9);
        expect(Object.keys(job.data.scores).sort()).toEqual(['negative', 'positive']);
        expect(job.data.model).toEqual({ name: expect.any(String), version: '1' });
        expect(job.data.truncated).toBe(false);
        expect(job.data.tokens).toBeGreaterThan(2);
        expect(job.data.batchSize).toBeGreaterThanOrEqual(1);
        expect(job.data.batchSize).toBeLessThanOrEqual(16);
        expect(job.data.timings.queuedMs).toBeGreaterThanOrEqual(0);
        expect(Date.parse(job.data.processedAt)).not.toBeNaN();
      }
      expect(byReview.get('r-0')!.data.productId).toBe('p-1');
      expect(byReview.get('r-1')!.data.productId).toBeNull();
      // Dynamic batching happened: with 200 reviews waiting, batches fill up.
      expect(Math.max(...results.map((j) => j.data.batchSize))).toBe(16);
      // One result job per batch, its id derived from its results (a re-published batch is one job).
      const jobs = await q.resultJobs();
      expect(jobs.length).toBeLessThan(200);
      for (const j of jobs) {
        expect(j.id).toBe(resultBatchJobId(j.data.results));
        expect(j.data.results.every((r) => r.batchSize >= j.data.results.length)).toBe(true);
      }
      const counts = await q.reviews.getJobCounts('completed', 'failed');
      expect(counts).toEqual({ completed: 200, failed: 0 });
    });
  });

  it('token-budget (the default): a batch holds the queued reviews whose padded tokens fit BATCH_MAX_TOKENS', async () => {
    await withFleet({ BATCH_MAX_SIZE: '64', BATCH_MAX_TOKENS: '40' }, async (q) => {
      await q.producer.enqueueMany(reviews(200));
      await q.settled(200);
      const jobs = await q.resultJobs();
      expect(jobs.flatMap((j) => j.data.results)).toHaveLength(200);
      for (const j of jobs) {
        const rows = j.data.results[0]!.batchSize;
        expect(j.data.results).toHaveLength(rows);
        // Rows × the longest review's tokens (special tokens included) stays within the budget.
        expect(rows * Math.max(...j.data.results.map((r) => r.tokens))).toBeLessThanOrEqual(40);
      }
      // The budget, not BATCH_MAX_SIZE, sets the size: with 200 reviews queued, batches fill it.
      const longest = Math.max(...jobs.flatMap((j) => j.data.results.map((r) => r.tokens)));
      expect(Math.max(...jobs.map((j) => j.data.results.length))).toBeGreaterThanOrEqual(Math.floor(40 / longest));
      expect(Math.floor(40 / longest)).toBeGreaterThan(1);
    });
  });

  it('reports re-sent reviews as duplicates and never scores them twice', async () => {
    await withFleet({}, async (q) => {
      const first = await q.producer.enqueueMany(reviews(20));
      await q.settled(20);
      const again = await q.producer.enqueueMany(reviews(25)); // 20 known + 5 new
      expect(again.duplicates.sort()).toEqual(first.accepted.sort());
      expect(again.accepted).toEqual(['r-20', 'r-21', 'r-22', 'r-23', 'r-24']);
      await q.settled(25);
      expect(await q.publishedResults()).toHaveLength(25);
      expect((await q.reviews.getJobCounts('completed')).completed).toBe(25);
    });
  });

  it('fails a poison review alone, without retries, and scores the rest of its batch', async () => {
    // The fixed policy with a long wait puts all eight reviews in one batch (it closes at the eighth; the wait only bounds a lost one).
    await withFleet({ BATCH_POLICY: 'fixed', BATCH_MAX_SIZE: '8', BATCH_MAX_WAIT_MS: '10000' }, async (q) => {
      const input = reviews(7);
      input.splice(3, 0, { id: 'poison', text: '\u0000\u0001\u0002' }); // valid JSON, no tokens after normalization
      await q.producer.enqueueMany(input);
      await q.settled(8);
      const poison = await q.reviews.getJob(reviewIdToJobId('poison'));
      expect(await poison!.getState()).toBe('failed');
      expect(decodeJobFailure(poison!.failedReason)).toMatchObject({
        code: 'SF_ERR_BAD_INPUT',
        message: expect.stringMatching(/token/),
      });
      expect(poison!.attemptsMade).toBe(1);
      const results = await q.publishedResults();
      expect(results.map((j) => j.data.reviewId).sort()).toEqual(
        reviews(7)
          .map((r) => r.id)
          .sort(),
      );
      expect(results.every((j) => j.data.batchSize === 8)).toBe(true);
    });
  });

  it('adds an explanation to the result of a review that asks for one, and only to it', async () => {
    // The tiny model has no exact explainer: this test runs the default (hashed n-gram linear) model.
    const defaultModel = path.join(PROJECT_ROOT, 'models', 'review-sentiment-en');
    await withFleet({ MODEL_DIR: defaultModel, EXPLAIN_TOP_K: '3', BATCH_MAX_WAIT_MS: '50' }, async (q) => {
      const text = 'I love this phone, great battery';
      await q.producer.enqueueMany([
        { id: 'e-1', text, explain: true },
        { id: 'e-2', text },
      ]);
      await q.settled(2);
      const byReview = new Map((await q.publishedResults()).map((j) => [j.data.reviewId, j.data]));
      const explained = byReview.get('e-1')!;
      expect(explained.label).toBe('positive');
      expect(explained.explanation).toEqual({
        method: 'linear-exact',
        toward: expect.arrayContaining([{ text: 'great', weight: expect.any(Number) }]),
        against: expect.any(Array),
      });
      expect(explained.explanation!.toward.length).toBeLessThanOrEqual(3);
      expect(explained.explanation!.against.length).toBeLessThanOrEqual(3);
      expect(byReview.get('e-2')!.label).toBe('positive');
      expect(byReview.get('e-2')).not.toHaveProperty('explanation');
    });
  });

  it('fails a job written by another producer with a bad shape, naming the fields', async () => {
    await withFleet({}, async (q) => {
      await q.reviews.add('review', { id: 'x1', body: 'not our shape' }, { jobId: 'x1' });
      await q.reviews.add('review', { id: 'x2', text: 42 }, { jobId: 'x2' });
      await q.settled(2);
      const [x1, x2] = await Promise.all([q.reviews.getJob('x1'), q.reviews.getJob('x2')]);
      expect(decodeJobFailure(x1!.failedReason)).toEqual({
        code: 'SF_ERR_BAD_JOB',
        message: 'job data is not a valid review (2 problem(s))',
        problems: [
          { path: 'text', message: 'text is required' },
          { path: '(root)', message: expect.stringContaining('unknown field(s): body') },
        ],
      });
      expect(decodeJobFailure(x2!.failedReason)).toMatchObject({
        code: 'SF_ERR_BAD_JOB',
        problems: [{ path: 'text', message: 'text must be a string' }],
      });
      expect(x1!.attemptsMade).toBe(1);
      expect(await q.publishedResults()).toHaveLength(0);
      // What /v1/stats (and the dashboard) shows for them: the code, never the payload.
      const failures = await readFailureStats(q.reviews);
      expect(failures).toEqual({
        sampled: 2,
        reasons: [{ code: 'SF_ERR_BAD_JOB', count: 2, lastAt: expect.any(String) }],
      });
      expect(JSON.stringify(failures)).not.toContain('not our shape');
    });
  });
});
