import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RedisClient } from '../../src/queue/redis-connection.ts';
import { READINESS_TIMEOUT_MS, sinkReadiness } from '../../src/storage/sink-readiness.ts';

const redis = (status: string, ping: () => Promise<string> = async () => 'PONG') =>
  ({ status, ping: vi.fn(ping) }) as unknown as RedisClient & { ping: ReturnType<typeof vi.fn> };
const db = (query: () => Promise<unknown>) => ({ query: vi.fn(query) }) as never;

afterEach(() => {
  vi.useRealTimers();
});

describe('sink readiness', () => {
  it('ready when it consumes and both answer', async () => {
    const check = sinkReadiness({
      db: db(async () => ({ rows: [] })),
      connection: redis('ready'),
      sink: () => ({ paused: false }),
    });
    expect(await check()).toEqual({
      ready: true,
      details: { database: 'ok', redis: 'ok', consuming: true, paused: false },
    });
  });

  it('not ready while starting (no sink yet)', async () => {
    const check = sinkReadiness({
      db: db(async () => ({ rows: [] })),
      connection: redis('ready'),
      sink: () => undefined,
    });
    expect((await check()).ready).toBe(false);
  });

  it('a database that fails or does not answer within the timeout is unreachable', async () => {
    vi.useFakeTimers();
    const failing = sinkReadiness({
      db: db(async () => Promise.reject(new Error('ECONNREFUSED'))),
      connection: redis('ready'),
      sink: () => ({ paused: true }),
    });
    expect(await failing()).toMatchObject({
      ready: false,
      details: { database: 'unreachable', redis: 'ok', paused: true },
    });
    const hanging = sinkReadiness({
      db: db(() => new Promise(() => undefined)),
      connection: redis('ready'),
      sink: () => ({ paused: false }),
    });
    const answer = hanging();
    await vi.advanceTimersByTimeAsync(READINESS_TIMEOUT_MS - 1);
    let settled = false;
    void answer.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await answer).toMatchObject({ ready: false, details: { database: 'unreachable' } });
  });

  it('Redis is not pinged while its connection is down (a worker connection would queue the PING)', async () => {
    const connection = redis('reconnecting');
    const check = sinkReadiness({ db: db(async () => ({ rows: [] })), connection, sink: () => ({ paused: false }) });
    expect(await check()).toMatchObject({ ready: false, details: { database: 'ok', redis: 'unreachable' } });
    expect(connection.ping).not.toHaveBeenCalled();
  });
});
