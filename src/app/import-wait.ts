import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import type { Logger } from '../logging/logger.ts';
import type { BulkProgress } from './bulk-progress.ts';

/** What `import --wait` reports: the accepted reviews stored and failed, and the end-to-end rate. */
export interface StoredWait {
  total: number;
  stored: number;
  failed: number;
  /** From the import's start to the last review stored (or to the interruption). */
  durationMs: number;
  /** stored / durationMs, per second: enqueue → stored rows, end to end. */
  ratePerS: number;
  /** False when interrupted before every review was stored or failed. */
  complete: boolean;
}

export interface WaitUntilStoredOptions {
  startedAt: number;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  logger: Logger;
  signal?: AbortSignal;
  pollMs?: number;
  /** Without a TTY: a log line this often. Default 5 s. */
  logEveryMs?: number;
}

/**
 * Polls `progress` until every followed review is stored or failed, showing a progress bar on a
 * TTY stderr (a log line every few seconds otherwise). Aborting stops the wait (complete: false).
 */
export async function waitUntilStored(progress: BulkProgress, options: WaitUntilStoredOptions): Promise<StoredWait> {
  const pollMs = options.pollMs ?? 250;
  const logEveryMs = options.logEveryMs ?? 5000;
  const tty = options.stderr.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          stream: options.stderr,
          format:
            ' stored {bar} {percentage}% | {value} / {total} | failed {failed} | {rate} reviews/s | ETA {eta_formatted}',
          hideCursor: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let counts = progress.counts();
  const rate = () => (counts.stored * 1000) / Math.max(1, Date.now() - options.startedAt);
  bar?.start(Math.max(1, counts.total), 0, { failed: 0, rate: 0 });
  let lastLog = Date.now();
  let complete = false;
  try {
    for (;;) {
      counts = await progress.poll();
      bar?.update(counts.stored + counts.failed, { failed: counts.failed, rate: Math.round(rate()) });
      if (!tty && Date.now() - lastLog >= logEveryMs) {
        lastLog = Date.now();
        options.logger.info({ ...counts, ratePerS: Math.round(rate()) }, 'import: waiting until stored');
      }
      if (counts.pending <= 0) {
        complete = true;
        break;
      }
      if (options.signal?.aborted) break;
      await sleep(pollMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
    }
  } finally {
    bar?.stop();
  }
  const durationMs = Date.now() - options.startedAt;
  return {
    total: counts.total,
    stored: counts.stored,
    failed: counts.failed,
    durationMs,
    ratePerS: (counts.stored * 1000) / Math.max(1, durationMs),
    complete,
  };
}
