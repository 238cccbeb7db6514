// A process waiting for Redis says so every few seconds and fails with SF_ERR_REDIS naming the URL
// (password redacted); npm start's terminal gets one summary line every few seconds.
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startStackSummary, summaryLine, type StackFigures } from '../../src/app/stack-summary.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { redactedRedisTarget, waitForRedis, type RedisClient } from '../../src/queue/redis-connection.ts';

function capturedLogger(level: 'info' | 'debug' = 'info') {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level, format: 'json', destination }) };
}

/** A connection that never becomes ready (Redis away), as ioredis reports it. */
function unreachable(): RedisClient & EventEmitter {
  return Object.assign(new EventEmitter(), { status: 'connecting' }) as unknown as RedisClient & EventEmitter;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('waiting for Redis', () => {
  const URL = 'redis://app:s3cret@cache.internal:6380/2';

  it('logs "waiting for <url> (n s)" every 5 s, then fails with SF_ERR_REDIS naming the URL, never the password', async () => {
    vi.useFakeTimers();
    const { lines, logger } = capturedLogger();
    const connection = unreachable();
    const waiting = waitForRedis(connection, 12_000, { logger, url: URL });
    const outcome = waiting.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    connection.emit('error', new Error('connect ECONNREFUSED 10.0.0.9:6380'));
    await vi.advanceTimersByTimeAsync(4999);
    expect(lines).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const line = (n: number) =>
      `waiting for redis://app:***@cache.internal:6380/2 (${n} s of 12 s): connect ECONNREFUSED 10.0.0.9:6380`;
    expect(lines.map((l) => l.msg)).toEqual([line(5)]);
    expect(lines[0]!.level).toBe(40);
    await vi.advanceTimersByTimeAsync(5000);
    expect(lines.map((l) => l.msg)).toEqual([line(5), line(10)]);
    await vi.advanceTimersByTimeAsync(2000);
    const err = (await outcome) as { code: string; message: string };
    expect(err.code).toBe('SF_ERR_REDIS');
    expect(err.message).toBe(
      'Redis at redis://app:***@cache.internal:6380/2 did not answer within 12000 ms (last error: connect ECONNREFUSED 10.0.0.9:6380)',
    );
    expect(JSON.stringify(lines)).not.toContain('s3cret');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(lines).toHaveLength(2); // no line after it gave up
  });

  it('stops logging once Redis answers', async () => {
    vi.useFakeTimers();
    const { lines, logger } = capturedLogger();
    const connection = unreachable();
    const waiting = waitForRedis(connection, 60_000, { logger, url: 'redis://127.0.0.1:6379' });
    await vi.advanceTimersByTimeAsync(5000);
    connection.emit('ready');
    await expect(waiting).resolves.toBeUndefined();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(lines.map((l) => l.msg)).toEqual(['waiting for redis://127.0.0.1:6379 (5 s of 60 s)']);
  });

  it('refused credentials fail at once with SF_ERR_CONFIG naming the URL', async () => {
    const connection = unreachable();
    const waiting = waitForRedis(connection, 60_000, { logger: capturedLogger().logger, url: URL });
    connection.emit(
      'error',
      Object.assign(new Error('WRONGPASS invalid username-password pair'), { name: 'ReplyError' }),
    );
    await expect(waiting).rejects.toMatchObject({
      code: 'SF_ERR_CONFIG',
      message: expect.stringContaining('redis://app:***@cache.internal:6380/2'),
    });
  });

  it('redacts every password of a cluster seed list', () => {
    expect(redactedRedisTarget('redis://:a@h1:6379, redis://:b@h2:6379')).toBe(
      'redis://:***@h1:6379,redis://:***@h2:6379',
    );
  });
});

describe('npm start summary line', () => {
  it('formats stored, rate, backlog and failures', () => {
    expect(
      summaryLine({ stored: 12_345, backlog: 7655, failed: 3 }, { stored: 9845, backlog: 10_000, failed: 1 }, 5),
    ).toBe('stored 12,345 (+2,500, 500/s) · backlog 7,655 · failed 3 (+2)');
    expect(summaryLine({ stored: 2, backlog: 0, failed: 0 }, { stored: 0, backlog: 0, failed: 0 }, 5)).toBe(
      'stored 2 (+2, 0/s) · backlog 0 · failed 0',
    );
  });

  it('prints one line every 5 s while there is work, none while idle', async () => {
    vi.useFakeTimers();
    const { lines, logger } = capturedLogger();
    let figures: StackFigures = { stored: 0, backlog: 0, failed: 4 };
    const summary = startStackSummary({ logger, read: async () => figures });
    try {
      await vi.advanceTimersByTimeAsync(5000);
      expect(lines).toEqual([]); // idle: nothing (earlier failures are not news)
      figures = { stored: 1000, backlog: 9000, failed: 4 };
      await vi.advanceTimersByTimeAsync(5000);
      figures = { stored: 3500, backlog: 6500, failed: 5 };
      await vi.advanceTimersByTimeAsync(5000);
      figures = { stored: 10_000, backlog: 0, failed: 5 };
      await vi.advanceTimersByTimeAsync(5000);
      await vi.advanceTimersByTimeAsync(15_000); // idle again
      expect(lines.map((l) => l.msg)).toEqual([
        'stored 1,000 (+1,000, 200/s) · backlog 9,000 · failed 4',
        'stored 3,500 (+2,500, 500/s) · backlog 6,500 · failed 5 (+1)',
        'stored 10,000 (+6,500, 1,300/s) · backlog 0 · failed 5',
      ]);
      // One line even in a pretty terminal: nothing but the message.
      const { level, time, pid, hostname, name, msg, ...fields } = lines[1]!;
      expect({ level, msg: typeof msg, name }).toEqual({ level: 30, msg: 'string', name: 'sentiment-fleet' });
      expect([time, pid, hostname].every((v) => v !== undefined)).toBe(true);
      expect(fields).toEqual({});
    } finally {
      summary.close();
      summary.close();
    }
  });

  it('a backlog that does not move is still reported (work waits, nothing is stored)', async () => {
    vi.useFakeTimers();
    const { lines, logger } = capturedLogger();
    const summary = startStackSummary({ logger, read: async () => ({ stored: 0, backlog: 50, failed: 0 }) });
    await vi.advanceTimersByTimeAsync(10_000);
    summary.close();
    expect(lines.map((l) => l.msg)).toEqual([
      'stored 0 (+0, 0/s) · backlog 50 · failed 0',
      'stored 0 (+0, 0/s) · backlog 50 · failed 0',
    ]);
  });

  it('skips a line when the figures cannot be read', async () => {
    vi.useFakeTimers();
    const { lines, logger } = capturedLogger();
    const summary = startStackSummary({ logger, read: async () => Promise.reject(new Error('redis away')) });
    await vi.advanceTimersByTimeAsync(10_000);
    summary.close();
    expect(lines).toEqual([]);
  });
});
