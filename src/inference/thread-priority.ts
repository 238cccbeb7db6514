import { readlinkSync } from 'node:fs';
import os from 'node:os';

/**
 * Lowers the calling thread's CPU priority to `nice` (Linux: nice is per thread, and threads the
 * caller starts afterwards inherit it; os.setPriority takes a thread id there). Raising a nice
 * value needs no privilege. Returns why it could not, or undefined once done.
 */
export function lowerThreadPriority(nice: number): string | undefined {
  try {
    // '/proc/thread-self' links to '<pid>/task/<tid>'.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (!Number.isInteger(tid)) return 'no thread id in /proc/thread-self';
    os.setPriority(tid, nice);
    return os.getPriority(tid) === nice ? undefined : `nice is ${os.getPriority(tid)}, not ${nice}`;
  } catch (err) {
    return (err as Error).message;
  }
}
