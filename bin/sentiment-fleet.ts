#!/usr/bin/env -S node --import tsx
// The sentiment-fleet command line: each command is defined by a factory in src/app/; this file
// only wires them to the process.
import { Command } from 'commander';
import { defineHashApiKeyCommand, defineNewApiKeyCommand } from '../src/app/api-key-commands.ts';
import { positiveInt } from '../src/app/cli-options.ts';
import { defineExportCommand } from '../src/app/export-command.ts';
import { defineImportCommand } from '../src/app/import-command.ts';
import { startLocalStack } from '../src/app/local-stack.ts';
import { defineEvalCommand, defineQuantizeCommand, defineTrainCommand } from '../src/app/model-commands.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { runEntrypoint } from '../src/lifecycle/run-entrypoint.ts';

const program = new Command('sentiment-fleet').description(
  'Review sentiment at scale: BullMQ queues, batching ONNX workers.',
);

program
  .command('start')
  .description(
    'run Redis (unless REDIS_URL is set), inference workers, the result sink, the ingest API and the stats service, with a summary line every few seconds',
  )
  .option('-w, --workers <n>', 'inference worker processes', positiveInt, 1)
  .action(async (opts: { workers: number }) => {
    await runEntrypoint('start', loadConfig, async (config, logger) => {
      const stack = await startLocalStack({ config, logger, workers: opts.workers, env: process.env });
      return stack.close;
    });
  });

defineImportCommand(program.command('import'), process.env);
defineExportCommand(program.command('export'), process.env);
defineTrainCommand(program.command('train'), process.env, process.argv.slice(2));
defineEvalCommand(program.command('eval'), process.env);
defineQuantizeCommand(program.command('quantize'), process.env);
defineNewApiKeyCommand(program.command('new-api-key'));
defineHashApiKeyCommand(program.command('hash-api-key'));

await program.parseAsync();
