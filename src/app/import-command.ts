import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import pretty from 'pino-pretty';
import { loadConfig, type Config } from '../config/load-config.ts';
import { isSfError, toSfError, type SfError } from '../errors/sf-error.ts';
import {
  importReviewFile,
  importSummaryOf,
  type BacklogWait,
  type ImportProgress,
  type ImportSummary,
} from '../ingest/file-import.ts';
import { detectFormat, IMPORT_FORMATS, openReviewFile, type ImportFormat } from '../ingest/review-file-reader.ts';
import { createReviewProducer } from '../queue/review-producer.ts';
import { createResourceStack } from '../lifecycle/resource-stack.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import { closeRedisConnection, createRedisConnection, waitForRedis } from '../queue/redis-connection.ts';
import { noStackReason, readStackFile, usingStackMessage } from './stack-file.ts';
import { createResultsQueue } from '../queue/queue-setup.ts';
import { createBulkProgress } from './bulk-progress.ts';
import { waitUntilStored, type StoredWait } from './import-wait.ts';

/**
 * 0: everything accepted or duplicate; 1: a record was rejected, or the import failed (file missing
 * or not a regular file, CSV malformed from some line on, backlog over its mark too long, Redis);
 * 2: bad usage or config.
 */
export const IMPORT_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface ImportCommandOptions {
  format?: ImportFormat;
  json?: boolean;
  chunkSize?: number;
  /** Longest wait, in seconds, for the backlog to fall below BACKLOG_HIGH_WATER. Default 600. */
  backlogWait?: number;
  /** `bulk` (default): chunk jobs of BULK_CHUNK_SIZE, scored after live work; `live`: one job per review. */
  lane?: 'live' | 'bulk';
  /** Bulk lane: after enqueueing, wait until every accepted review is stored (or failed), with progress and the rate. */
  wait?: boolean;
}

const DEFAULT_BACKLOG_WAIT_S = 600;

export interface ImportCommandIo {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  /** Logs and the progress bar (the bar only when it is a TTY). */
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborting stops the import after the chunk in flight. */
  signal?: AbortSignal;
}

const REDIS_WAIT_MS = 15_000;
const LOG_PROGRESS_EVERY_MS = 5_000;

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Logs go to stderr, so stdout carries only the summary (`--json` output stays parseable). */
function importLogger(config: Config, stderr: ImportCommandIo['stderr']): Logger {
  const usePretty = config.log.format === 'pretty' || (config.log.format === 'auto' && stderr.isTTY === true);
  const destination = usePretty
    ? pretty({
        destination: stderr,
        colorize: stderr.isTTY === true,
        translateTime: 'HH:MM:ss.l',
        ignore: 'pid,hostname',
        sync: true,
      })
    : stderr;
  return createLogger({ level: config.log.level, format: config.log.format, name: 'import', destination });
}

