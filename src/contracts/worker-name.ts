/**
 * The name of an inference worker: its BullMQ worker name (listed by getWorkers) and its id in
 * the stats stream (`w`). `host/pid/model@version`, with `:` and white space made `_` (BullMQ
 * keeps the name in a Redis client name, which allows neither). Written by the worker
 * (workerName), read by the stats service (parseWorkerName): this file is the only one that
 * knows the format.
 */
export interface WorkerNameParts {
  host: string;
  pid: number;
  model: string;
  version: string;
}

const UNSAFE = /[:\s]/g;
/** The host has no `/`; the model may hold `@` (the last `@` starts the version). */
const WORKER_NAME = /^([^/]+)\/(\d+)\/(.+)@([^@]*)$/;

export function workerName(parts: WorkerNameParts): string {
  return `${parts.host}/${parts.pid}/${parts.model}@${parts.version}`.replace(UNSAFE, '_');
}

/** The parts of a worker name, or undefined when it is not one (another client's name). */
export function parseWorkerName(name: string): WorkerNameParts | undefined {
  const m = WORKER_NAME.exec(name);
  return m ? { host: m[1]!, pid: Number(m[2]), model: m[3]!, version: m[4]! } : undefined;
}
