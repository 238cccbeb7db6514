// npm run chaos [-- --reviews 50000 --rate 500 --seed 8 --modes everysec,always --faults worker-kill=3]
// Wiring only: the options (--help: usage, exit 0; a bad option: one line, exit 2), then config
// from the environment (MODEL_DIR, SHARED_DIR, LOG_*) and the chaos run from
// chaos/chaos-command.ts; exit 1 when a review was lost or duplicated.
import path from 'node:path';
import { CHAOS_EXIT, parseChaosCli, runChaosCommand } from './chaos-command.ts';
import { runCommand } from '../src/lifecycle/run-command.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const parsed = parseChaosCli(process.argv.slice(2), projectRoot, { stdout: process.stdout, stderr: process.stderr });

if ('exitCode' in parsed) process.exitCode = parsed.exitCode;
else {
  await runCommand('chaos', process.env, async (config, logger) => {
    const ok = await runChaosCommand({ cli: parsed.cli, config, logger, projectRoot, env: process.env });
    if (!ok) process.exitCode = CHAOS_EXIT.failed;
  });
}