/** A progress bar on a TTY stderr; otherwise a log line every few seconds. */
function progressReporter(stderr: ImportCommandIo['stderr'], logger: Logger) {
  if (stderr.isTTY !== true) {
    let last = Date.now();
    return {
      update(p: ImportProgress) {
        if (Date.now() - last < LOG_PROGRESS_EVERY_MS) return;
        last = Date.now();
        const percent = p.totalBytes > 0 ? Math.round((100 * p.bytesRead) / p.totalBytes) : 100;
        logger.info({ ...p, percent }, 'import progress');
      },
      stop() {},
      wait() {}, // the import logs the wait itself
      bar: false,
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: stderr,
      format:
        ' {bar} {percentage}% | {read} / {size} | accepted {accepted} | rejected {rejected} | duplicates {duplicates} | ETA {eta_formatted}{note}',
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let note = '';
  const payload = (p: ImportProgress) => ({
    read: formatBytes(p.bytesRead),
    size: formatBytes(p.totalBytes),
    accepted: p.accepted,
    rejected: p.rejected,
    duplicates: p.duplicates,
    note,
  });
  let started = false;
  return {
    /** While the import waits for the backlog, the bar says so. */
    wait(w: BacklogWait) {
      note = w.resumed ? '' : ` | waiting: backlog ${w.backlog} >= ${w.highWater} (${Math.round(w.waitedMs / 1000)} s)`;
      if (started) bar.update({ note });
    },
    update(p: ImportProgress) {
      if (!started) {
        started = true;
        bar.start(Math.max(1, p.totalBytes), p.bytesRead, payload(p));
      } else bar.update(Math.min(p.bytesRead, Math.max(1, p.totalBytes)), payload(p));
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
    bar: true,
  };
}

/** The summary as people read it. Rejection reasons name fields; review text is never shown. */
export function formatImportSummary(summary: ImportSummary, aborted = false): string {
  const head = aborted ? 'import aborted, so far:' : 'imported';
  const seconds = (summary.durationMs / 1000).toFixed(1);
  const lines = [
    `${head} ${summary.file} (${summary.format}, ${formatBytes(summary.bytesRead)} of ${formatBytes(summary.totalBytes)}, ${summary.records} records, ${seconds} s)`,
    `  accepted    ${summary.accepted}`,
    `  duplicates  ${summary.duplicates}${summary.duplicateIds.length > 0 ? `  (ids: ${summary.duplicateIds.slice(0, 10).join(', ')}${summary.duplicates > 10 ? ', ...' : ''})` : ''}`,
    `  rejected    ${summary.rejected}`,
  ];
  if (summary.backlogWaitMs > 0)
    lines.push(
      `  waited      ${(summary.backlogWaitMs / 1000).toFixed(1)} s for the backlog to fall below BACKLOG_HIGH_WATER`,
    );
  if (summary.rejections.length > 0) {
    lines.push('rejected records:');
    for (const r of summary.rejections)
      lines.push(`  line ${r.line}${r.id === undefined ? '' : ` (id ${r.id})`}: ${r.reasons.join('; ')}`);
    const unlisted = summary.rejected - summary.rejections.length;
    if (unlisted > 0) lines.push(`  ... and ${unlisted} more not listed`);
  }
  return `${lines.join('\n')}\n`;
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => stream.write(text, () => resolve()));
}

/**
 * `import <file>`: validates and enqueues the reviews of a JSONL or CSV file, prints the summary
 * (`--json`: as JSON on stdout) and resolves with the exit code (IMPORT_EXIT).
 */
export async function runImportCommand(
  file: string,
  options: ImportCommandOptions,
  io: ImportCommandIo,
): Promise<number> {
  const usage = async (message: string) => {
    await write(io.stderr, `import: ${message}\n`);
    return IMPORT_EXIT.usage;
  };
  let format: ImportFormat;
  let config: Config;
  try {
    format = detectFormat(file, options.format);
    config = loadConfig(io.env);
  } catch (err) {
    return usage(isSfError(err) ? `${err.code}: ${err.message}` : String(err));
  }
  const logger = importLogger(config, io.stderr);
  if (!config.redis.url) {
    // No REDIS_URL: the Redis of the running `npm start`, which says where it is in STACK_FILE.
    const lookup = readStackFile(config.stackFile);
    if (lookup.state !== 'running') {
      return usage(
        `REDIS_URL must be set (${noStackReason(lookup)}): import enqueues reviews into the Redis the workers read (e.g. REDIS_URL=redis://localhost:6379), or start the stack with npm start first`,
      );
    }
    const { stack } = lookup;
    if (stack.redis.passwordRedacted) {
      return usage(
        `the running npm start stack at ${stack.ingestUrl} uses a Redis with a password (${stack.redis.url}), which ${lookup.file} does not keep: set REDIS_URL`,
      );
    }
    config = {
      ...config,
      redis: { ...config.redis, url: stack.redis.url, prefix: stack.redis.prefix, cluster: stack.redis.cluster },
      queues: {
        ...config.queues,
        reviews: stack.queues.reviews,
        ...(stack.queues.bulk ? { bulk: stack.queues.bulk } : {}),
      },
    };
    logger.info(
      { redis: stack.redis.url, prefix: stack.redis.prefix, queue: stack.queues.reviews, bulkQueue: stack.queues.bulk },
      usingStackMessage(lookup),
    );
  }
  const lane = options.lane ?? 'bulk';
  if (options.wait && lane !== 'bulk') return usage('--wait follows bulk chunks until stored: use it with --lane bulk');
  const progress = progressReporter(io.stderr, logger);
  const stack = createResourceStack(logger);
  let summary: ImportSummary | undefined;
  let waited: StoredWait | undefined;
  let failure: SfError | undefined;
  try {
    // A missing or unreadable file fails before connecting to Redis.
    await (await openReviewFile(file, { format })).close();
    const connection = stack.add(
      'redis',
      createRedisConnection(config.redis, 'producer', logger),
      closeRedisConnection,
    );
    await waitForRedis(connection, REDIS_WAIT_MS, { logger, url: config.redis.url! });
    const producer = stack.add('producer', createReviewProducer({ config, connection, logger }), (p) => p.close());
    const resultsQueue = options.wait
      ? stack.add('results-queue', createResultsQueue(connection, config, logger), (q) => q.close())
      : undefined;
    const followed = resultsQueue
      ? createBulkProgress({ redis: connection, bulkQueue: producer.bulkQueue, resultsQueue })
      : undefined;
    const startedAt = Date.now();
    summary = await importReviewFile({
      file,
      format,
      producer: {
        enqueueMany: (input) =>
          producer.enqueueMany(input, {
            lane,
            ...(followed ? { onChunk: (id: string, size: number) => followed.add(id, size) } : {}),
          }),
        backlog: (maxAgeMs) => producer.backlog(maxAgeMs, lane),
      },
      limits: config.reviews,
      // Bulk: several whole chunks per call, so that chunks are full.
      chunkSize: options.chunkSize ?? (lane === 'bulk' ? 8 * config.bulk.chunkSize : config.producer.chunkSize),
      // As HTTP answers 503 over the mark, import waits (bounded) instead of flooding Redis.
      backlog: {
        highWater: config.http.backlogHighWater,
        maxWaitMs: (options.backlogWait ?? DEFAULT_BACKLOG_WAIT_S) * 1000,
      },
      onBacklogWait: (w) => progress.wait(w),
      onProgress: (p) => progress.update(p),
      // Under the progress bar, info lines would tear it: the bar and the summary say the same.
      logger: progress.bar && logger.isLevelEnabled('info') ? logger.child({}, { level: 'warn' }) : logger,
      ...(io.signal ? { signal: io.signal } : {}),
    });
    if (followed) {
      progress.stop();
      waited = await waitUntilStored(followed, {
        startedAt,
        stderr: io.stderr,
        logger,
        ...(io.signal ? { signal: io.signal } : {}),
      });
    }
  } catch (err) {
    failure = toSfError(err, 'SF_ERR_IMPORT');
    summary = importSummaryOf(err);
  } finally {
    progress.stop();
    await stack.close();
  }

  // A malformed CSV names the line where it stops being readable.
  const failedLine = typeof failure?.details?.line === 'number' ? failure.details.line : undefined;
  if (options.json) {
    const error = failure
      ? { code: failure.code, message: failure.message, ...(failedLine === undefined ? {} : { line: failedLine }) }
      : undefined;
    await write(
      io.stdout,
      `${JSON.stringify({ ...summary, lane, ...(waited ? { wait: waited } : {}), ...(error ? { error } : {}) }, null, 2)}\n`,
    );
  } else if (summary) {
    await write(io.stdout, formatImportSummary(summary, failure !== undefined));
    if (waited)
      await write(
        io.stdout,
        `  stored      ${waited.stored} (failed ${waited.failed}) in ${(waited.durationMs / 1000).toFixed(1)} s from the first enqueue: ${Math.round(waited.ratePerS)} reviews/s end to end\n`,
      );
  }
  if (failure) {
    const scope = failedLine === undefined ? '' : ` (nothing from line ${failedLine} on was imported)`;
    await write(io.stderr, `import failed: ${failure.code}: ${failure.message}${scope}\n`);
    return IMPORT_EXIT.failed;
  }
  return (summary && summary.rejected > 0) || (waited && waited.failed > 0) ? IMPORT_EXIT.failed : IMPORT_EXIT.ok;
}

function waitSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 86_400)
    throw new InvalidArgumentError('must be a whole number of seconds from 0 to 86400');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new InvalidArgumentError('must be a whole number from 1 to 10000');
  return n;
}

