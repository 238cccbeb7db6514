// The chaos run's load (chaos/chaos-load.ts): it offers exactly `total` reviews at `rate`, and
// resends a failed call's reviews until they are acknowledged, so a run of N reviews ends with N
// acknowledged (the 50,000-per-mode claim). Fake timers: the clock is the load's only input.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startLoad } from '../../chaos/chaos-load.ts';
import type { ChaosReview, ReviewSource } from '../../chaos/chaos-review-source.ts';
import type { ReviewProducer } from '../../src/queue/review-producer.ts';
import { createLogger } from '../../src/logging/logger.ts';

const logger = createLogger({ level: 'silent', format: 'json' });
const source: ReviewSource = { origin: 'test', review: (i) => ({ id: `r-${i}`, text: 'fine', productId: 'p' }) };

/** A producer that acknowledges every id, or fails while `down` is true. */
function fakeProducer() {
  const seen: string[] = [];
  const state = { down: false };
  const producer = {
    async enqueueMany(reviews: readonly unknown[]) {
      if (state.down) throw new Error('Redis away');
      const ids = (reviews as ChaosReview[]).map((r) => r.id);
      seen.push(...ids);
      return { accepted: ids, duplicates: [] };
    },
  } as unknown as ReviewProducer;
  return { producer, seen, state };
}

/** stop() waits for the load's current tick: let the fake clock run it. */
async function stopped(load: ReturnType<typeof startLoad>) {
  const stopping = load.stop();
  await vi.advanceTimersByTimeAsync(200);
  return stopping;
}

describe('chaos load', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('offers exactly `total` reviews, the rest of them on stop() when the clock stopped short', async () => {
    const { producer, seen } = fakeProducer();
    const load = startLoad({ producer, source, rate: 100, total: 250, logger });
    await vi.advanceTimersByTimeAsync(2_450); // 245 due; stop() comes a tick early
    const stats = await stopped(load);
    expect(stats.offered).toBe(250);
    expect(stats.accepted.size).toBe(250);
    expect(new Set(seen).size).toBe(250);
    expect(stats.unacknowledged).toBe(0);
  });

  it('never offers more than `total`, however long it runs', async () => {
    const { producer } = fakeProducer();
    const load = startLoad({ producer, source, rate: 100, total: 50, logger });
    await vi.advanceTimersByTimeAsync(5_000);
    expect((await stopped(load)).offered).toBe(50);
  });

  it('resends the reviews of failed calls until they are acknowledged', async () => {
    const { producer, state } = fakeProducer();
    const load = startLoad({ producer, source, rate: 100, total: 300, logger });
    await vi.advanceTimersByTimeAsync(1_000);
    state.down = true;
    await vi.advanceTimersByTimeAsync(1_000);
    state.down = false;
    await vi.advanceTimersByTimeAsync(1_000);
    const stats = await stopped(load);
    expect(stats.failedCalls).toBeGreaterThan(0);
    expect(stats.longestOutageMs).toBeGreaterThanOrEqual(900);
    expect(stats.accepted.size).toBe(300);
  });
});
