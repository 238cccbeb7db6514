export type Outcome<R> = { ok: true; value: R } | { ok: false; error: Error };

export interface DynamicBatcherOptions<T, R> {
  maxSize: number;
  maxWaitMs: number;
  /** Runs one batch; returns one outcome per item, in order. Throwing fails every item. */
  run: (items: T[]) => Promise<Outcome<R>[]>;
}

interface Pending<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (error: Error) => void;
}

/**
 * Groups items submitted one by one into batches. A batch closes when it holds `maxSize` items
 * or when its first item has waited `maxWaitMs`, whichever comes first. Batches run
 * concurrently; the caller bounds concurrency by how many items it submits.
 */
export function createDynamicBatcher<T, R>(options: DynamicBatcherOptions<T, R>) {
  let pending: Pending<T, R>[] = [];
  let timer: NodeJS.Timeout | undefined;
  let immediate = false;
  const running = new Set<Promise<void>>();

  function close(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const done = execute(batch).finally(() => running.delete(done));
    running.add(done);
  }

  async function execute(batch: Pending<T, R>[]): Promise<void> {
    let outcomes: Outcome<R>[];
    try {
      outcomes = await options.run(batch.map((p) => p.item));
      if (outcomes.length !== batch.length) throw new Error(`batch runner returned ${outcomes.length} outcomes for ${batch.length} items`);
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
        if (pending.length >= options.maxSize || immediate || options.maxWaitMs === 0) close();
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
      close();
    },
    /** Resolves when no batch is running. */
    async idle(): Promise<void> {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}

export type DynamicBatcher<T, R> = ReturnType<typeof createDynamicBatcher<T, R>>;

/**
 * Closes a job consumer that feeds a batcher: stop taking jobs, close the open batch at once (its
 * jobs are held by the consumer, which waits for them), then wait for every batch in flight.
 */
export async function closeWithBatcher(consumer: { close(): Promise<void> }, batcher: { drain(): void; idle(): Promise<void> }): Promise<void> {
  const closed = consumer.close();
  batcher.drain();
  await closed;
  await batcher.idle();
}
