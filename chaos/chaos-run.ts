import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/load-config.ts';
import { SfError } from '../src/errors/sf-error.ts';
import { createReviewProducer } from '../src/queue/review-producer.ts';
import type { Logger } from '../src/logging/logger.ts';
import { seededRandom } from '../src/training/seeded-random.ts';
import { createChaosDatabase } from './chaos-database.ts';
import { injectFault, planFaults, type FaultEvent } from './chaos-faults.ts';
import { startChaosFleet } from './chaos-fleet.ts';
import { startLoad, type LoadStats } from './chaos-load.ts';
import { loadSeconds, type AppendFsync, type ChaosOptions } from './chaos-options.ts';
import { reconcile, recoveryTimes, type FaultRecovery, type Reconciliation } from './chaos-reconcile.ts';
import { createReviewSource } from './chaos-review-source.ts';
import { redactPostgresUrl } from './postgres-admin.ts';

export interface ModeReport {
  appendfsync: AppendFsync;
  source: string;
  load: Omit<LoadStats, 'accepted' | 'acceptedAt'> & { accepted: number; offeredPerS: number };
  /** Stored rows per second over the load and the drain. */
  storedPerS: number;
  reconciliation: Reconciliation;
  faults: FaultRecovery[];
  /** Log lines of interest from the fleet (thread replacements, database outages...), counted by message. */
  fleetEvents: Record<string, number>;
  seconds: { load: number; drain: number };
  drained: boolean;
  logDir: string;
  /** Every review acknowledged, zero lost and zero duplicated, every fault injected, the queues drained. */
  ok: boolean;
}

export interface ChaosContext {
  options: ChaosOptions;
  projectRoot: string;
  logger: Logger;
  baseEnv: Record<string, string | undefined>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function queuesIdle(queues: Queue[]): Promise<boolean> {
  for (const q of queues) {
    const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    if (Object.values(c).some((n) => n > 0)) return false;
  }
  return true;
}

/**
 * One chaos run with one AOF fsync policy: a fresh database and Redis, the fleet as child
 * processes, a sustained load, the planned faults at their times, a drain, then reconciliation.
 */
export async function runChaosMode(ctx: ChaosContext, mode: AppendFsync): Promise<ModeReport> {
  const { options, logger } = ctx;
  const log = logger.child({ appendfsync: mode });
  const db = await createChaosDatabase(options.pgAdminUrl, log);
  if (!db)
    throw new SfError(
      'SF_ERR_STORAGE',
      `PostgreSQL is unreachable at ${redactPostgresUrl(options.pgAdminUrl)} (the chaos run needs a role that may CREATE DATABASE)`,
    );
  const logDir = path.join(options.logDir ?? mkdtempSync(path.join(os.tmpdir(), 'sf-chaos-')), mode);
  let fleet: Awaited<ReturnType<typeof startChaosFleet>> | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  try {
    fleet = await startChaosFleet({
      options,
      mode,
      databaseUrl: db.url,
      projectRoot: ctx.projectRoot,
      logDir,
      queuePrefix: '{chaos}',
      logger: log,
      baseEnv: ctx.baseEnv,
    });
    const config = loadConfig({ ...fleet.env, LOG_LEVEL: 'silent' });
    // The producer fails fast while Redis is away (as the ingest API's does); the inspector waits.
    const producerConnection = new Redis(fleet.redis.url, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: 5000,
      retryStrategy: () => 200,
    });
    producerConnection.on('error', () => undefined);
    const producer = createReviewProducer({ config, connection: producerConnection, logger: log });
    const inspect = new Redis(fleet.redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 200 });
    inspect.on('error', () => undefined);
    const reviews = new Queue(config.queues.reviews, { connection: inspect, prefix: config.redis.prefix });
    const results = new Queue(config.queues.results, { connection: inspect, prefix: config.redis.prefix });
    const bulk = new Queue(config.queues.bulk, { connection: inspect, prefix: config.redis.prefix });
    for (const q of [reviews, results, bulk]) q.on('error', () => undefined); // outages are the point here
    closers.push(() => bulk.close());
    closers.push(
      () => producer.close(),
      async () => producerConnection.disconnect(),
      () => reviews.close(),
      () => results.close(),
      async () => inspect.disconnect(),
    );
    await Promise.all([producer.queue.waitUntilReady(), reviews.waitUntilReady(), results.waitUntilReady()]);

