import { createWriteStream, existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import pretty from 'pino-pretty';
import { settings } from '../config/config-schema.ts';
import { loadConfig, type Config } from '../config/load-config.ts';
import { isSfError, SfError, toSfError } from '../errors/sf-error.ts';
import { createResourceStack } from '../lifecycle/resource-stack.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import {
  countResults,
  EXPORT_FORMATS,
  exportResults,
  type ExportFilter,
  type ExportFormat,
} from '../storage/result-export.ts';
import type { TimeWindow } from '../storage/result-queries.ts';
import { openDatabase, type SqlClient } from '../storage/sql-client.ts';
import { positiveInt } from './cli-options.ts';
import { readStackFile, usingStackMessage } from './stack-file.ts';

const DEFAULT_SINK_DATA_DIR = settings.SINK_DATA_DIR.schema.parse(undefined);

/** 0: exported; 1: the export failed (database, output); 2: bad usage or config. */
export const EXPORT_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface ExportCommandOptions {
  format?: ExportFormat;
  /** A file path; unset or `-`: stdout. */
  out?: string;
  /** Only results processed in the last 15m, 6h, 7d, ... */
  window?: string;
  product?: string;
  batchSize?: number;
}

export interface ExportCommandIo {
  env: Record<string, string | undefined>;
  /** The export, when no --out file is given. */
  stdout: NodeJS.WritableStream;
  /** Logs, the progress bar (only when it is a TTY) and the summary line. */
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborting stops the export after the page in flight. */
  signal?: AbortSignal;
  /** The end of --window (tests pin it). */
  now?: () => Date;
}

