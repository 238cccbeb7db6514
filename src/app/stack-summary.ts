import type { Logger } from '../logging/logger.ts';

/** What one summary line reports. */
export interface StackFigures {
  /** Results stored since start. */
  stored: number;
  /** Review jobs not yet taken (waiting, prioritized, delayed, paused). */
  backlog: number;
  /** Review jobs failed for good, all time. */
  failed: number;
}

export interface StackSummaryOptions {
  logger: Logger;
  /** Reads the figures; a failure (Redis away) skips that line. */
  read: () => Promise<StackFigures>;
  /** Default 5 s. */
  everyMs?: number;
}

const count = new Intl.NumberFormat('en-US');

/** The line: `stored 12,345 (+2,500, 500/s) · backlog 7,655 · failed 3`. */
export function summaryLine(now: StackFigures, before: StackFigures, seconds: number): string {
  const added = now.stored - before.stored;
  const rate = seconds > 0 ? added / seconds : 0;
  const newFailures = now.failed - before.failed;
  return `stored ${count.format(now.stored)} (+${count.format(added)}, ${count.format(Math.round(rate))}/s) · backlog ${count.format(now.backlog)} · failed ${count.format(now.failed)}${newFailures > 0 ? ` (+${count.format(newFailures)})` : ''}`;
}

/**
 * `npm start`'s terminal while it works: one line every `everyMs` with the results stored (and
 * how many per second since the last line), the backlog and the failed jobs, instead of a line per
 * stored result (those are at debug level). Silent while nothing changes and nothing waits, so an
 * idle stack prints nothing. close() is safe twice.
 */
export function startStackSummary(options: StackSummaryOptions) {
  const everyMs = options.everyMs ?? 5000;
  const log = options.logger;
  let last: { figures: StackFigures; at: number } | undefined;
  let busy = false;
  let closed = false;
  const tick = async () => {
    if (busy || closed) return;
    busy = true;
    try {
      const figures = await options.read();
      const at = Date.now();
      if (closed) return;
      const seconds = last ? (at - last.at) / 1000 : everyMs / 1000;
      // The first line counts failures from now on: earlier ones are not news.
      const before = last?.figures ?? { stored: 0, backlog: 0, failed: figures.failed };
      const changed =
        figures.stored !== before.stored || figures.failed !== before.failed || figures.backlog !== before.backlog;
      if (changed || figures.backlog > 0) {
        // One line, even in a pretty terminal: no fields beside the message.
        log.info(summaryLine(figures, before, seconds));
      }
      last = { figures, at };
    } catch (err) {
      log.debug({ err }, 'summary skipped: the figures could not be read');
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return {
    /** For tests: one tick now. */
    tick,
    close(): void {
      closed = true;
      clearInterval(timer);
    },
  };
}
