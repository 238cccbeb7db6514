import { SfError } from '../errors/sf-error.ts';
import type { Logger } from './logger.ts';

/**
 * An 'error' event listener that logs each distinct message once until `reset()`: ioredis and
 * BullMQ repeat the same error on every reconnect attempt while Redis is away. For the 'error'
 * events of Redis connections and BullMQ queues and workers: logged as SF_ERR_REDIS.
 */
export function createErrorLogger(logger: Logger, msg: string) {
  let last = '';
  const listener = (err: Error) => {
    if (err.message !== last) logger.warn({ err: new SfError('SF_ERR_REDIS', err.message, { cause: err }) }, msg);
    last = err.message;
  };
  /** Forgets the last error; returns whether there was one. */
  listener.reset = (): boolean => {
    const had = last !== '';
    last = '';
    return had;
  };
  return listener;
}
