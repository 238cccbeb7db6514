import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reviewIdToJobId } from '../../src/contracts/job-id.ts';
import { BULL_BOARD_PATH, bullBoardRoutes } from '../../src/stats/dashboard-routes.ts';
import { uniqueName, useTestRedis } from '../helpers/redis.ts';

// bull-board's single-job retry route has no state in its path, and bull-board's own handler
// retries completed jobs too (issue 16: 204 for a completed job with a write key). With
// allowRetries, only failed jobs may be retried, whatever the client sends.
const redis = useTestRedis();

let queue: Queue;
const OK = reviewIdToJobId('ok-1');
const BAD = reviewIdToJobId('bad-1');
const OTHER_OK = reviewIdToJobId('ok-2');

beforeAll(async () => {
  queue = new Queue('reviews', { connection: { url: redis.current.url }, prefix: `{${uniqueName('sfdash')}}` });
  await queue.addBulk([OK, BAD, OTHER_OK].map((jobId) => ({ name: 'review', data: { id: jobId }, opts: { jobId } })));
  const worker = new Worker(
    queue.name,
    async (job: Job) => {
      if (job.id === BAD) throw new UnrecoverableError('SF_ERR_BAD_JOB: refused by the test');
      return 'ok';
    },
    { connection: { url: redis.current.url }, prefix: queue.opts.prefix! },
  );
  // Two completed and one failed for good, awaited from the worker's own events.
  await new Promise<void>((resolve) => {
    let finished = 0;
    const done = () => ++finished === 3 && resolve();
    worker.on('completed', done);
    worker.on('failed', done);
  });
  await worker.close();
});
afterAll(async () => {
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
});

async function board(allowRetries: boolean) {
  const app = Fastify();
  await app.register(bullBoardRoutes, { queues: [queue], allowRetries });
  return app;
}

const jobUrl = (jobId: string, action = '') =>
  `${BULL_BOARD_PATH}/api/queues/reviews/${encodeURIComponent(jobId)}${action}`;

describe('bull-board retries (allowRetries)', () => {
  it('refuses to retry a completed job with 409 SF_ERR_JOB_STATE; the job stays completed', async () => {
    const app = await board(true);
    try {
      const before = (await queue.getJob(OK))!;
      const res = await app.inject({ method: 'PUT', url: jobUrl(OK, '/retry') });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({
        error: { code: 'SF_ERR_JOB_STATE', message: 'the job is completed: only failed jobs can be retried' },
      });
      const after = (await queue.getJob(OK))!;
      expect(await after.getState()).toBe('completed');
      expect(after.finishedOn).toBe(before.finishedOn);
      expect(after.returnvalue).toBe('ok');
      // All completed jobs at once: refused before bull-board sees it.
      const all = await app.inject({ method: 'PUT', url: `${BULL_BOARD_PATH}/api/queues/reviews/retry/completed` });
      expect(all.statusCode).toBe(405);
      expect(all.json().error.code).toBe('SF_ERR_READ_ONLY');
      expect(await queue.getJobCounts('completed')).toEqual({ completed: 2 });
    } finally {
      await app.close();
    }
  });

  it('answers 404 SF_ERR_NOT_FOUND for a job or queue that does not exist', async () => {
    const app = await board(true);
    try {
      for (const url of [
        jobUrl(reviewIdToJobId('nope'), '/retry'),
        `${BULL_BOARD_PATH}/api/queues/nope/${encodeURIComponent(BAD)}/retry`,
      ]) {
        const res = await app.inject({ method: 'PUT', url });
        expect(res.statusCode).toBe(404);
        expect(res.json().error.code).toBe('SF_ERR_NOT_FOUND');
      }
    } finally {
      await app.close();
    }
  });

  it('shows a job by its r~ id, and retries a failed one (204); retrying it again is refused', async () => {
    const app = await board(true);
    try {
      const shown = await app.inject({ method: 'GET', url: jobUrl(BAD) });
      expect(shown.statusCode).toBe(200);
      expect(shown.json().job).toMatchObject({ id: BAD, failedReason: 'SF_ERR_BAD_JOB: refused by the test' });
      const res = await app.inject({ method: 'PUT', url: jobUrl(BAD, '/retry') });
      expect(res.statusCode).toBe(204);
      expect(await (await queue.getJob(BAD))!.getState()).toBe('waiting');
      const again = await app.inject({ method: 'PUT', url: jobUrl(BAD, '/retry') });
      expect(again.statusCode).toBe(409);
      expect(again.json()).toEqual({
        error: { code: 'SF_ERR_JOB_STATE', message: 'the job is waiting: only failed jobs can be retried' },
      });
      expect(await queue.getJobCounts('completed', 'failed', 'waiting')).toEqual({
        completed: 2,
        failed: 0,
        waiting: 1,
      });
    } finally {
      await app.close();
    }
  });
});

describe('bull-board without allowRetries', () => {
  it('refuses every retry', async () => {
    const app = await board(false);
    try {
      expect((await app.inject({ method: 'PUT', url: jobUrl(OTHER_OK, '/retry') })).statusCode).toBe(405);
      expect(await (await queue.getJob(OTHER_OK))!.getState()).toBe('completed');
    } finally {
      await app.close();
    }
  });
});
