#!/usr/bin/env -S node --import tsx
// The sentiment-fleet command line. Each command parses config, builds a logger and calls a
// factory from src/; nothing else happens here.
import { Command, InvalidArgumentError } from 'commander';
import { defineImportCommand } from '../src/app/import-command.ts';
import { startLocalStack } from '../src/app/local-stack.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { runEntrypoint } from '../src/lifecycle/run-entrypoint.ts';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
}

const program = new Command('sentiment-fleet').description('Review sentiment at scale: BullMQ queues, batching ONNX workers.');

program
  .command('start')
  .description('run Redis (unless REDIS_URL is set), inference workers, the ingest API and a results printer')
  .option('-w, --workers <n>', 'inference worker processes', positiveInt, 1)
  .action(async (opts: { workers: number }) => {
    await runEntrypoint('start', loadConfig, async (config, logger) => {
      const stack = await startLocalStack({ config, logger, workers: opts.workers, env: process.env });
      return stack.close;
    });
  });

defineImportCommand(program.command('import'), process.env);

await program.parseAsync();
