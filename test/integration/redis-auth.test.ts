import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { startLocalRedis, type LocalRedis } from '../../src/dev/local-redis.ts';
import { openQueues, reviews, startWorker, tempModel, testEnv } from '../helpers/fleet.ts';

// Deployments put the password in REDIS_URL (redis://:secret@host:6379); every connection the
// fleet opens must carry it.
let redis: LocalRedis;
let model: Awaited<ReturnType<typeof tempModel>>;
beforeAll(async () => {
  redis = await startLocalRedis({ password: 's3cret' });
  model = await tempModel();
});
afterAll(async () => {
  await redis?.stop();
  model?.remove();
});

describe('Redis with a password in REDIS_URL', () => {
  it('runs the whole flow', async () => {
    const url = `redis://:s3cret@127.0.0.1:${redis.port}`;
    const env = testEnv(url, model.dir);
    const q = await openQueues(defaultConfig(env));
    const worker = await startWorker(env);
    try {
      await q.producer.enqueueMany(reviews(10));
      await q.settled(10);
      expect(await q.publishedResults()).toHaveLength(10);
    } finally {
      await worker.close();
      await q.close();
    }
  });

  it('refuses to start a worker without the password, with a clear error', async () => {
    const env = testEnv(`redis://127.0.0.1:${redis.port}`, model.dir);
    await expect(startWorker(env)).rejects.toThrow(/NOAUTH|Authentication required/);
  });
});
