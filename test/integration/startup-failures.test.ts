// npm start with a Redis that does not answer fails with SF_ERR_REDIS naming the URL (password
// redacted), not with a worker's exit code; a worker that fails to start tells its parent why.
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalStack } from '../../src/app/local-stack.ts';
import { findFreePort, startLocalRedis } from '../../src/dev/local-redis.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { silentLogger, tempModel, testEnv } from '../helpers/fleet.ts';
import { spawnWorkerProcess } from '../helpers/worker-process.ts';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

describe('start-up failures', () => {
  it('npm start: Redis does not answer → SF_ERR_REDIS naming the URL, password redacted, before any worker starts', async () => {
    const port = await findFreePort();
    const config = loadConfig({ REDIS_URL: `redis://:hunter2@127.0.0.1:${port}`, LOG_LEVEL: 'silent' });
    const started = Date.now();
    const failure = await startLocalStack({
      config,
      logger: silentLogger,
      workers: 1,
      env: {},
      redisWaitMs: 1500,
    }).then(
      () => undefined,
      (err: unknown) => err as { code: string; message: string },
    );
    expect(failure?.code).toBe('SF_ERR_REDIS');
    expect(failure?.message).toContain(`Redis at redis://:***@127.0.0.1:${port} did not answer within 1500 ms`);
    expect(failure?.message).not.toContain('hunter2');
    expect(Date.now() - started).toBeLessThan(10_000); // no worker was spawned and waited
  });

  it('a worker that cannot start tells its parent the code (here SF_ERR_CONFIG: Redis refused the password)', async () => {
    const redis = await startLocalRedis({ password: 'right' });
    cleanup.push(() => redis.stop());
    const model = await tempModel();
    cleanup.push(() => model.remove());
    const url = new URL(redis.url);
    url.password = 'wrong';
    const worker = spawnWorkerProcess(testEnv(url.toString(), model.dir));
    worker.ready.catch(() => undefined); // it is expected never to be ready
    const messages: unknown[] = [];
    worker.child.on('message', (m) => messages.push(m));
    const { code } = await worker.exited;
    expect(code).toBe(1);
    expect(messages).toContainEqual({
      type: 'start-failed',
      error: expect.objectContaining({
        code: 'SF_ERR_CONFIG',
        message: expect.stringContaining('refused the credentials'),
      }),
    });
    expect(JSON.stringify(messages)).not.toContain(':wrong@');
  });
});
