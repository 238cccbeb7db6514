// npm run chaos [-- --duration 60 --rate 150 --seed 8 --modes everysec,always --faults worker-kill=3]
// Wiring only: config from the environment (MODEL_DIR, SHARED_DIR, LOG_*), the chaos run from
// src/dev/chaos-command.ts; exit 1 when a review was lost or duplicated.
import path from 'node:path';
import { runChaosCommand } from '../src/dev/chaos-command.ts';
import { runCommand } from '../src/lifecycle/run-command.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');

await runCommand('chaos', process.env, async (config, logger) => {
  const ok = await runChaosCommand({ argv: process.argv.slice(2), config, logger, projectRoot, env: process.env });
  if (!ok) process.exitCode = 1;
});
