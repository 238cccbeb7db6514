/**
 * What one chaos run does: load, faults, fleet shape. Defaults: 50,000 reviews per mode at 500/s
 * (100 s of load, every fault kind), about 5 minutes for both modes on 2 cores.
 */

export type AppendFsync = 'everysec' | 'always';

export const FAULT_KINDS = [
  'worker-kill', // SIGKILL of an inference worker process mid-batch, then a new one
  'sink-kill', // SIGKILL of the result sink process, then a new one
  'redis-kill', // SIGKILL of redis-server, restarted on the same port and data dir (AOF)
  'redis-shutdown', // SHUTDOWN NOSAVE, restarted on the same port and data dir (AOF)
  'redis-pause', // SIGSTOP for longer than the job lock, then SIGCONT
  'pg-terminate', // pg_terminate_backend of every sink connection
  'thread-crash', // one inference thread dies with a batch in hand (chaos-worker.ts, SIGUSR2)
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  /** Reviews offered per mode (each until acknowledged); the load lasts reviews / rate seconds. */
  reviews: number;
  /** Reviews offered per second. */
  rate: number;
  /** Share of the reviews sent in the bulk lane (chunk jobs), 0–1; default 0 (all live). */
  bulkShare: number;
  seed: number;
  /** AOF fsync policies to run, one full run each. */
  modes: AppendFsync[];
  /** How many faults of each kind per mode. */
  faults: Record<FaultKind, number>;
  workers: number;
  modelDir: string;
  /** Where ../shared lives (SHARED_DIR): the reviews come from data/flipkart-reviews.jsonl. */
  sharedDir: string;
  /** A PostgreSQL role that may CREATE DATABASE; the run creates and drops its own database. */
  pgAdminUrl: string;
  /** BullMQ job lock and stall check of the fleet (short, so takeovers are quick). */
  lockDurationMs: number;
  stalledIntervalMs: number;
  backoffDelayMs: number;
  /** How long a redis-pause lasts: longer than the lock, so locks expire while paused. */
  pauseMs: number;
  /** After the load stops: how long to wait for the queues to drain. */
  drainTimeoutS: number;
  /** Where the children's logs go (one file per process); default: a temp dir. */
  logDir?: string | undefined;
}

export const DEFAULT_FAULTS: Record<FaultKind, number> = {
  'worker-kill': 3,
  'sink-kill': 1,
  'redis-kill': 1,
  'redis-shutdown': 1,
  'redis-pause': 1,
  'pg-terminate': 2,
  'thread-crash': 2,
};

export const DEFAULT_REVIEWS = 50_000;
export const DEFAULT_RATE = 500;

/** Seconds of load per mode: the faults are spread over them. */
export function loadSeconds(options: Pick<ChaosOptions, 'reviews' | 'rate'>): number {
  return options.reviews / options.rate;
}

export function defaultChaosOptions(
  overrides: Partial<ChaosOptions> & Pick<ChaosOptions, 'modelDir' | 'sharedDir'>,
): ChaosOptions {
  const lockDurationMs = overrides.lockDurationMs ?? 10_000;
  return {
    reviews: DEFAULT_REVIEWS,
    rate: DEFAULT_RATE,
    bulkShare: 0,
    seed: 8,
    modes: ['everysec', 'always'],
    faults: { ...DEFAULT_FAULTS },
    workers: 2,
    pgAdminUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
    lockDurationMs,
    stalledIntervalMs: 5000,
    backoffDelayMs: 200,
    pauseMs: lockDurationMs + 2000,
    drainTimeoutS: 120,
    ...overrides,
  };
}

/** `worker-kill=3,redis-pause=0` → counts over the defaults; unknown kinds are refused by name. */
export function parseFaultCounts(
  spec: string,
  base: Record<FaultKind, number> = DEFAULT_FAULTS,
): Record<FaultKind, number> {
  const out = { ...base };
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [kind, count] = part.split('=');
    if (!(FAULT_KINDS as readonly string[]).includes(kind ?? ''))
      throw new Error(`unknown fault kind ${JSON.stringify(kind)} (known: ${FAULT_KINDS.join(', ')})`);
    const n = Number(count);
    if (!Number.isInteger(n) || n < 0) throw new Error(`fault count of ${kind} must be a whole number ≥ 0`);
    out[kind as FaultKind] = n;
  }
  return out;
}
