#!/usr/bin/env -S node --import tsx
// The sentiment-fleet command line. Each command parses config, builds a logger and calls a
// factory from src/; nothing else happens here.
import { Command, InvalidArgumentError } from 'commander';
import pretty from 'pino-pretty';
import { defineImportCommand } from '../src/app/import-command.ts';
import { startLocalStack } from '../src/app/local-stack.ts';
import { loadConfig, type Config } from '../src/config/load-config.ts';
import { isSfError } from '../src/errors/sf-error.ts';
import { runEntrypoint } from '../src/lifecycle/run-entrypoint.ts';
import { createLogger, type Logger } from '../src/logging/logger.ts';
import { evaluateModel, formatEvalReport } from '../src/training/evaluate-model.ts';
import { resolvePreset } from '../src/training/training-presets.ts';
import { trainModel } from '../src/training/train-model.ts';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number ≥ 0');
  return n;
}

function positiveNumbers(value: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), positiveNumber(value)];
}

/**
 * One-shot commands (train, eval): config from the environment (exit 2 when invalid), logs on
 * stderr (pretty on a terminal) so stdout carries only the result; exit 2 on bad options, 1 on other failures.
 */
async function runOnce(name: string, body: (config: Config, logger: Logger) => Promise<void>): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    process.stderr.write(`${name}: ${isSfError(err) ? `${err.code}: ${err.message}` : String(err)}\n`);
    process.exit(2);
  }
  const tty = process.stderr.isTTY === true;
  const destination =
    config.log.format === 'pretty' || (config.log.format === 'auto' && tty)
      ? pretty({ destination: process.stderr, colorize: tty, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true })
      : process.stderr;
  const logger = createLogger({ level: config.log.level, format: config.log.format, name, destination });
  try {
    await body(config, logger);
  } catch (err) {
    process.stderr.write(`${name}: ${isSfError(err) ? `${err.code}: ${err.message}` : (err as Error).stack ?? String(err)}\n`);
    process.exitCode = isSfError(err, 'SF_ERR_CONFIG') ? 2 : 1;
  }
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

interface TrainCliOptions {
  preset?: string; data?: string[]; weight?: number[]; dev?: string[]; out?: string; textField: string; labelField: string; titleField: string;
  epochs?: number; seed?: number; lr?: number; buckets?: number; ngrams?: number; l2?: number; dropout?: number; normalization?: 'mean' | 'sqrt'; tokenizer?: string;
}

program
  .command('train')
  .description('train a hashed n-gram linear sentiment model and write a model directory (model.onnx, tokenizer, config, MODEL_CARD.md)')
  .option('--preset <name>', 'named setup: "default" = SST-2 + Amazon multi-domain train files under SHARED_DIR → models/review-sentiment-en')
  .option('--data <files...>', 'labeled training files (.jsonl, .json, .csv, .tsv)')
  .option('--weight <n>', 'loss weight of each --data file, repeated in --data order (default 1 each)', positiveNumbers)
  .option('--dev <files...>', 'labeled dev files, scored for the model card')
  .option('--out <dir>', 'model directory to write')
  .option('--text-field <name>', 'field holding the text', 'text')
  .option('--label-field <name>', 'field holding the label', 'label')
  .option('--title-field <name>', 'field holding an optional title, joined before the text', 'title')
  .option('--epochs <n>', 'passes over the data', positiveInt)
  .option('--seed <n>', 'seed of the example order (and dropout)', nonNegativeInt)
  .option('--lr <x>', 'initial learning rate (decays linearly to 0)', positiveNumber)
  .option('--buckets <n>', 'hash buckets for bigrams (and trigrams)', positiveInt)
  .option('--ngrams <n>', 'highest n-gram order, 1..3', positiveInt)
  .option('--l2 <x>', 'L2 penalty', nonNegativeNumber)
  .option('--dropout <x>', 'feature dropout probability', nonNegativeNumber)
  .option('--normalization <mode>', 'divide summed weights by the feature count (mean) or its square root (sqrt)')
  .option('--tokenizer <dir>', 'use tokenizer.json/tokenizer_config.json from this directory (default: built-in bert-base-uncased WordPiece)')
  .action(async (opts: TrainCliOptions) => {
    await runOnce('train', async (config, logger) => {
      const result = await trainModel(
        {
          preset: opts.preset, data: opts.data, weights: opts.weight, dev: opts.dev, out: opts.out, tokenizerDir: opts.tokenizer,
          fields: { textField: opts.textField, labelField: opts.labelField, titleField: opts.titleField },
          hyperparameters: {
            epochs: opts.epochs, seed: opts.seed, learningRate: opts.lr, buckets: opts.buckets, maxOrder: opts.ngrams,
            l2: opts.l2, featureDropout: opts.dropout, normalization: opts.normalization,
          },
          command: process.env.npm_lifecycle_event === 'model:train' ? 'npm run model:train' : ['sentiment-fleet', ...process.argv.slice(2)].join(' '),
        },
        { config, logger, progress: process.stderr },
      );
      if (result.dev) process.stdout.write(`${formatEvalReport(result.dev)}\n`);
      process.stdout.write(`wrote ${result.dir} (version ${result.version}, ${result.totalBytes.toLocaleString('en-US')} bytes, trained in ${result.trainingSeconds.toFixed(1)} s)\n`);
    });
  });

program
  .command('eval')
  .description('score labeled files with a model directory through the workers\' scoring path; accuracy, macro-F1, per-class metrics, confusion matrices')
  .option('--model <dir>', 'model directory (default: MODEL_DIR)')
  .option('--data <files...>', 'labeled files (.jsonl, .json, .csv, .tsv)')
  .option('--preset <name>', '"default": the 5 dev files of the default model under SHARED_DIR')
  .option('--text-field <name>', 'field holding the text', 'text')
  .option('--label-field <name>', 'field holding the label', 'label')
  .option('--title-field <name>', 'field holding an optional title, joined before the text', 'title')
  .option('--json', 'print the report as JSON')
  .action(async (opts: { model?: string; data?: string[]; preset?: string; textField: string; labelField: string; titleField: string; json?: boolean }) => {
    await runOnce('eval', async (config, logger) => {
      const preset = opts.preset === undefined ? undefined : resolvePreset(opts.preset, config.sharedDir);
      const report = await evaluateModel({
        modelDir: opts.model ?? preset?.out ?? config.model.dir,
        data: opts.data ?? preset?.dev ?? [],
        fields: { textField: opts.textField, labelField: opts.labelField, titleField: opts.titleField },
        truncation: config.model.truncation,
        intraOpThreads: config.inference.intraOpThreads,
        groups: config.batching,
        logger,
      });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatEvalReport(report)}\n`);
    });
  });

await program.parseAsync();
