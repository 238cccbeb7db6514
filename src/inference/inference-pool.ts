import { Worker } from 'node:worker_threads';
import type { Logger } from '../logging/logger.ts';
import { SfError } from '../errors/sf-error.ts';
import type { BatchStats, ItemOutcome, ModelInfo, RunnerOptions } from './model-runner.ts';
import type { Encoded } from '../tokenize/encoder.ts';
import type { ExplainRequest, FromThread, ThreadData, ToThread } from './thread-protocol.ts';

export interface InferencePoolOptions {
  runner: RunnerOptions;
  /** Further models every thread loads (MODEL_ROUTES), by key; score() names one to use it. */
  models?: { key: string; runner: RunnerOptions }[];
  threads: number;
  logger: Logger;
  /**
   * The module each thread runs; default inference-thread (.ts under tsx, .js compiled). The
   * chaos harness and the fault tests pass a wrapper of it (chaos/crashing-inference-thread.ts).
   */
  threadEntry?: URL;
  /**
   * BULK_THREADS: further threads that score only bulk-lane batches, at a lower CPU priority
   * (`bulkNice`, inherited by their onnxruntime threads), so the kernel gives the cores to live work
   * first. Absent or 0: bulk batches share the live threads, after every waiting live batch.
   */
  bulkThreads?: number;
  /** BULK_NICE: the bulk threads' nice value (Linux; elsewhere they run at normal priority). */
  bulkNice?: number;
  /** BULK_INTRA_OP_THREADS: the bulk threads' onnxruntime intra-op threads (default: the runner's). */
  bulkIntraOpThreads?: number;
}

interface Task {
  id: number;
  texts: (string | Encoded)[];
  explain: ExplainRequest | undefined;
  model: string | undefined;
  resolve: (value: { items: ItemOutcome[]; stats: BatchStats }) => void;
  reject: (err: SfError) => void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
  /** 'bulk': a BULK_THREADS thread, which takes only bulk batches. */
  lane: 'live' | 'bulk';
}

const COMPILED = !import.meta.url.endsWith('.ts');
const THREAD_ENTRY = new URL(COMPILED ? './inference-thread.js' : './inference-thread.ts', import.meta.url);

/**
 * What a thread starts: for a .ts entry (under tsx) thread-boot.mjs, which registers the
 * TypeScript loader first; compiled (dist/, `npm run build`) the entry itself, without a loader.
 */
function bootOf(entry: URL): URL {
  return entry.pathname.endsWith('.ts') ? new URL('./thread-boot.mjs', import.meta.url) : entry;
}

/**
 * A fixed set of worker_threads, each with its own tokenizer and onnxruntime session. Batches
 * queue until a thread is free. A thread that crashes fails its batch as retryable
 * (SF_ERR_THREAD_CRASH) and is replaced. Resolves once every thread has warmed up.
 */
