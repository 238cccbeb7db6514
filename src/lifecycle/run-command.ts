import pretty from 'pino-pretty';
import { loadConfig, type Config } from '../config/load-config.ts';
import { isSfError } from '../errors/sf-error.ts';
import { createLogger, type Logger } from '../logging/logger.ts';

/**
 * One-shot commands (train, eval, quantize, bench:model): config from the environment (exit 2
 * when invalid), logs on stderr (pretty on a terminal) so stdout carries only the result; exit 2
 * on bad options (SF_ERR_CONFIG), 1 on other failures.
 */
export async function runCommand(
  name: string,
  env: Record<string, string | undefined>,
  body: (config: Config, logger: Logger) => Promise<void>,
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    process.stderr.write(`${name}: ${isSfError(err) ? `${err.code}: ${err.message}` : String(err)}\n`);
    process.exit(2);
  }
  const tty = process.stderr.isTTY === true;
  const destination =
    config.log.format === 'pretty' || (config.log.format === 'auto' && tty)
      ? pretty({
          destination: process.stderr,
          colorize: tty,
          translateTime: 'HH:MM:ss.l',
          ignore: 'pid,hostname',
          sync: true,
        })
      : process.stderr;
  const logger = createLogger({ level: config.log.level, format: config.log.format, name, destination });
  try {
    await body(config, logger);
  } catch (err) {
    process.stderr.write(
      `${name}: ${isSfError(err) ? `${err.code}: ${err.message}` : ((err as Error).stack ?? String(err))}\n`,
    );
    process.exitCode = isSfError(err, 'SF_ERR_CONFIG') ? 2 : 1;
  }
}
