import type { InferencePool } from '../inference/inference-pool.ts';
import type { Logger } from '../logging/logger.ts';

/** The signal the chaos run and the chaos test send a worker to crash one inference thread. */
export const CRASH_THREAD_SIGNAL = 'SIGUSR2';

/**
 * Fault injection, installed only with CHAOS_FAULTS=true: on SIGUSR2 the thread that takes the
 * worker's next batch dies with it in hand (InferencePool.crashNextBatch raises the fault inside
 * the thread; terminating a thread from outside while it is in onnxruntime's run() could take
 * the whole process down). Returns the uninstaller.
 */
export function installCrashSignal(pool: Pick<InferencePool, 'crashNextBatch'>, logger: Logger): () => void {
  const onSignal = (): void => {
    logger.warn({ fault: 'thread-crash' }, 'fault injection: the next batch crashes its inference thread');
    pool.crashNextBatch();
  };
  process.on(CRASH_THREAD_SIGNAL, onSignal);
  logger.warn({ signal: CRASH_THREAD_SIGNAL }, 'CHAOS_FAULTS is on: this worker accepts fault injection');
  return () => void process.off(CRASH_THREAD_SIGNAL, onSignal);
}
