import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { nonNegativeInt, positiveInt, positiveNumber } from '../app/cli-options.ts';
import type { Config } from '../config/load-config.ts';
import type { Logger } from '../logging/logger.ts';
import { defaultChaosOptions, parseFaultCounts, type AppendFsync, type ChaosOptions } from './chaos-options.ts';
import { formatChaosSummary, writeChaosReport } from './chaos-report.ts';
import { runChaos } from './chaos-run.ts';

interface CliOptions {
  duration: number;
  rate: number;
  seed: number;
  workers: number;
  modes: string;
  faults?: string;
  pgAdminUrl: string;
  out: string;
  logDir?: string;
}

function modes(value: string): AppendFsync[] {
  const list = value.split(',').map((v) => v.trim());
  for (const m of list) if (m !== 'everysec' && m !== 'always') throw new InvalidArgumentError('each mode must be everysec or always');
  return list as AppendFsync[];
}

/** `npm run chaos`: options → one run per appendfsync mode → report file, summary, exit code. */
export function parseChaosArgs(argv: string[], config: Config, projectRoot: string): { options: ChaosOptions; outDir: string } {
  const program = new Command('chaos')
    .description('chaos run: sustained load through the fleet while faults are injected at seeded random times; then reconcile storage')
    .option('--duration <s>', 'seconds of load per mode', positiveInt, 60)
    .option('--rate <n>', 'reviews offered per second', positiveNumber, 150)
    .option('--seed <n>', 'seed of the fault schedule (and generated texts)', nonNegativeInt, 8)
    .option('--workers <n>', 'inference worker processes', positiveInt, 2)
    .option('--modes <list>', 'appendfsync policies to run: everysec,always', 'everysec,always')
    .option('--faults <spec>', 'fault counts per mode over the defaults, e.g. worker-kill=3,redis-pause=0')
    .option('--pg-admin-url <url>', 'PostgreSQL role that may CREATE DATABASE', 'postgres://postgres@127.0.0.1:5432/postgres')
    .option('--out <dir>', 'where the JSON report goes', path.join(projectRoot, 'chaos', 'results'))
    .option('--log-dir <dir>', "the fleet's logs (default: a temp dir)")
    .exitOverride();
  program.parse(argv, { from: 'user' });
  const o = program.opts<CliOptions>();
  const options = defaultChaosOptions({
    durationS: o.duration,
    rate: o.rate,
    seed: o.seed,
    workers: o.workers,
    modes: modes(o.modes),
    ...(o.faults ? { faults: parseFaultCounts(o.faults) } : {}),
    modelDir: path.resolve(projectRoot, config.model.dir),
    sharedDir: path.resolve(projectRoot, config.sharedDir),
    pgAdminUrl: o.pgAdminUrl,
    logDir: o.logDir,
  });
  return { options, outDir: o.out };
}

/** Runs the chaos run, writes the report, prints the summary; returns whether it was OK. */
export async function runChaosCommand(input: { argv: string[]; config: Config; logger: Logger; projectRoot: string; env: Record<string, string | undefined> }): Promise<boolean> {
  const { options, outDir } = parseChaosArgs(input.argv, input.config, input.projectRoot);
  const report = await runChaos({ options, projectRoot: input.projectRoot, logger: input.logger, baseEnv: input.env });
  const file = writeChaosReport(report, outDir);
  process.stdout.write(`${formatChaosSummary(report)}\nreport: ${path.relative(process.cwd(), file)}\n`);
  return report.ok;
}
