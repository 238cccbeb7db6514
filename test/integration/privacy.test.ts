import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createWorkerApp } from '../../src/app/worker-app.ts';
import { defaultConfig } from '../helpers/config.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import { createReviewProducer } from '../../src/queue/review-producer.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { reviewIdToJobId } from '../../src/contracts/job-id.ts';
import { closeRedisConnection, createRedisConnection } from '../../src/queue/redis-connection.ts';
import { openQueues, testEnv, useTempModel } from '../helpers/fleet.ts';
import { useTestRedis } from '../helpers/redis.ts';

// Review text never reaches a log, on the real paths (HTTP ingest, producer, worker, a foreign
// job, an invalid review) at the most verbose level; with REDACT_PII, e-mail addresses and phones
// never reach Redis.
const redis = useTestRedis();
const model = useTempModel();

function capture() {
  let out = '';
  const destination = new Writable({
    write: (chunk, _e, cb) => {
      out += String(chunk);
      cb();
    },
  });
  return { logger: createLogger({ level: 'trace', format: 'json', destination }), text: () => out };
}

describe('privacy', () => {
  it('logs no review text on the ingest and worker paths', async () => {
    const env = testEnv(redis.current.url, model.dir, { LOG_LEVEL: 'trace' });
    const config = defaultConfig(env);
    const log = capture();
    const q = await openQueues(config);
    const connection = createRedisConnection(config.redis.url!, 'producer', log.logger);
    const producer = createReviewProducer({ config, connection, logger: log.logger });
    const app = buildIngestApp({ config, producer, logger: log.logger });
    const worker = await createWorkerApp(config, log.logger);
    try {
      const good = Array.from({ length: 6 }, (_, i) => ({
        id: `p${i}`,
        title: `Quokkatitle${i}`,
        text: `great phone zebramarker${i} love it`,
      }));
      const res = await app.inject({
        method: 'POST',
        url: '/v1/reviews',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(good),
      });
      expect(res.statusCode).toBe(202);
      const bad = await app.inject({
        method: 'POST',
        url: '/v1/reviews',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify([{ id: 'b1', text: 'zebramarkerbad', rating: 9 }]),
      });
      expect(bad.statusCode).toBe(400);
      // A job from another producer, with the text in the wrong field and a bad rating.
      await q.reviews.add(
        'review',
        { id: 'foreign', body: 'zebramarkerforeign', text: 42, rating: 'zebramarkerrating' },
        { jobId: 'foreign', attempts: 1 },
      );
      await q.settled(7);
      expect(await q.reviews.getJobCounts('completed', 'failed')).toEqual({ completed: 6, failed: 1 });
    } finally {
      await worker.close();
      await app.close();
      await producer.close();
      await closeRedisConnection(connection);
      await q.close();
    }
    const out = log.text();
    expect(out).toContain('"level":20'); // debug and trace were on: everything that logs, logged
    expect(out).toContain('job payload has the wrong shape');
    expect(out).not.toMatch(/zebramarker|Quokkatitle/);
  });

  it('REDACT_PII=true: e-mails and phones are masked before the review reaches Redis and the results', async () => {
    const env = testEnv(redis.current.url, model.dir, { REDACT_PII: 'true', PII_PHONE_REGION: 'US' });
    const config = defaultConfig(env);
    const q = await openQueues(config);
    const worker = await createWorkerApp(config, capture().logger);
    try {
      await q.producer.enqueueMany([
        {
          id: 'pii1',
          title: 'Ask jane.doe@example.com',
          text: 'Great, call me on +44 20 7946 0958 or (555) 123-4567. Paid $1,299.99 on 2024-01-15 for 2 units.',
        },
        { id: 'pii2', text: 'No personal data, order #1234567890.' },
        // The review locale's region (IN) wins over PII_PHONE_REGION; full-width forms match through NFKC.
        {
          id: 'pii3',
          locale: 'en-IN',
          text: 'mob: 9876543210 or 98765 43210, ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ, wa.me/919876543210. Galaxy S23, 5000 mAh.',
        },
      ]);
      const stored = await q.reviews.getJob(reviewIdToJobId('pii1'));
      expect(stored!.data).toEqual({
        id: 'pii1',
        title: 'Ask [email]',
        text: 'Great, call me on [phone] or [phone]. Paid $1,299.99 on 2024-01-15 for 2 units.',
      });
      expect((await q.reviews.getJob(reviewIdToJobId('pii2')))!.data.text).toBe('No personal data, order #1234567890.');
      expect((await q.reviews.getJob(reviewIdToJobId('pii3')))!.data.text).toBe(
        'mob: [phone] or [phone], [email], wa.me/[phone]. Galaxy S23, 5000 mAh.',
      );
      await q.settled(3);
      const raw = JSON.stringify(await q.publishedResults());
      expect(raw).not.toMatch(/jane|ｊａｎｅ|7946|123-4567|98765|43210/);
    } finally {
      await worker.close();
      await q.close();
    }
  });
});