export async function createInferencePool(options: InferencePoolOptions) {
  const log = options.logger.child({ component: 'inference-pool' });
  const slots = new Set<Slot>();
  const queue: Task[] = [];
  /** Bulk-lane batches (src/app/bulk-worker.ts): for the bulk threads, or, without, after every live batch. */
  const bulkQueue: Task[] = [];
  const inflight = new Set<Promise<unknown>>();
  let nextId = 1;
  const entry = options.threadEntry ?? THREAD_ENTRY;
  let closing: Promise<void> | undefined;
  let info: ModelInfo | undefined;
  let models: Record<string, ModelInfo> = {};

  function spawn(lane: Slot['lane']): Promise<Slot> {
    return new Promise((resolve, reject) => {
      const nice = lane === 'bulk' ? options.bulkNice : undefined;
      const intraOp = lane === 'bulk' ? options.bulkIntraOpThreads : undefined;
      const own = (r: RunnerOptions): RunnerOptions => (intraOp === undefined ? r : { ...r, intraOpThreads: intraOp });
      const worker = new Worker(bootOf(entry), {
        workerData: {
          entry: entry.href,
          runner: own(options.runner),
          models: options.models?.map((m) => ({ ...m, runner: own(m.runner) })),
          ...(nice !== undefined ? { nice } : {}),
        } satisfies ThreadData,
      });
      const slot: Slot = { worker, task: undefined, lane };
      let ready = false;
      worker.on('message', (message: FromThread) => {
        switch (message.type) {
          case 'ready':
            if (message.niceError) log.warn({ nice, reason: message.niceError }, 'bulk thread runs at normal priority');
            ready = true;
            info = message.info;
            models = message.models ?? {};
            slots.add(slot);
            resolve(slot);
            dispatch();
            break;
          case 'init-error':
            reject(SfError.fromJSON(message.error));
            break;
          case 'scored':
          case 'batch-error': {
            const task = slot.task;
            slot.task = undefined;
            if (task?.id === message.id) {
              if (message.type === 'scored') task.resolve({ items: message.items, stats: message.stats });
              else task.reject(SfError.fromJSON(message.error));
            }
            dispatch();
            break;
          }
        }
      });
      worker.on('error', (err: unknown) => {
        log.error({ err, threadId: worker.threadId }, 'inference thread crashed');
        if (!ready)
          reject(new SfError('SF_ERR_MODEL_LOAD', `inference thread failed to start: ${String(err)}`, { cause: err }));
      });
      worker.on('exit', (code) => {
        const wasMember = slots.delete(slot);
        const task = slot.task;
        slot.task = undefined;
        if (task)
          task.reject(
            new SfError('SF_ERR_THREAD_CRASH', `inference thread exited (code ${code}) while scoring a batch`),
          );
        if (!ready)
          reject(new SfError('SF_ERR_MODEL_LOAD', `inference thread exited (code ${code}) before it was ready`));
        else if (wasMember && !closing) {
          log.warn({ code, threadId: worker.threadId }, 'replacing inference thread');
          spawn(lane).catch((err) => {
            log.error({ err }, 'replacement inference thread failed to start');
            if (slots.size === 0)
              for (const t of [...queue.splice(0), ...bulkQueue.splice(0)])
                t.reject(new SfError('SF_ERR_THREAD_CRASH', 'no inference thread is running'));
          });
        }
        dispatch();
      });
    });
  }

  function dispatch(): void {
    const bulkThreadUp = [...slots].some((s) => s.lane === 'bulk');
    for (const slot of slots) {
      if (slot.task) continue;
      // A bulk thread takes only bulk batches; a live thread takes live ones first, and bulk ones
      // only while no bulk thread runs (BULK_THREADS=0, or one being replaced).
      const task =
        slot.lane === 'bulk' ? bulkQueue.shift() : (queue.shift() ?? (bulkThreadUp ? undefined : bulkQueue.shift()));
      if (task) send(slot, task);
    }
    if (closing && queue.length + bulkQueue.length > 0 && slots.size === 0) {
      for (const task of [...queue.splice(0), ...bulkQueue.splice(0)])
        task.reject(new SfError('SF_ERR_POOL_CLOSED', 'inference pool closed'));
    }
  }

  function send(slot: Slot, task: Task): void {
    slot.task = task;
    slot.worker.postMessage({
      type: 'score',
      id: task.id,
      texts: task.texts,
      explain: task.explain,
      model: task.model,
    } satisfies ToThread);
  }

  const lanes: Slot['lane'][] = [
    ...Array.from({ length: options.threads }, () => 'live' as const),
    ...Array.from({ length: options.bulkThreads ?? 0 }, () => 'bulk' as const),
  ];
  const started = await Promise.allSettled(lanes.map(spawn));
  const failure = started.find((s) => s.status === 'rejected');
  if (failure) {
    await Promise.all([...slots].map((s) => s.worker.terminate()));
    throw failure.reason;
  }
  log.info(
    {
      threads: options.threads,
      bulkThreads: options.bulkThreads ?? 0,
      intraOpThreads: options.runner.intraOpThreads,
      ...(options.bulkThreads
        ? { bulkIntraOpThreads: options.bulkIntraOpThreads ?? options.runner.intraOpThreads }
        : {}),
      model: info!.name,
      version: info!.version,
    },
    'inference threads ready',
  );

  return {
    info: info!,
    /** The further models (InferencePoolOptions.models) by key. */
    models,
    /** Threads that take only bulk batches (BULK_THREADS). */
    bulkThreads: options.bulkThreads ?? 0,
    /**
     * Scores a batch (texts or encodings) in a free thread; `explain` asks for explanations of the
     * flagged items, `model` names one of `models` (absent: the default model). `lane: 'bulk'`:
     * a bulk thread's (BULK_THREADS), or, without one, a live thread's once no live batch waits.
     */
    score(
      texts: (string | Encoded)[],
      explain?: ExplainRequest,
      model?: string,
      lane: 'live' | 'bulk' = 'live',
    ): Promise<{ items: ItemOutcome[]; stats: BatchStats }> {
      if (closing) return Promise.reject(new SfError('SF_ERR_POOL_CLOSED', 'inference pool is closed'));
      const promise = new Promise<{ items: ItemOutcome[]; stats: BatchStats }>((resolve, reject) => {
        (lane === 'bulk' ? bulkQueue : queue).push({ id: nextId++, texts, explain, model, resolve, reject });
        dispatch();
      });
      const tracked: Promise<unknown> = promise.then(
        () => inflight.delete(tracked),
        () => inflight.delete(tracked),
      );
      inflight.add(tracked);
      return promise;
    },
    /** Lets running and queued batches finish, then stops every thread. Safe to call twice. */
    close(): Promise<void> {
      closing ??= (async () => {
        while (inflight.size > 0) await Promise.allSettled([...inflight]);
        await Promise.all([...slots].map((s) => s.worker.terminate()));
        slots.clear();
      })();
      return closing;
    },
  };
}

export type InferencePool = Awaited<ReturnType<typeof createInferencePool>>;
