import { describe, expect, it } from 'vitest';
import { MAX_PAUSE_MS, nextPause, refusedByDatabase } from '../../src/storage/sink-backoff.ts';

describe('refusedByDatabase', () => {
  it('data exceptions, integrity violations and program limits are about the data', () => {
    for (const code of ['22P05', '23505', '54000']) expect(refusedByDatabase({ code })).toBe(true);
  });

  it('anything else is not (connection errors, deadlocks, codes of another shape, no code)', () => {
    for (const err of [
      { code: '08006' },
      { code: '40P01' },
      { code: 'ECONNRESET' },
      { code: '2200' },
      { code: 22 },
      new Error('x'),
      null,
      undefined,
    ]) {
      expect(refusedByDatabase(err)).toBe(false);
    }
  });
});

describe('nextPause', () => {
  it('starts at 1 s and doubles per round of failures, up to the maximum', () => {
    let state = { pauseMs: 0, pausedUntil: 0 };
    const pauses: number[] = [];
    for (let now = 1_000_000; pauses.length < 7; now += 60_000) {
      state = nextPause(state, now);
      pauses.push(state.pauseMs);
    }
    expect(pauses).toEqual([1000, 2000, 4000, 8000, 16_000, MAX_PAUSE_MS, MAX_PAUSE_MS]);
  });

  it('a failure within the round changes nothing; one at its end starts the next round', () => {
    const first = nextPause({ pauseMs: 0, pausedUntil: 0 }, 5000);
    expect(first).toEqual({ pauseMs: 1000, pausedUntil: 6000, step: true });
    expect(nextPause(first, 5999)).toEqual({ pauseMs: 1000, pausedUntil: 6000, step: false });
    expect(nextPause(first, 6000)).toEqual({ pauseMs: 2000, pausedUntil: 8000, step: true });
  });
});
