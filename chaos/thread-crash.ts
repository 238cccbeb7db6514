import { setEnvironmentData } from 'node:worker_threads';
import type { WorkerAppOptions } from '../src/app/worker-app.ts';
import type { Logger } from '../src/logging/logger.ts';

/**
 * Inference thread crashes for the chaos run and the fault tests, with no hook in the product: a
 * worker app built with crashingWorkerOptions() runs its inference threads through
 * crashing-inference-thread.ts, which shares one flag with this process's main thread (a
 * SharedArrayBuffer in the threads' environment data). armThreadCrash() raises it; the thread
 * that takes the next batch clears it and dies with the batch in hand before the model sees the
 * batch (terminating a thread from outside while it is inside onnxruntime's native run() can take
 * the whole process down).
 */
export const THREAD_CRASH_KEY = 'sentiment-fleet:thread-crash';

/** The signal the chaos run sends a worker (chaos-worker.ts) to crash one inference thread. */
export const CRASH_THREAD_SIGNAL = 'SIGUSR2';

const flag = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

/** Worker app options whose inference threads crash on armThreadCrash(); threads started later share the flag. */
export function crashingWorkerOptions(): WorkerAppOptions {
  setEnvironmentData(THREAD_CRASH_KEY, flag.buffer);
  return { threadEntry: new URL('./crashing-inference-thread.ts', import.meta.url) };
}

/** The next batch a crashing inference thread of this process takes, it dies with. */
export function armThreadCrash(): void {
  Atomics.store(flag, 0, 1);
}

/** On CRASH_THREAD_SIGNAL, arms a thread crash (chaos-worker.ts). Returns the uninstaller. */
export function installCrashSignal(logger: Logger): () => void {
  const onSignal = (): void => {
    logger.warn({ fault: 'thread-crash' }, 'fault injection: the next batch crashes its inference thread');
    armThreadCrash();
  };
  process.on(CRASH_THREAD_SIGNAL, onSignal);
  logger.warn({ signal: CRASH_THREAD_SIGNAL }, 'chaos worker: this worker accepts fault injection');
  return () => void process.off(CRASH_THREAD_SIGNAL, onSignal);
}
