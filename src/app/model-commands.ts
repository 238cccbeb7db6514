import type { Command } from 'commander';
import { runCommand } from '../lifecycle/run-command.ts';
import { evaluateModel, formatEvalReport } from '../training/evaluate-model.ts';
import { quantizeModelDir } from '../training/quantize-dynamic.ts';
import { resolvePreset } from '../training/training-presets.ts';
import { trainModel } from '../training/train-model.ts';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, positiveNumbers } from './cli-options.ts';

// The model commands of the sentiment-fleet CLI: train, eval, quantize.

interface TrainCliOptions {
  preset?: string; data?: string[]; weight?: number[]; dev?: string[]; out?: string; textField: string; labelField: string; titleField: string;
  epochs?: number; seed?: number; lr?: number; buckets?: number; ngrams?: number; l2?: number; dropout?: number; normalization?: 'mean' | 'sqrt'; tokenizer?: string;
}

export function defineTrainCommand(command: Command, env: Record<string, string | undefined>, argv: string[]): Command {
  return command
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
    await runCommand('train', env, async (config, logger) => {
      const result = await trainModel(
        {
          preset: opts.preset, data: opts.data, weights: opts.weight, dev: opts.dev, out: opts.out, tokenizerDir: opts.tokenizer,
          fields: { textField: opts.textField, labelField: opts.labelField, titleField: opts.titleField },
          hyperparameters: {
            epochs: opts.epochs, seed: opts.seed, learningRate: opts.lr, buckets: opts.buckets, maxOrder: opts.ngrams,
            l2: opts.l2, featureDropout: opts.dropout, normalization: opts.normalization,
          },
          command: env.npm_lifecycle_event === 'model:train' ? 'npm run model:train' : ['sentiment-fleet', ...argv].join(' '),
        },
        { config, logger, progress: process.stderr },
      );
      if (result.dev) process.stdout.write(`${formatEvalReport(result.dev)}\n`);
      process.stdout.write(`wrote ${result.dir} (version ${result.version}, ${result.totalBytes.toLocaleString('en-US')} bytes, trained in ${result.trainingSeconds.toFixed(1)} s)\n`);
    });
  });
}

export function defineEvalCommand(command: Command, env: Record<string, string | undefined>): Command {
  return command
  .description('score labeled files with a model directory through the workers\' scoring path; accuracy, macro-F1, per-class metrics, confusion matrices')
  .option('--model <dir>', 'model directory (default: MODEL_DIR)')
  .option('--data <files...>', 'labeled files (.jsonl, .json, .csv, .tsv)')
  .option('--preset <name>', '"default": the 5 dev files of the default model under SHARED_DIR')
  .option('--text-field <name>', 'field holding the text', 'text')
  .option('--label-field <name>', 'field holding the label', 'label')
  .option('--title-field <name>', 'field holding an optional title, joined before the text', 'title')
  .option('--json', 'print the report as JSON')
  .action(async (opts: { model?: string; data?: string[]; preset?: string; textField: string; labelField: string; titleField: string; json?: boolean }) => {
    await runCommand('eval', env, async (config, logger) => {
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
}

export function defineQuantizeCommand(command: Command, env: Record<string, string | undefined>): Command {
  return command
    .description("dynamic int8 quantization of a model directory's MatMul weights (as onnxruntime's quantize_dynamic)")
    .requiredOption('--model <dir>', 'input model directory')
    .requiredOption('--out <dir>', 'output model directory')
    .option('--per-tensor', 'one weight scale per tensor instead of per column')
    .option('--full-range', 'weights in 8 bits (±127) instead of 7 (±63): exact on CPUs with VNNI, but x86 CPUs without it (AVX2) overflow 16-bit sums')
    .action(async (o: { model: string; out: string; perTensor?: boolean; fullRange?: boolean }) => {
      await runCommand('quantize', env, async () => {
        const r = await quantizeModelDir(o.model, o.out, { perColumn: !o.perTensor, reduceRange: !o.fullRange });
        process.stdout.write(`${r.rewrittenMatMuls} MatMuls → int8; ${(r.bytesIn / 1e6).toFixed(0)} MB → ${(r.bytesOut / 1e6).toFixed(0)} MB: ${r.modelPath}\n`);
      });
    });
}