    const source = createReviewSource({
      sharedDir: options.sharedDir,
      seed: options.seed,
      runId: mode,
      onFallback: (m) => log.warn(m),
    });
    const plan = planFaults(options, seededRandom(options.seed)); // same seed, same schedule in both modes
    log.info(
      {
        faults: plan.map((p) => `${p.kind}@${(p.atMs / 1000).toFixed(1)}s`),
        reviews: options.reviews,
        rate: options.rate,
        loadS: loadSeconds(options),
        source: source.origin,
      },
      'chaos load starting',
    );
    const loadStartedAt = Date.now();
    const load = startLoad({
      producer,
      source,
      rate: options.rate,
      total: options.reviews,
      logger: log,
      bulkShare: options.bulkShare,
    });
    const events: FaultEvent[] = [];
    for (const planned of plan) {
      const wait = loadStartedAt + planned.atMs - Date.now();
      if (wait > 0) await sleep(wait);
      events.push(await injectFault({ fleet, db, reviews, results, options, logger: log }, planned));
    }
    const loadEnd = loadStartedAt + loadSeconds(options) * 1000;
    if (loadEnd > Date.now()) await sleep(loadEnd - Date.now());
    const loadStats = await load.stop();
    const loadTookS = (Date.now() - loadStartedAt) / 1000;

    const drainStart = Date.now();
    let drained = false;
    for (let idleRounds = 0; Date.now() - drainStart < options.drainTimeoutS * 1000;) {
      idleRounds = (await queuesIdle([reviews, results, bulk]).catch(() => false)) ? idleRounds + 1 : 0;
      if (idleRounds >= 2) {
        drained = true;
        break;
      }
      await sleep(Math.max(500, options.stalledIntervalMs / 2));
    }
    const drainSeconds = (Date.now() - drainStart) / 1000;
    if (!drained) log.error({ drainTimeoutS: options.drainTimeoutS }, 'the queues did not drain in time');

    const rows = await db.rows();
    const reconciliation = await reconcile({
      load: loadStats,
      rows,
      upsertHits: await db.upsertHits(),
      reviews,
      results,
    });
    const faults = recoveryTimes({ faults: events, rows, load: loadStats, loadStartedAt, rate: options.rate });
    const fleetEvents: Record<string, number> = {};
    for (const e of fleet.events) fleetEvents[e.msg] = (fleetEvents[e.msg] ?? 0) + 1;
    const lastStored = rows.reduce((m, r) => Math.max(m, r.storedAtMs), loadStartedAt);
    const { accepted, acceptedAt: _acceptedAt, ...loadRest } = loadStats;
    return {
      appendfsync: mode,
      source: source.origin,
      load: {
        ...loadRest,
        accepted: accepted.size,
        offeredPerS: Math.round((loadStats.offered / loadTookS) * 10) / 10,
      },
      storedPerS: Math.round((rows.length / Math.max(1, (lastStored - loadStartedAt) / 1000)) * 10) / 10,
      reconciliation,
      faults,
      fleetEvents,
      seconds: { load: Math.round(loadTookS * 10) / 10, drain: Math.round(drainSeconds * 10) / 10 },
      drained,
      logDir,
      ok:
        drained &&
        loadStats.unacknowledged === 0 &&
        reconciliation.lost === 0 &&
        reconciliation.duplicated === 0 &&
        faults.every((f) => f.error === undefined),
    };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await fleet?.close().catch((err: unknown) => log.warn({ err }, 'closing the fleet failed'));
    await db.drop().catch((err: unknown) => log.warn({ err }, 'dropping the chaos database failed'));
  }
}

/** The machine the run ran on; the load averages say how much else it was doing (a shared host). */
export interface ChaosHost {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  /** os.loadavg() (1, 5, 15 min) when the run started and when it ended. */
  loadAverage: { start: number[]; end: number[] };
}

export interface ChaosReport {
  /** When the run ended. */
  date: string;
  /** Wall time of the whole run, every mode. */
  durationS: number;
  host: ChaosHost;
  options: Omit<ChaosOptions, 'pgAdminUrl' | 'logDir'> & { pgAdminUrl: string };
  modes: ModeReport[];
  ok: boolean;
}

const loadAverage = (): number[] => os.loadavg().map((v) => Math.round(v * 100) / 100);

/** When a run started, for its report's duration and load averages. */
export function chaosStart(): { at: number; loadAverage: number[] } {
  return { at: Date.now(), loadAverage: loadAverage() };
}

/** The report of modes run since `started`: ok only if every mode was. */
export function chaosReport(
  options: ChaosOptions,
  modes: ModeReport[],
  started: { at: number; loadAverage: number[] },
): ChaosReport {
  const { logDir: _logDir, ...rest } = options;
  const cpus = os.cpus();
  const host: ChaosHost = {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    loadAverage: { start: started.loadAverage, end: loadAverage() },
  };
  return {
    date: new Date().toISOString(),
    durationS: Math.round((Date.now() - started.at) / 100) / 10,
    host,
    options: { ...rest, pgAdminUrl: redactPostgresUrl(rest.pgAdminUrl) },
    modes,
    ok: modes.every((m) => m.ok),
  };
}

/** Every mode in turn (one fresh fleet each). */
export async function runChaos(ctx: ChaosContext): Promise<ChaosReport> {
  const started = chaosStart();
  const modes: ModeReport[] = [];
  for (const mode of ctx.options.modes) modes.push(await runChaosMode(ctx, mode));
  return chaosReport(ctx.options, modes, started);
}
