import { QueueKeys } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import { reviewIdToJobId } from '../../src/contracts/job-id.ts';
import { createStatsRegistry } from '../../src/stats/prometheus.ts';
import { buildStatsApp } from '../../src/stats/stats-app.ts';
import { createStatsCollector } from '../../src/stats/stats-collector.ts';
import { statsStreamKey } from '../../src/stats/stats-stream.ts';
import { GET_KEYS_NAMES, KEY_NAMES_AS_REVIEW_IDS } from '../helpers/bullmq-keys.ts';
import { openQueues, silentLogger, startWorker, testEnv, useTempModel } from '../helpers/fleet.ts';
import { useTestRedis } from '../helpers/redis.ts';

// Review ids equal to BullMQ's own key names of the queue (issue 16): before job ids had their
// "r~" prefix, `active` turned the active list into a job hash (WRONGTYPE in the worker, /readyz
// 503), `wait` and `marker` made every later POST 503, `meta`, `id`, `events`, `completed` and
// `failed` were reported as duplicates and never scored, and `stalled-check` kept the stall
// checker from ever running again.
const redis = useTestRedis();
const model = useTempModel();

/** The type BullMQ gives each of its keys that exists once jobs have run; a job would be a hash. */
const OWN_TYPES: Record<string, string[]> = {
  active: ['list', 'none'],
  wait: ['list', 'none'],
  paused: ['list', 'none'],
  marker: ['zset', 'none'],
  completed: ['zset'],
  failed: ['zset', 'none'],
  delayed: ['zset', 'none'],
  prioritized: ['zset', 'none'],
  'waiting-children': ['zset', 'none'],
  stalled: ['set', 'none'],
  'stalled-check': ['string', 'none'],
  meta: ['hash'],
  id: ['string', 'none'],
  events: ['stream'],
  pc: ['string', 'none'],
  limiter: ['string', 'none'],
  repeat: ['zset', 'none'],
  de: ['string', 'none'],
};

describe('review ids equal to BullMQ key names', () => {
  it('are scored like any id, and the queue, /readyz and the stats keep working', async () => {
    const env = testEnv(redis.current.url, model.dir, { STATS_CACHE_MS: '0', BATCH_MAX_WAIT_MS: '20' });
    const config = defaultConfig(env);
    const q = await openQueues(config);
    const worker = await startWorker(env);
    const ingest = buildIngestApp({ config, producer: q.producer, logger: silentLogger });
    const connection = new Redis(config.redis.url!, { maxRetriesPerRequest: 1 });
    const collector = createStatsCollector({ config, connection, logger: silentLogger });
    const stats = buildStatsApp({
      collector,
      registry: createStatsRegistry({ collector, logger: silentLogger }),
      logger: silentLogger,
      config,
    });
    const post = (body: unknown) =>
      ingest.inject({
        method: 'POST',
        url: '/v1/reviews',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    const text = (i: number) => (i % 2 === 0 ? 'I love this great phone' : 'terrible broken waste');
    try {
      const ids = KEY_NAMES_AS_REVIEW_IDS;
      expect(ids).toEqual(
        expect.arrayContaining([
          'active',
          'wait',
          'marker',
          'meta',
          'id',
          'events',
          'completed',
          'failed',
          'stalled-check',
          'paused',
          'delayed',
          'prioritized',
          'limiter',
          'pc',
          'repeat',
          'stalled',
          'metrics',
          'de',
        ]),
      );
      // One request per id, as an attacker (or a shop) would send them: each is accepted, none
      // is a duplicate, and the ones after `wait` and `marker` are still answered.
      for (const [i, id] of ids.entries()) {
        const res = await post({ id, text: text(i) });
        expect({ id, status: res.statusCode, body: res.json() }).toEqual({
          id,
          status: 202,
          body: { accepted: 1, ids: [id], duplicates: [] },
        });
      }
      await q.settled(ids.length);
      expect(await q.reviews.getJobCounts('completed', 'failed')).toEqual({ completed: ids.length, failed: 0 });
      const results = await q.publishedResults();
      expect(results.map((r) => r.data.reviewId).sort()).toEqual([...ids].sort());
      for (const r of results)
        expect(r.data.label).toBe(text(ids.indexOf(r.data.reviewId)).startsWith('I love') ? 'positive' : 'negative');

      // Each review is its own job hash under its prefixed id; BullMQ's keys keep their types.
      const keys = new QueueKeys(config.redis.prefix);
      for (const id of ids)
        expect(await connection.type(keys.toKey(config.queues.reviews, reviewIdToJobId(id))), id).toBe('hash');
      for (const name of GET_KEYS_NAMES.filter((n) => n !== '')) {
        expect(OWN_TYPES[name], `the type of BullMQ's key ${name} is not known here`).toBeDefined();
        expect(OWN_TYPES[name], name).toContain(await connection.type(keys.toKey(config.queues.reviews, name)));
      }
      // The stall checker can run: its key is BullMQ's, with an expiry (never a job hash kept for a day).
      expect(await connection.pttl(keys.toKey(config.queues.reviews, 'stalled-check'))).not.toBe(-1);

      // The queue still works: re-sent ids are duplicates, a later review is scored.
      const again = await post([
        { id: 'active', text: 'again' },
        { id: 'wait', text: 'again' },
        { id: 'after-1', text: 'I love it' },
      ]);
      expect(again.statusCode).toBe(202);
      expect(again.json()).toEqual({ accepted: 1, ids: ['after-1'], duplicates: ['active', 'wait'] });
      await q.settled(ids.length + 1);
      expect(await q.reviews.getJobCounts('completed', 'failed', 'waiting', 'active')).toEqual({
        completed: ids.length + 1,
        failed: 0,
        waiting: 0,
        active: 0,
      });

      // Ready means the queue works: both services say so, and the stats read the queue.
      expect((await ingest.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
      const statsReady = await stats.inject({ method: 'GET', url: '/readyz' });
      expect({ status: statsReady.statusCode, body: statsReady.json() }).toEqual({
        status: 200,
        body: { status: 'ready' },
      });
      const fleet = await stats.inject({ method: 'GET', url: '/v1/stats' });
      expect(fleet.statusCode).toBe(200);
      expect(fleet.json().queues.reviews.counts).toMatchObject({ completed: ids.length + 1, failed: 0 });
    } finally {
      await ingest.close();
      await stats.close();
      await collector.close();
      await worker.close();
      await connection.del(statsStreamKey(config.redis.prefix));
      connection.disconnect();
      await q.close();
    }
  });
});
