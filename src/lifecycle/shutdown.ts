import type { Logger } from '../logging/logger.ts';

export interface ShutdownOptions {
  logger: Logger;
  graceMs: number;
  /** Closes everything the process owns (a ResourceStack's close). */
  close: () => Promise<void>;
  /** Injected in tests; defaults to process.exit. */
  exit?: (code: number) => void;
  signals?: NodeJS.Signals[];
}

/**
 * SIGTERM/SIGINT: close everything in reverse start order and exit 0, or exit 1 if the grace
 * period runs out. An uncaught exception or unhandled rejection is logged and ends the process
 * (exit 1) after a bounded attempt to close: the process never keeps running in an unknown state.
 */
export function installShutdown(options: ShutdownOptions): {
  shutdown: (reason: string, code?: number) => Promise<void>;
} {
  const rawExit = options.exit ?? ((code: number) => process.exit(code));
  let exited = false;
  const exit = (code: number) => {
    if (exited) return;
    exited = true;
    rawExit(code);
  };
  let started = false;
  let failed = false;

  async function shutdown(reason: string, code = 0): Promise<void> {
    failed ||= code !== 0; // an uncaught error during a clean shutdown still ends in exit 1
    if (started) return;
    started = true;
    options.logger.info({ reason, graceMs: options.graceMs }, 'shutting down');
    const timer = setTimeout(() => {
      options.logger.error({ graceMs: options.graceMs }, 'shutdown grace period exceeded, exiting');
      exit(1);
    }, options.graceMs);
    timer.unref();
    try {
      await options.close();
      options.logger.info({ reason }, 'shutdown complete');
      exit(failed ? 1 : 0);
    } catch (err) {
      options.logger.error({ err }, 'shutdown failed');
      exit(1);
    } finally {
      clearTimeout(timer);
    }
  }

  // `on`, not `once`: a second Ctrl-C must not fall through to Node's default (exit at once).
  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) process.on(signal, () => void shutdown(signal));
  process.on('uncaughtException', (err) => {
    options.logger.fatal({ err }, 'uncaught exception');
    void shutdown('uncaughtException', 1);
  });
  process.on('unhandledRejection', (err) => {
    options.logger.fatal({ err }, 'unhandled rejection');
    void shutdown('unhandledRejection', 1);
  });
  return { shutdown };
}
