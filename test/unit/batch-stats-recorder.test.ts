import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.ts';
import { createBatchStatsRecorder } from '../../src/stats/batch-stats-recorder.ts';
import { decodeBatchEntry } from '../../src/stats/stats-stream.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()),
  });
  return { lines, logger: createLogger({ level: 'info', format: 'json', destination }) };
}

const batch = {
  processedAt: 10_000,
  size: 3,
  inferenceMs: 2.5,
  labels: ['negative', 'positive'],
  items: [
    { enqueuedAt: 9_000, label: 'positive', score: 0.9, tokens: 12, truncated: false },
    { enqueuedAt: 10_500, label: 'negative', score: 0.8, tokens: 64, truncated: true }, // enqueue clock ahead: 0, not negative
  ],
};

describe('batch stats recorder', () => {
  it('appends one capped XADD per batch with the compact per-item arrays', async () => {
    const calls: unknown[][] = [];
    const connection = { xadd: async (...args: unknown[]) => (calls.push(args), '1-0') } as unknown as Redis;
    const recorder = createBatchStatsRecorder({
      connection,
      prefix: '{sf}',
      maxLen: 500,
      logger: capture().logger,
      workerId: 'h/1/m@v',
    });
    await recorder.record(batch);
    expect(calls).toHaveLength(1);
    const [key, maxlen, approx, n, id, ...fields] = calls[0]! as string[];
    expect([key, maxlen, approx, n, id]).toEqual(['{sf}:sf:stats', 'MAXLEN', '~', '500', '*']);
    expect(decodeBatchEntry('1-0', fields)).toMatchObject({
      ts: 10_000,
      worker: 'h/1/m@v',
      size: 3,
      inferenceMs: 2.5,
      labels: ['negative', 'positive'],
      latencyMs: [1000, 0],
      labelIndex: [1, 0],
      confidence: [0.9, 0.8],
      tokens: [12, 64],
      truncated: [0, 1],
    });
  });

  it('never rejects: a failure is counted, logged once until it works again', async () => {
    let fail = true;
    let errors = 0;
    const connection = {
      xadd: async () => {
        if (fail) throw new Error('READONLY');
        return '1-0';
      },
    } as unknown as Redis;
    const { lines, logger } = capture();
    const recorder = createBatchStatsRecorder({
      connection,
      prefix: 'sf',
      maxLen: 10,
      logger,
      workerId: 'w',
      onError: () => errors++,
    });
    await expect(recorder.record(batch)).resolves.toBeUndefined();
    await recorder.record(batch);
    expect(errors).toBe(2);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
    fail = false;
    await recorder.record(batch);
    fail = true;
    await recorder.record(batch);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(2);
  });
});
