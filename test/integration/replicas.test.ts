import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load-config.ts';
import { defaultConfig } from '../helpers/config.ts';
import { decodeBatchEntry, statsStreamKey } from '../../src/stats/stats-stream.ts';
import { parseWorkerName } from '../../src/contracts/worker-name.ts';
import { openQueues, reviews, testEnv, useTempModel, type TestQueues } from '../helpers/fleet.ts';
import { useTestRedis } from '../helpers/redis.ts';
import { pollUntil } from '../helpers/results.ts';
import { spawnWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

// Worker replicas: three worker processes (the tiny model) share one reviews queue. Nothing may
// be processed twice to completion nor skipped, also when one replica is scaled down (SIGTERM)
// mid-run. Who processed what is attributed twice, independently: by the stats stream (each
// worker appends one entry per scored batch, with its worker id `${host}/${pid}/…` and one item
// per published result) and by BullMQ's `processedBy` of the completed review jobs (the name of
// the worker that took the job, same id).
const redis = useTestRedis();
const model = useTempModel();

const N = 5000;
const REPLICAS = 3;

async function startReplicas(extra: Record<string, string> = {}) {
  const env = testEnv(redis.current.url, model.dir, { SHUTDOWN_GRACE_MS: '20000', ...extra });
  const config = defaultConfig(env);
  const q = await openQueues(config);
  const workers = Array.from({ length: REPLICAS }, () => spawnWorkerProcess(env));
  // Every replica must be consuming before the reviews arrive, or the first could take them all.
  await Promise.all(workers.map((w) => w.ready));
  return { config, q, workers };
}

async function stopAll(workers: readonly WorkerProcess[], q: TestQueues): Promise<void> {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  await q.close();
}

/** Results scored per worker pid, from the stats stream (one item per published result). */
async function scoredByPid(config: Config, q: TestQueues): Promise<Map<number, number>> {
  const entries = (await q.connection.xrange(statsStreamKey(config.redis.prefix), '-', '+')) as [string, string[]][];
  const byPid = new Map<number, number>();
  for (const [id, fields] of entries) {
    const entry = decodeBatchEntry(id, fields);
    if (!entry) throw new Error(`malformed stats entry ${id}`);
    const pid = parseWorkerName(entry.worker)?.pid ?? -1;
    byPid.set(pid, (byPid.get(pid) ?? 0) + entry.latencyMs.length);
  }
  return byPid;
}

/** Completed review jobs per worker pid, from BullMQ's processedBy. */
async function completedByPid(q: TestQueues): Promise<Map<number, number>> {
  const jobs = await q.reviews.getJobs(['completed']);
  const byPid = new Map<number, number>();
  for (const job of jobs) {
    const pid = parseWorkerName(job.processedBy ?? '')?.pid ?? -1;
    byPid.set(pid, (byPid.get(pid) ?? 0) + 1);
  }
  return byPid;
}

/** Every review has exactly one published result, none missing; no review job failed. */
async function expectExactlyOneResultEach(q: TestQueues, ids: readonly string[]): Promise<void> {
  const results = await q.publishedResults();
  const perReview = new Map<string, number>();
  for (const job of results) perReview.set(job.data.reviewId, (perReview.get(job.data.reviewId) ?? 0) + 1);
  expect(results).toHaveLength(ids.length);
  expect([...perReview.values()].every((n) => n === 1)).toBe(true);
  expect(ids.filter((id) => !perReview.has(id))).toEqual([]);
  expect(await q.reviews.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed')).toEqual({
    completed: ids.length,
    failed: 0,
    waiting: 0,
    active: 0,
    delayed: 0,
  });
}

const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe(`${REPLICAS} worker processes on one queue`, () => {
  it(`${N} reviews: exactly one result each, and every replica took a share`, async () => {
    const { config, q, workers } = await startReplicas();
    try {
      const pids = workers.map((w) => w.child.pid!);
      const all = reviews(N);
      expect((await q.producer.enqueueMany(all)).accepted).toHaveLength(N);
      await q.settled(N, 60_000);
      await expectExactlyOneResultEach(
        q,
        all.map((r) => r.id),
      );

      // Scored exactly once in all: a review scored twice would be counted twice here, even
      // though the sink would absorb its second result (upsert by review id and model version).
      const scored = await scoredByPid(config, q);
      expect(sum(scored)).toBe(N);
      expect([...scored.keys()].sort()).toEqual([...pids].sort());
      for (const pid of pids)
        expect(scored.get(pid), `replica ${pid}: ${JSON.stringify([...scored])}`).toBeGreaterThan(0);
      // BullMQ's own record agrees, replica by replica.
      expect(await completedByPid(q)).toEqual(scored);
    } finally {
      await stopAll(workers, q);
    }
    for (const w of workers) expect((await w.exited).code, w.output()).toBe(0);
  }, 90_000);

  it('scale down: one replica SIGTERMed mid-run finishes what it holds and exits 0; nothing lost, nothing duplicated', async () => {
    const { config, q, workers } = await startReplicas();
    try {
      const [leaving, ...staying] = workers as [WorkerProcess, ...WorkerProcess[]];
      const all = reviews(N, 100_000);
      // Not awaited: the replicas score as fast as the producer enqueues, so waiting for the whole
      // enqueue would leave nothing to do by the time of the SIGTERM.
      const enqueued = q.producer.enqueueMany(all);

      // Mid-run: once some results exist (the departing replica has scored some).
      await pollUntil(
        async () => ((await scoredByPid(config, q)).get(leaving.child.pid!) ?? 0) > 0,
        60_000,
        async () => JSON.stringify(await q.reviews.getJobCounts()),
      );
      leaving.child.kill('SIGTERM');
      // The scale-down happens mid-run: reviews were still to be scored when the replica was told
      // to go. (Counted at the SIGTERM: by the time it has finished what it holds and exited, the
      // two others may have scored the rest, on a busy machine.)
      const atSigterm = await q.reviews.getJobCounts('completed');
      expect(atSigterm.completed!).toBeLessThan(N);
      const exit = await leaving.exited;
      expect(exit, leaving.output()).toEqual({ code: 0, signal: null }); // exit 1 would mean the grace period ran out
      expect((await enqueued).accepted).toHaveLength(N);

      await q.settled(N, 60_000);
      await expectExactlyOneResultEach(
        q,
        all.map((r) => r.id),
      );
      const scored = await scoredByPid(config, q);
      expect(sum(scored)).toBe(N);
      const byLeaving = scored.get(leaving.child.pid!) ?? 0;
      expect(byLeaving).toBeGreaterThan(0);
      expect(byLeaving).toBeLessThan(N);
      for (const w of staying) expect(scored.get(w.child.pid!), JSON.stringify([...scored])).toBeGreaterThan(0);
      // Whatever the departing replica took, it completed itself: no job of it was left to stall.
      expect(await completedByPid(q)).toEqual(scored);
    } finally {
      await stopAll(workers, q);
    }
  }, 90_000);
});