const DURATION = /^(\d+)(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `15m`, `6h`, `7d` (as the read routes' `window`) → milliseconds. */
export function parseDuration(value: string): number {
  const match = DURATION.exec(value.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : 0;
  if (!(ms > 0)) throw new InvalidArgumentError('must look like 15m, 6h or 7d');
  return ms;
}

function exportLogger(config: Config, stderr: ExportCommandIo['stderr']): Logger {
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
  // Info lines would only repeat the summary: warnings and errors only, unless asked for more.
  const level = config.log.level === 'info' ? 'warn' : config.log.level;
  return createLogger({ level, format: config.log.format, name: 'export', destination });
}

/**
 * The database to export from: DATABASE_URL, else the PGlite directory, which must exist and
 * must not be open in another process (PGlite has no locking: two processes would corrupt it).
 */
async function openForExport(config: Config, logger: Logger): Promise<SqlClient> {
  if (!config.sink.databaseUrl) {
    const dir = path.resolve(config.sink.dataDir);
    if (!existsSync(path.join(dir, 'PG_VERSION'))) {
      throw new SfError(
        'SF_ERR_STORAGE',
        `no PGlite database in ${dir} (SINK_DATA_DIR); set SINK_DATA_DIR, or DATABASE_URL for PostgreSQL`,
      );
    }
    if (existsSync(path.join(dir, 'postmaster.pid'))) {
      throw new SfError(
        'SF_ERR_STORAGE',
        `the PGlite database in ${dir} is open in another process (postmaster.pid exists): stop \`npm start\` or the sink first, ` +
          'or export from PostgreSQL with DATABASE_URL. If no process uses it (a crash left the file), delete postmaster.pid.',
      );
    }
  }
  const db = await openDatabase({ url: config.sink.databaseUrl, dataDir: config.sink.dataDir, logger });
  try {
    const { rows } = await db.query<{ t: string | null }>("SELECT to_regclass('sentiment_results')::text AS t");
    if (!rows[0]?.t)
      throw new SfError(
        'SF_ERR_STORAGE',
        `no results table in ${db.location}: the sink has not run against this database`,
      );
    return db;
  } catch (err) {
    await db.close();
    throw toSfError(err, 'SF_ERR_STORAGE', `cannot read ${db.location}: ${(err as Error).message}`);
  }
}

function progressBar(stderr: ExportCommandIo['stderr'], total: number) {
  if (stderr.isTTY !== true || total === 0) return { update: (_n: number) => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: stderr,
      format: ' {bar} {percentage}% | {value} / {total} results | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (n: number) => bar.update(Math.min(n, total)), stop: () => bar.stop() };
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => stream.write(text, () => resolve()));
}

/**
 * `export`: streams stored results to a file (written as `<file>.partial`, renamed when complete)
 * or stdout; a summary line on stderr. Resolves with the exit code (EXPORT_EXIT).
 */
export async function runExportCommand(options: ExportCommandOptions, io: ExportCommandIo): Promise<number> {
  const usage = async (message: string) => {
    await write(io.stderr, `export: ${message}\n`);
    return EXPORT_EXIT.usage;
  };
  let config: Config;
  const filter: ExportFilter = {};
  try {
    config = loadConfig(io.env);
    if (options.window !== undefined) {
      const to = io.now?.() ?? new Date();
      const window: TimeWindow = { from: new Date(to.getTime() - parseDuration(options.window)), to };
      filter.window = window;
    }
  } catch (err) {
    return usage(isSfError(err) ? `${err.code}: ${err.message}` : `--window: ${(err as Error).message}`);
  }
  if (options.format !== undefined && !EXPORT_FORMATS.includes(options.format))
    return usage(`--format must be one of ${EXPORT_FORMATS.join(', ')}`);
  if (options.product !== undefined) filter.productId = options.product;
  const toFile = options.out !== undefined && options.out !== '-';
  const format: ExportFormat =
    options.format ?? (toFile && options.out!.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl');
  if (!config.sink.databaseUrl) {
    // No DATABASE_URL: the database of the running `npm start`, which says where it is in STACK_FILE.
    const lookup = readStackFile(config.stackFile);
    const db = lookup.state === 'running' ? lookup.stack.database : undefined;
    if (lookup.state === 'running' && db?.kind === 'postgres') {
      if (db.passwordRedacted)
        return usage(
          `the running npm start stack at ${lookup.stack.ingestUrl} stores results in ${db.url}, whose password ${lookup.file} does not keep: set DATABASE_URL`,
        );
      config = { ...config, sink: { ...config.sink, databaseUrl: db.url } };
      await write(io.stderr, `export: ${usingStackMessage(lookup)}: ${db.url}\n`);
    } else if (
      lookup.state === 'running' &&
      db?.kind === 'pglite' &&
      (db.dir === path.resolve(config.sink.dataDir) || config.sink.dataDir === DEFAULT_SINK_DATA_DIR)
    ) {
      await write(
        io.stderr,
        `export failed: the running npm start stack at ${lookup.stack.ingestUrl} (pid ${lookup.stack.pid}) has its embedded PGlite database ${db.dir} open, ` +
          'and one process at a time may open it: stop npm start (Ctrl-C) and export again, or run npm start with DATABASE_URL\n',
      );
      return EXPORT_EXIT.failed;
    }
  }
  const logger = exportLogger(config, io.stderr);
  const stack = createResourceStack(logger);
  const started = Date.now();
  const partial = toFile ? `${options.out}.partial` : undefined;
  let exported = 0;
  let bar: ReturnType<typeof progressBar> | undefined;
  let file: ReturnType<typeof createWriteStream> | undefined;
  try {
    const db = stack.add('database', await openForExport(config, logger), (d) => d.close());
    const total = await countResults(db, filter);
    let out = io.stdout;
    if (partial) {
      file = createWriteStream(partial);
      file.on('error', () => undefined); // reported by the 'open' and 'finish' waits and by exportResults
      await once(file, 'open');
      out = file;
    }
    bar = progressBar(io.stderr, total);
    exported = await exportResults({
      db,
      format,
      out,
      ...filter,
      batchSize: options.batchSize,
      onProgress: (n) => {
        exported = n;
        bar!.update(n);
      },
      signal: io.signal,
    });
    bar.stop();
    if (partial) {
      out.end();
      await once(out, 'finish');
      await rename(partial, options.out!);
    }
  } catch (err) {
    bar?.stop();
    file?.destroy();
    if (partial) await rm(partial, { force: true });
    await stack.close();
    const reason = isSfError(err) ? `${err.code}: ${err.message}` : (err as Error).message;
    const where = toFile ? ` (nothing written to ${options.out})` : '';
    await write(io.stderr, `export failed after ${exported} results${where}: ${reason}\n`);
    return EXPORT_EXIT.failed;
  }
  await stack.close();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const scope = [
    filter.productId === undefined ? '' : `product ${filter.productId}`,
    options.window ? `last ${options.window}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  await write(
    io.stderr,
    `exported ${exported} results (${format}${scope ? `; ${scope}` : ''}) to ${toFile ? options.out : 'stdout'} in ${seconds} s\n`,
  );
  return EXPORT_EXIT.ok;
}

/** Adds the options and the action of `sentiment-fleet export` to `command`. Usage errors exit 2. */
export function defineExportCommand(command: Command, env: Record<string, string | undefined>): Command {
  return command
    .description(
      "export stored results as JSONL or CSV, oldest first, from DATABASE_URL, else the running npm start stack's PostgreSQL, else the PGlite database in SINK_DATA_DIR",
    )
    .addOption(
      new Option('--format <format>', 'output format (default: csv when --out ends in .csv, else jsonl)').choices(
        EXPORT_FORMATS,
      ),
    )
    .option('--out <file>', 'write to this file (default: stdout)')
    .option(
      '--window <duration>',
      'only results processed in the last 15m, 6h, 7d, ... (default: all)',
      (v: string) => (parseDuration(v), v),
    )
    .option('--product <id>', 'only results of this product')
    .option('--batch-size <n>', 'rows per database query (default: 1000)', positiveInt)
    .addHelpText(
      'after',
      [
        '',
        'JSONL: one stored result per line (as GET /v1/results). CSV: one column per table column; scores and explanation as JSON.',
        'PGlite: its data directory must not be open in another process. Stop `npm start` (or the sink) first,',
        'or export from PostgreSQL with DATABASE_URL, which is safe while the sink runs.',
        'Exit codes: 0 exported, 1 failed, 2 bad usage or configuration.',
      ].join('\n'),
    )
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXPORT_EXIT.usage))
    .action(async (opts: ExportCommandOptions) => {
      const controller = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        if (controller.signal.aborted) process.exit(130);
        controller.abort(new Error(`interrupted (${signal})`));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const code = await runExportCommand(opts, {
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
