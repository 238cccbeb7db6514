import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDynamicBatcher, type Outcome } from '../../src/batching/dynamic-batcher.ts';

/** A promise with its resolve function exposed, to hold a batch "running" until the test says so. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Settles pending promise callbacks without moving fake time. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Records the state of a promise so tests can assert it is still pending. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

const double = async (items: number[]): Promise<Outcome<number>[]> => items.map((n) => ({ ok: true, value: n * 2 }));

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('createDynamicBatcher', () => {
  it('closes a batch at maxSize without waiting for the timer', async () => {
    const run = vi.fn(double);
    const batcher = createDynamicBatcher({ maxSize: 3, maxWaitMs: 1000, run });
    const results = [1, 2, 3].map((n) => batcher.submit(n));
    expect(run).toHaveBeenCalledTimes(1);
    expect(run).toHaveBeenCalledWith([1, 2, 3], expect.any(Function));
    expect(batcher.waiting).toBe(0);
    await expect(Promise.all(results)).resolves.toEqual([2, 4, 6]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('closes at maxWaitMs after the first item, not before', async () => {
    const run = vi.fn(double);
    const batcher = createDynamicBatcher({ maxSize: 10, maxWaitMs: 50, run });
    const first = track(batcher.submit(1));
    await vi.advanceTimersByTimeAsync(20);
    const second = track(batcher.submit(2)); // does not restart the clock
    await vi.advanceTimersByTimeAsync(29); // 49 ms after the first item
    expect(run).not.toHaveBeenCalled();
    expect(batcher.waiting).toBe(2);
    expect(first.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1); // 50 ms
    expect(run).toHaveBeenCalledTimes(1);
    expect(run).toHaveBeenCalledWith([1, 2], expect.any(Function));
    await flush();
    expect(first).toMatchObject({ settled: true, value: 2 });
    expect(second).toMatchObject({ settled: true, value: 4 });
  });

  it('starts a fresh wait for the next batch', async () => {
    const run = vi.fn(double);
    const batcher = createDynamicBatcher({ maxSize: 10, maxWaitMs: 10, run });
    void batcher.submit(1);
    await vi.advanceTimersByTimeAsync(10);
    expect(run).toHaveBeenCalledTimes(1);
    void batcher.submit(2);
    await vi.advanceTimersByTimeAsync(9);
    expect(run).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(2);
    expect(run).toHaveBeenLastCalledWith([2], expect.any(Function));
  });

  it('a batch closed by size cancels its timer; the overflow item waits for its own timer', async () => {
    const run = vi.fn(double);
    const batcher = createDynamicBatcher({ maxSize: 2, maxWaitMs: 100, run });
    void batcher.submit(1);
    await vi.advanceTimersByTimeAsync(90);
    void batcher.submit(2); // closes [1, 2]
    void batcher.submit(3); // new batch, new 100 ms clock
    await vi.advanceTimersByTimeAsync(10); // the first batch's timer would have fired here
    expect(run).toHaveBeenCalledTimes(1);
    expect(batcher.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(89);
    expect(run).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(2);
    expect(run).toHaveBeenLastCalledWith([3], expect.any(Function));
  });

  it('a failed item rejects only that item', async () => {
    const boom = new Error('bad item');
    const batcher = createDynamicBatcher<number, number>({
      maxSize: 3,
      maxWaitMs: 5,
      run: async (items) => items.map((n) => (n === 2 ? { ok: false, error: boom } : { ok: true, value: n * 10 })),
    });
    const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    expect(results).toEqual([
      { status: 'fulfilled', value: 10 },
      { status: 'rejected', reason: boom },
      { status: 'fulfilled', value: 30 },
    ]);
  });

  it('a thrown run rejects every item of that batch and no other', async () => {
    const boom = new Error('session died');
    const batcher = createDynamicBatcher<number, number>({
      maxSize: 2,
      maxWaitMs: 5,
      run: async (items) => {
        if (items.includes(1)) throw boom;
        return items.map((n) => ({ ok: true, value: n }));
      },
    });
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => batcher.submit(n)));
    expect(results).toEqual([
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
      { status: 'fulfilled', value: 3 },
      { status: 'fulfilled', value: 4 },
    ]);
  });

  it('wraps a thrown non-Error in an Error', async () => {
    const batcher = createDynamicBatcher<number, number>({
      maxSize: 1,
      maxWaitMs: 5,
      run: () => Promise.reject('plain string'),
    });
    await expect(batcher.submit(1)).rejects.toThrow('plain string');
  });

  it('rejects the batch when run returns the wrong number of outcomes', async () => {
    const batcher = createDynamicBatcher<number, number>({
      maxSize: 2,
      maxWaitMs: 5,
      run: async () => [{ ok: true, value: 1 }],
    });
    const results = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason.message).toMatch(/1 outcomes for 2 items/);
  });

  it('runs batches concurrently', async () => {
    const gates = [deferred(), deferred()];
    let started = 0;
    const batcher = createDynamicBatcher<number, number>({
      maxSize: 2,
      maxWaitMs: 1000,
      run: async (items) => {
        await gates[started++]!.promise;
        return items.map((n) => ({ ok: true, value: n }));
      },
    });
    const a = track(Promise.all([batcher.submit(1), batcher.submit(2)]));
    const b = track(Promise.all([batcher.submit(3), batcher.submit(4)]));
    expect(started).toBe(2); // the second batch started while the first is still running
    expect(batcher.inFlight).toBe(2);
    gates[1]!.resolve(); // the second finishes first
    await flush();
    expect(b).toMatchObject({ settled: true, value: [3, 4] });
    expect(a.settled).toBe(false);
    expect(batcher.inFlight).toBe(1);
    gates[0]!.resolve();
    await flush();
    expect(a).toMatchObject({ settled: true, value: [1, 2] });
    expect(batcher.inFlight).toBe(0);
  });

  it('drain() closes the open batch at once and later submits run immediately', async () => {
    const run = vi.fn(double);
    const batcher = createDynamicBatcher({ maxSize: 10, maxWaitMs: 10_000, run });
    const early = [batcher.submit(1), batcher.submit(2)];
    expect(run).not.toHaveBeenCalled();
    batcher.drain();
    expect(run).toHaveBeenCalledTimes(1);
    expect(run).toHaveBeenCalledWith([1, 2], expect.any(Function));
    expect(vi.getTimerCount()).toBe(0);
    const late = batcher.submit(3);
    expect(run).toHaveBeenCalledTimes(2);
    expect(run).toHaveBeenLastCalledWith([3], expect.any(Function));
    expect(batcher.waiting).toBe(0);
    await expect(Promise.all([...early, late])).resolves.toEqual([2, 4, 6]);
  });

  it('drain() with nothing waiting runs nothing', () => {
    const run = vi.fn(double);
    const batcher = createDynamicBatcher({ maxSize: 10, maxWaitMs: 10, run });
    batcher.drain();
    expect(run).not.toHaveBeenCalled();
  });

  it('idle() resolves only after every running batch has finished', async () => {
    const gates = [deferred(), deferred()];
    let started = 0;
    const batcher = createDynamicBatcher<number, number>({
      maxSize: 1,
      maxWaitMs: 1000,
      run: async (items) => {
        await gates[started++]!.promise;
        return items.map((n) => ({ ok: true, value: n }));
      },
    });
    void batcher.submit(1);
    void batcher.submit(2);
    const idle = track(batcher.idle());
    await flush();
    expect(idle.settled).toBe(false);
    gates[0]!.resolve();
    await flush();
    expect(idle.settled).toBe(false);
    gates[1]!.resolve();
    await flush();
    expect(idle.settled).toBe(true);
    expect(batcher.inFlight).toBe(0);
  });

  it('idle() resolves at once when nothing runs, and also after failed batches', async () => {
    const batcher = createDynamicBatcher<number, number>({
      maxSize: 1,
      maxWaitMs: 5,
      run: async () => Promise.reject(new Error('x')),
    });
    await batcher.idle();
    const failed = batcher.submit(1).catch((e: Error) => e.message);
    await batcher.idle();
    expect(batcher.inFlight).toBe(0);
    await expect(failed).resolves.toBe('x');
  });

  it('maxWaitMs 0 runs every submit at once, one batch each', () => {
    const run = vi.fn(double);
    const batcher = createDynamicBatcher({ maxSize: 10, maxWaitMs: 0, run });
    void batcher.submit(1);
    void batcher.submit(2);
    expect(run).toHaveBeenCalledTimes(2);
    expect(run.mock.calls.map((c) => c[0])).toEqual([[1], [2]]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waiting counts items whose batch has not closed', () => {
    const batcher = createDynamicBatcher({ maxSize: 3, maxWaitMs: 10, run: double });
    void batcher.submit(1);
    void batcher.submit(2);
    expect(batcher.waiting).toBe(2);
    void batcher.submit(3);
    expect(batcher.waiting).toBe(0);
  });
});

describe('createDynamicBatcher in continuous mode (maxInFlight, the token-budget policy)', () => {
  it('sends an item at once when a slot is free: nothing waits at low load', async () => {
    const run = vi.fn(double);
    const batcher = createDynamicBatcher({ maxSize: 32, maxWaitMs: 1000, maxInFlight: 2, run });
    const result = batcher.submit(21);
    await vi.advanceTimersByTimeAsync(0); // one turn of the event loop, no timer
    await expect(result).resolves.toBe(42);
    expect(run).toHaveBeenCalledTimes(1);
    expect(run).toHaveBeenCalledWith([21], expect.any(Function));
  });

  it('items submitted in the same turn go together', async () => {
    const run = vi.fn(double);
    const batcher = createDynamicBatcher({ maxSize: 32, maxWaitMs: 1000, maxInFlight: 1, run });
    const results = [1, 2, 3].map((n) => batcher.submit(n));
    await vi.advanceTimersByTimeAsync(0);
    await expect(Promise.all(results)).resolves.toEqual([2, 4, 6]);
    expect(run.mock.calls.map((c) => c[0])).toEqual([[1, 2, 3]]);
  });

  it('while every slot is busy, items queue and leave together (up to maxSize) when one frees', async () => {
    const gates = [deferred(), deferred(), deferred()];
    const batches: number[][] = [];
    const run = async (items: number[]): Promise<Outcome<number>[]> => {
      batches.push(items);
      await gates[batches.length - 1]!.promise;
      return items.map((n) => ({ ok: true, value: n }));
    };
    const batcher = createDynamicBatcher({ maxSize: 3, maxWaitMs: 1000, maxInFlight: 1, run });
    const first = track(batcher.submit(0));
    await vi.advanceTimersByTimeAsync(0);
    const later = [1, 2, 3, 4].map((n) => track(batcher.submit(n)));
    await vi.advanceTimersByTimeAsync(5000); // no timer closes anything: only a free slot does
    expect(batches).toEqual([[0]]);
    expect(batcher.waiting).toBe(4);
    gates[0]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(first.settled).toBe(true);
    expect(batches).toEqual([[0], [1, 2, 3]]);
    gates[1]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[0], [1, 2, 3], [4]]);
    gates[2]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(later.every((s) => s.settled)).toBe(true);
  });

  it('take() decides how many waiting items the next batch gets (clamped to 1 … maxSize)', async () => {
    const batches: number[][] = [];
    const seen: number[][] = [];
    const run = async (items: number[]): Promise<Outcome<number>[]> => {
      batches.push(items);
      return items.map((n) => ({ ok: true, value: n }));
    };
    // Items ≥ 100 are "long": a batch stops before its second long item; 0 or too many are clamped.
    const take = (waiting: readonly number[]): number => {
      seen.push([...waiting]);
      if (waiting[0] === -1) return 0;
      const longs = waiting.map((n, i) => (n >= 100 ? i : -1)).filter((i) => i >= 0);
      return longs.length > 1 ? longs[1]! : 99;
    };
    const batcher = createDynamicBatcher({ maxSize: 4, maxWaitMs: 1000, maxInFlight: 1, take, run });
    const all = [100, 1, 200, 2, 3, 4, -1, 5].map((n) => track(batcher.submit(n)));
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[100, 1], [200, 2, 3, 4], [-1], [5]]);
    expect(seen[0]).toEqual([100, 1, 200, 2]); // take() sees at most maxSize items
    expect(all.every((s) => s.settled)).toBe(true);
  });

  it('drain() starts everything waiting at once and idle() waits for it', async () => {
    const gate = deferred();
    const batches: number[][] = [];
    const run = async (items: number[]): Promise<Outcome<number>[]> => {
      batches.push(items);
      await gate.promise;
      return items.map((n) => ({ ok: true, value: n }));
    };
    const batcher = createDynamicBatcher({ maxSize: 2, maxWaitMs: 1000, maxInFlight: 1, run });
    const all = [1, 2, 3, 4, 5].map((n) => track(batcher.submit(n)));
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1, 2]]);
    batcher.drain();
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
    const idle = track(batcher.idle());
    await flush();
    expect(idle.settled).toBe(false);
    gate.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(idle.settled).toBe(true);
    expect(all.every((s) => s.settled)).toBe(true);
  });
});

describe('continuous mode: release()', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a batch that releases its slot (scored, still publishing) lets the next batch start', async () => {
    const publishing = deferred();
    const batches: number[][] = [];
    const run = async (items: number[], release: () => void): Promise<Outcome<number>[]> => {
      batches.push(items);
      if (batches.length === 1) {
        release();
        release(); // twice is harmless: it frees one slot only
        await publishing.promise;
      }
      return items.map((n) => ({ ok: true, value: n }));
    };
    const batcher = createDynamicBatcher({ maxSize: 8, maxWaitMs: 1000, maxInFlight: 1, run });
    const first = track(batcher.submit(1));
    await vi.advanceTimersByTimeAsync(0);
    const second = track(batcher.submit(2));
    const third = track(batcher.submit(3));
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1], [2, 3]]);
    expect(second.settled && third.settled).toBe(true);
    expect(first.settled).toBe(false);
    expect(batcher.inFlight).toBe(1);
    publishing.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(first.settled).toBe(true);
  });
});
