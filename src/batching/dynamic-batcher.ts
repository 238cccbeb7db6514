export type Outcome<R> = { ok: true; value: R } | { ok: false; error: Error };

export interface DynamicBatcherOptions<T, R> {
  maxSize: number;
  /** Fixed mode: a batch closes when its first item has waited this long. */
  maxWaitMs: number;
  /**
   * Continuous mode (the token-budget policy) when set: a batch leaves as soon as fewer than this many
   * batches hold a slot (until `release()` or settling), with every waiting item up to `maxSize`;
   * items wait only while all slots are busy, so nothing waits at low load and batches grow with
   * the load. No timer.
   */
  maxInFlight?: number;
  /** Continuous mode: how many of the waiting items (up to `maxSize` of them) the next batch takes; default all. */
  take?: (waiting: readonly T[]) => number;
  /**
   * Runs one batch; returns one outcome per item, in order. Throwing fails every item. In
   * continuous mode, `release()` frees the batch's slot before the batch settles (e.g. once it
   * is scored, while its results are still being published).
   */
  run: (items: T[], release: () => void) => Promise<Outcome<R>[]>;
}

interface Pending<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (error: Error) => void;
}

/**
 * Groups items submitted one by one into batches. Fixed mode: a batch closes when it holds
 * `maxSize` items or when its first item has waited `maxWaitMs`, whichever comes first; batches
 * run concurrently and the caller bounds concurrency by how many items it submits. Continuous
 * mode (`maxInFlight`): see the option.
 */
export function createDynamicBatcher<T, R>(options: DynamicBatcherOptions<T, R>) {
  let pending: Pending<T, R>[] = [];
  let timer: NodeJS.Timeout | undefined;
  let immediate = false;
  const running = new Set<Promise<void>>();

  const continuous = options.maxInFlight !== undefined;
  /** Batches holding a slot: started and neither released nor settled. */
  let slots = 0;

  function close(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const batch = continuous ? pending.splice(0, sizeOfNext()) : pending;
    if (!continuous) pending = [];
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      slots--;
      if (continuous) pump();
    };
    slots++;
    const done = execute(batch, release).finally(() => {
      running.delete(done);
      release();
    });
    running.add(done);
  }

  function sizeOfNext(): number {
    if (!options.take) return options.maxSize;
    const n = options.take(pending.slice(0, options.maxSize).map((p) => p.item));
    return Math.max(1, Math.min(options.maxSize, Math.floor(n)));
  }

  /** Continuous mode: start batches while slots are free (all at once when draining). */
  function pump(): void {
    while (pending.length > 0 && (immediate || slots < options.maxInFlight!)) close();
  }
  // Items that arrive in the same turn of the event loop (e.g. jobs from one socket read) go
  // together: a submit schedules one pump after the turn's I/O callbacks instead of starting at once.
  let scheduled: NodeJS.Immediate | undefined;
  function schedulePump(): void {
    scheduled ??= setImmediate(() => {
      scheduled = undefined;
      pump();
    });
  }

  async function execute(batch: Pending<T, R>[], release: () => void): Promise<void> {
    let outcomes: Outcome<R>[];
    try {
      outcomes = await options.run(
        batch.map((p) => p.item),
        release,
      );
      if (outcomes.length !== batch.length)
        throw new Error(`batch runner returned ${outcomes.length} outcomes for ${batch.length} items`);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const p of batch) p.reject(error);
      return;
    }
    outcomes.forEach((outcome, i) => (outcome.ok ? batch[i]!.resolve(outcome.value) : batch[i]!.reject(outcome.error)));
  }

  return {
    submit(item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        if (continuous) {
          if (immediate) pump();
          else schedulePump();
        } else if (pending.length >= options.maxSize || immediate || options.maxWaitMs === 0) close();
        else timer ??= setTimeout(close, options.maxWaitMs);
      });
    },
    /** Items waiting for their batch to close. */
    get waiting(): number {
      return pending.length;
    },
    /** Batches running now. */
    get inFlight(): number {
      return running.size;
    },
    /** Closes the open batch now, and every later item runs at once (used on shutdown). */
    drain(): void {
      immediate = true;
      if (continuous) pump();
      else close();
    },
    /** Resolves when no batch is running (and, in continuous mode, none is about to start). */
    async idle(): Promise<void> {
      while (running.size > 0 || (continuous && pending.length > 0)) {
        if (running.size > 0) await Promise.allSettled([...running]);
        else await new Promise((r) => setImmediate(r));
      }
    },
  };
}

export type DynamicBatcher<T, R> = ReturnType<typeof createDynamicBatcher<T, R>>;

/**
 * Closes a job consumer that feeds a batcher: stop taking jobs, close the open batch at once (its
 * jobs are held by the consumer, which waits for them), then wait for every batch in flight.
 */
export async function closeWithBatcher(
  consumer: { close(): Promise<void> },
  batcher: { drain(): void; idle(): Promise<void> },
): Promise<void> {
  const closed = consumer.close();
  batcher.drain();
  await closed;
  await batcher.idle();
}
