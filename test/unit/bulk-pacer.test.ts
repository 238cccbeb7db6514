import { describe, expect, it } from 'vitest';
import { createBulkPacer } from '../../src/inference/bulk-pacer.ts';

describe('bulk pacer', () => {
  it('rests a thread after a bulk batch, in proportion to it, only while live batches arrive', () => {
    let t = 0;
    const pacer = createBulkPacer({ share: 0.5, liveWindowMs: 100, now: () => t });
    // No live work: bulk back to back.
    pacer.bulkFinished(0);
    t = 10;
    pacer.bulkFinished(0);
    expect(pacer.bulkDelay()).toBe(0);
    // A live batch started: a 10 ms bulk batch is followed by 10 ms of rest (share 0.5).
    pacer.liveStarted();
    const started = t;
    t = 20;
    pacer.bulkFinished(started);
    expect(pacer.bulkDelay()).toBe(10);
    t = 25;
    expect(pacer.bulkDelay()).toBe(5);
    t = 30;
    expect(pacer.bulkDelay()).toBe(0);
    // Live work stopped over 100 ms ago: no rest.
    t = 40;
    pacer.bulkFinished(30);
    t = 111;
    expect(pacer.bulkDelay()).toBe(0);
  });

  it('never rests at share 1', () => {
    let t = 0;
    const pacer = createBulkPacer({ share: 1, now: () => t });
    pacer.liveStarted();
    t = 50;
    pacer.bulkFinished(0);
    expect(pacer.bulkDelay()).toBe(0);
  });

  it('rests three times as long as it worked at share 0.25', () => {
    let t = 0;
    const pacer = createBulkPacer({ share: 0.25, now: () => t });
    pacer.liveStarted();
    t = 4;
    pacer.bulkFinished(0);
    expect(pacer.bulkDelay()).toBe(12);
  });
});