/**
 * Adds the `<file>` argument, the options and the action to `command`, for both the standalone
 * entrypoint (producer/import.ts) and `sentiment-fleet import`. Usage errors exit 2.
 */
export function defineImportCommand(command: Command, env: Record<string, string | undefined>): Command {
  return command
    .description(
      'import reviews from a .jsonl/.ndjson or .csv file into the bulk lane (or --lane live) of the fleet (REDIS_URL, else the running npm start stack)',
    )
    .argument(
      '<file>',
      'the file to import (JSONL: one review object per line; CSV: a header row naming review fields)',
    )
    .addOption(new Option('--format <format>', 'file format (default: by extension)').choices(IMPORT_FORMATS))
    .addOption(
      new Option(
        '--lane <lane>',
        'bulk: chunk jobs of BULK_CHUNK_SIZE reviews, scored after live work (a backfill); live: one job per review',
      )
        .choices(['live', 'bulk'])
        .default('bulk'),
    )
    .option('--wait', 'bulk lane: then wait until every accepted review is stored (progress bar, final rate)')
    .option(
      '--chunk-size <n>',
      'valid reviews per enqueue call (default: ENQUEUE_CHUNK_SIZE; bulk: 8 × BULK_CHUNK_SIZE)',
      positiveInt,
    )
    .option(
      '--backlog-wait <seconds>',
      `longest wait for the queue's backlog to fall below BACKLOG_HIGH_WATER, then fail (0: fail at once; default ${DEFAULT_BACKLOG_WAIT_S})`,
      waitSeconds,
    )
    .option('--json', 'print the summary as JSON on stdout')
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : IMPORT_EXIT.usage))
    .action(async (file: string, opts: ImportCommandOptions) => {
      const controller = new AbortController();
      let interrupts = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        interrupts += 1;
        if (interrupts > 1) process.exit(130);
        process.stderr.write(`\nimport: ${signal}: stopping after the chunk in flight (again to quit at once)\n`);
        controller.abort(new Error(signal));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const code = await runImportCommand(file, opts, {
        env,
        stdout: process.stdout,
        stderr: process.stderr,
        signal: controller.signal,
      });
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.exitCode = code;
      // Everything is closed; don't let a stray handle keep the process alive.
      setTimeout(() => process.exit(code), 2_000).unref();
    });
}
