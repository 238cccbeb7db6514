import pino, { type Logger } from 'pino';
import type { Config } from '../config/load-config.ts';

export type { Logger };

export interface LoggerOptions {
  level: Config['log']['level'];
  format: Config['log']['format'];
  name?: string;
  /** Defaults to stdout; tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

/**
 * Where review text could sit in a logged object by mistake: a review (`text`, `title`, `review`),
 * a job (`job.data.text`), a list of reviews (`reviews[3].text`). Tested in test/unit/log-privacy.test.ts.
 */
export const REDACTED_PATHS = [
  'text',
  'title',
  '*.text',
  '*.title',
  '*.*.text',
  '*.*.title',
  '*[*].text',
  '*[*].title',
  'review.*',
  'data.text',
  'data.title',
];

/**
 * The one root logger of a process. Children carry job and batch ids. Errors go under `err`.
 * Review text and tensors are never logged: the redaction below is a safety net for the
 * fields that could carry them if someone logged a job or a review by mistake.
 */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && process.stdout.isTTY === true);
  const base: pino.LoggerOptions = {
    level: options.level,
    name: options.name ?? 'sentiment-fleet',
    serializers: { err: pino.stdSerializers.err },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (options.destination) return pino(base, options.destination);
  if (pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(base);
}
