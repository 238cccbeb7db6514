import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { nonNegativeInt, positiveInt, positiveNumber } from '../src/app/cli-options.ts';
import type { Config } from '../src/config/load-config.ts';
import type { Logger } from '../src/logging/logger.ts';
import {
  DEFAULT_RATE,
  DEFAULT_REVIEWS,
  defaultChaosOptions,
  FAULT_KINDS,
  parseFaultCounts,
  type AppendFsync,
  type ChaosOptions,
  type FaultKind,
} from './chaos-options.ts';
import { formatChaosSummary, writeChaosReport } from './chaos-report.ts';
import { runChaos } from './chaos-run.ts';

/** 0: zero lost and duplicated in every mode (or --help); 1: a review lost or duplicated, or the run failed; 2: bad usage. */
export const CHAOS_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface ChaosCli {
  reviews?: number;
  duration?: number;
  rate: number;
  bulkShare?: number;
  seed: number;
  workers: number;
  modes: AppendFsync[];
  faults?: Record<FaultKind, number>;
  pgAdminUrl: string;
  out: string;
  logDir?: string;
}

/** --bulk-share: a number from 0 to 1. */
function shareOf(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

export type ChaosCliResult = { cli: ChaosCli } | { exitCode: number };

interface Output {
  write(text: string): unknown;
}

function modes(value: string): AppendFsync[] {
  const list = value.split(',').map((v) => v.trim());
  for (const m of list)
    if (m !== 'everysec' && m !== 'always') throw new InvalidArgumentError('each mode must be everysec or always');
  return list as AppendFsync[];
}

function faults(value: string): Record<FaultKind, number> {
  try {
    return parseFaultCounts(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/**
 * `npm run chaos` options. `--help` prints the usage on `stdout` (exit 0); a bad option prints one
 * line on `stderr` (exit 2). Neither prints a stack trace.
 */
export function parseChaosCli(
  argv: string[],
  projectRoot: string,
  io: { stdout: Output; stderr: Output },
): ChaosCliResult {
  const program = new Command('chaos')
    .usage('[options]   (npm run chaos -- [options])')
    .description(
      'chaos run: a sustained load through the fleet while faults are injected at seeded random times; then every acknowledged review is reconciled against storage',
    )
    .addOption(
      new Option('--reviews <n>', 'reviews offered per mode, each until acknowledged')
        .argParser(positiveInt)
        .default(DEFAULT_REVIEWS)
        .conflicts('duration'),
    )
    .option('--duration <s>', 'seconds of load per mode instead (reviews = rate × seconds)', positiveNumber)
    .option('--rate <n>', 'reviews offered per second', positiveNumber, DEFAULT_RATE)
    .option('--bulk-share <x>', 'share of the reviews sent in the bulk lane (chunk jobs), 0 to 1 (default 0)', shareOf)
    .option('--seed <n>', 'seed of the fault schedule (and generated texts)', nonNegativeInt, 8)
    .option('--workers <n>', 'inference worker processes', positiveInt, 2)
    .addOption(
      new Option('--modes <list>', 'appendfsync policies to run, one full run each')
        .argParser(modes)
        .default(['everysec', 'always'], 'everysec,always'),
    )
    .option(
      '--faults <spec>',
      `fault counts per mode over the defaults, e.g. worker-kill=3,redis-pause=0 (kinds: ${FAULT_KINDS.join(', ')})`,
      faults,
    )
    .option(
      '--pg-admin-url <url>',
      'PostgreSQL role that may CREATE DATABASE',
      'postgres://postgres@127.0.0.1:5432/postgres',
    )
    .option('--out <dir>', 'where the JSON report goes', path.join(projectRoot, 'chaos', 'results'))
    .option('--log-dir <dir>', "the fleet's logs (default: a temp dir)")
    .addHelpText(
      'after',
      `\nExit codes: ${CHAOS_EXIT.ok} zero lost and zero duplicated in every mode, ${CHAOS_EXIT.failed} a review lost or duplicated (or the run failed), ${CHAOS_EXIT.usage} bad usage.`,
    )
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      outputError: (text, write) =>
        write(`chaos: ${text.replace(/\s*\n\s*/g, ' ').trim()} (see npm run chaos -- --help)\n`),
    })
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return { exitCode: err.exitCode === 0 ? CHAOS_EXIT.ok : CHAOS_EXIT.usage };
    throw err;
  }
  return { cli: program.opts<ChaosCli>() };
}

/** The run's options: the CLI's over the defaults, paths from the config. */
export function chaosOptionsFrom(cli: ChaosCli, config: Config, projectRoot: string): ChaosOptions {
  return defaultChaosOptions({
    reviews: cli.duration === undefined ? cli.reviews : Math.max(1, Math.round(cli.duration * cli.rate)),
    rate: cli.rate,
    ...(cli.bulkShare !== undefined ? { bulkShare: cli.bulkShare } : {}),
    seed: cli.seed,
    workers: cli.workers,
    modes: cli.modes,
    ...(cli.faults ? { faults: cli.faults } : {}),
    modelDir: path.resolve(projectRoot, config.model.dir),
    sharedDir: path.resolve(projectRoot, config.sharedDir),
    pgAdminUrl: cli.pgAdminUrl,
    logDir: cli.logDir,
  });
}

/** Runs the chaos run, writes the report, prints the summary; returns whether it was OK. */
export async function runChaosCommand(input: {
  cli: ChaosCli;
  config: Config;
  logger: Logger;
  projectRoot: string;
  env: Record<string, string | undefined>;
}): Promise<boolean> {
  const options = chaosOptionsFrom(input.cli, input.config, input.projectRoot);
  const report = await runChaos({ options, projectRoot: input.projectRoot, logger: input.logger, baseEnv: input.env });
  const file = writeChaosReport(report, input.cli.out);
  process.stdout.write(`${formatChaosSummary(report)}\nreport: ${path.relative(process.cwd(), file)}\n`);
  return report.ok;
}
