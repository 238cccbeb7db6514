import type { Config } from '../config/load-config.ts';
import { isSfError, toSfError } from '../errors/sf-error.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import { installShutdown } from './shutdown.ts';

/**
 * The shape every entrypoint shares: parse the environment once (every bad setting reported at
 * once, exit 2), build the root logger, start the app, and install bounded shutdown around the
 * close function it returns. A start-up failure is logged under `err` and exits 1.
 */
export async function runEntrypoint(
  name: string,
  parse: (env: Record<string, string | undefined>) => Config,
  start: (config: Config, logger: Logger) => Promise<() => Promise<void>>,
): Promise<void> {
  let config: Config;
  try {
    config = parse(process.env);
  } catch (err) {
    process.stderr.write(`${name}: ${isSfError(err) ? `${err.code}: ${err.message}` : String(err)}\n`);
    process.exit(2);
  }
  const logger = createLogger({ level: config.log.level, format: config.log.format, name });
  let close: () => Promise<void> = async () => {};
  const { shutdown } = installShutdown({ logger, graceMs: config.worker.shutdownGraceMs, close: () => close() });
  try {
    close = await start(config, logger);
  } catch (err) {
    logger.fatal({ err }, `${name} failed to start`);
    await tellParent(err);
    await shutdown('start-up failure', 1);
  }
}

/**
 * A process started by `npm start` (with an IPC channel) tells it why it failed to start, so that
 * npm start fails with that code (SF_ERR_REDIS, SF_ERR_MODEL_LOAD, ...) rather than a guess.
 */
function tellParent(err: unknown): Promise<void> {
  const send = process.send?.bind(process);
  if (!send || !process.connected) return Promise.resolve();
  const error = toSfError(err, 'SF_ERR_INTERNAL').toJSON();
  return new Promise((resolve) => {
    send({ type: 'start-failed', error }, undefined, {}, () => resolve());
  });
}
