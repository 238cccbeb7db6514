import type { Queue } from 'bullmq';
import type { Config } from '../config/load-config.ts';
import type { Logger } from '../logging/logger.ts';

/** Jobs removed per clean call; a sweep repeats until a call removes fewer. */
const CLEAN_BATCH = 1000;

export interface RetentionSweeper {
  /** One sweep now: removes completed jobs older than KEEP_COMPLETED_S and failed ones older than KEEP_FAILED_S. */
  sweep(): Promise<{ completed: number; failed: number }>;
  /** Stops the timer and waits for a sweep in progress. Safe twice. */
  close(): Promise<void>;
}

/**
 * Retention for idle queues. BullMQ applies `removeOnComplete`/`removeOnFail` ages (queue-setup.ts)
 * only when another job finishes, so the payloads of the last jobs before a quiet period (review
 * texts, on the reviews queue) would stay in Redis until traffic resumes. Every RETENTION_SWEEP_S
 * this removes the finished jobs past their age with Queue.clean. Several processes sweeping the
 * same queue is harmless (each clean is one atomic script). RETENTION_SWEEP_S=0: no timer.
 */
export function createRetentionSweeper(queues: readonly Queue[], config: Config, logger: Logger): RetentionSweeper {
  const log = logger.child({ component: 'retention' });
  const { keepCompletedS, keepFailedS, retentionSweepS } = config.jobs;
  let running: Promise<{ completed: number; failed: number }> | undefined;
  let closed = false;
  let lastError = '';

  async function clean(queue: Queue, graceMs: number, type: 'completed' | 'failed'): Promise<number> {
    let removed = 0;
    for (;;) {
      const ids = await queue.clean(graceMs, CLEAN_BATCH, type);
      removed += ids.length;
      if (ids.length < CLEAN_BATCH || closed) return removed;
    }
  }

  async function sweepOnce() {
    const total = { completed: 0, failed: 0 };
    for (const queue of queues) {
      const completed = await clean(queue, keepCompletedS * 1000, 'completed');
      const failed = await clean(queue, keepFailedS * 1000, 'failed');
      if (completed + failed > 0) log.debug({ queue: queue.name, completed, failed }, 'retention sweep removed jobs');
      total.completed += completed;
      total.failed += failed;
    }
    return total;
  }

  function sweep() {
    running ??= sweepOnce().finally(() => {
      running = undefined;
    });
    return running;
  }

  const timer =
    retentionSweepS > 0
      ? setInterval(() => {
          sweep().then(
            () => {
              lastError = '';
            },
            (err: unknown) => {
              const message = err instanceof Error ? err.message : String(err);
              if (message !== lastError) log.warn({ err }, 'retention sweep failed (retried at the next period)');
              lastError = message;
            },
          );
        }, retentionSweepS * 1000)
      : undefined;
  timer?.unref();

  return {
    sweep,
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
