import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { runCommand } from '../lifecycle/run-command.ts';
import {
  evaluateModel,
  formatEvalReport,
  GROUP_BY,
  type EvalReport,
  type GroupBy,
} from '../training/evaluate-model.ts';
import { compareModels, formatComparison } from '../training/model-comparison.ts';
import { readLabeledData, type LabelFrom, type LabeledDataset } from '../training/labeled-data-reader.ts';
import { reliabilityDiagramSvg } from '../training/reliability-diagram.ts';
import { loadDevSets } from '../training/source-data.ts';
import { quantizeModelDir } from '../training/quantize-dynamic.ts';
import { resolvePreset } from '../training/training-presets.ts';
import { trainModel } from '../training/train-model.ts';
import {
  formatLanguageIdEval,
  LANGUAGE_ID_DEFAULTS,
  LANGUAGE_ID_PRESET,
  trainLanguageId,
} from '../training/language-id-training.ts';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, positiveNumbers } from './cli-options.ts';

// The model commands of the sentiment-fleet CLI: train, eval, quantize.

interface TrainCliOptions {
  preset?: string;
  data?: string[];
  weight?: number[];
  dev?: string[];
  out?: string;
  textField: string;
  labelField: string;
  titleField: string;
  epochs?: number;
  seed?: number;
  lr?: number;
  buckets?: number;
  ngrams?: number;
  l2?: number;
  dropout?: number;
  normalization?: 'mean' | 'sqrt';
  tokenizer?: string;
  nbPower?: number;
  averageFrom?: number;
  sourceWeightPower?: number;
  cv?: boolean;
  cvFolds?: number;
  labelFrom?: LabelFrom;
  boundaryTokens?: boolean;
  negationWindow?: number;
}

export function defineTrainCommand(command: Command, env: Record<string, string | undefined>, argv: string[]): Command {
  return command
    .description(
      'train a hashed n-gram linear sentiment model and write a model directory (model.onnx, tokenizer, config, MODEL_CARD.md)',
    )
    .option(
      '--preset <name>',
      'named setup: "default" = the English sources under SHARED_DIR/data (SST-2, Amazon, MARC-en, ...) → models/review-sentiment-en; "stars" = 1-5 stars from the rated ones → models/review-stars-en; "de", "fr", "es" = that language\'s MARC file → models/review-sentiment-<lang>; "lang-id" = the language-ID model → models/lang-id (only --out and --seed apply)',
    )
    .option('--data <files...>', 'labeled training files (.jsonl, .json, .csv, .tsv)')
    .option(
      '--weight <n>',
      'loss weight of each --data file, repeated in --data order (default 1 each)',
      positiveNumbers,
    )
    .option('--dev <files...>', 'labeled dev files, scored for the model card')
    .option('--out <dir>', 'model directory to write')
    .option('--text-field <name>', 'field holding the text', 'text')
    .option('--label-field <name>', 'field holding the label', 'label')
    .option('--title-field <name>', 'field holding an optional title, joined before the text', 'title')
    .option(
      '--label-from <source>',
      'label: the label field; rating: 1-2 stars negative, 4-5 positive, 3 left out; stars: the 1-5 star rating itself',
      labelFromOption,
    )
    .option('--epochs <n>', 'passes over the data', positiveInt)
    .option('--seed <n>', 'seed of the example order (and dropout)', nonNegativeInt)
    .option('--lr <x>', 'initial learning rate (decays linearly to 0)', positiveNumber)
    .option('--buckets <n>', 'hash buckets for bigrams (and trigrams)', positiveInt)
    .option('--ngrams <n>', 'highest n-gram order, 1..3', positiveInt)
    .option('--l2 <x>', 'L2 penalty', nonNegativeNumber)
    .option('--dropout <x>', 'feature dropout probability', nonNegativeNumber)
    .option('--normalization <mode>', 'divide summed weights by the feature count (mean) or its square root (sqrt)')
    .option('--nb-power <x>', 'naive Bayes feature scaling exponent (0 = off)', nonNegativeNumber)
    .option(
      '--average-from <n>',
      'average the weights of the epochs from this one on (0 = last epoch only)',
      nonNegativeInt,
    )
    .option(
      '--source-weight-power <x>',
      "a source's (--data file's) total loss weight grows as rows^x (0..1)",
      nonNegativeNumber,
    )
    .option(
      '--cv',
      'leave-one-source-out cross-validation (each --data file a source): model card table and a fitted calibration temperature',
    )
    .option('--no-cv', 'skip the cross-validation of a preset (no calibration temperature)')
    .option(
      '--cv-folds <k>',
      'cross-validate by k row folds (id hash) instead of by source (one-source data)',
      positiveInt,
    )
    .option('--boundary-tokens', "the tokenizer's [CLS]/[SEP] are features too (edge bigrams, a length-dependent bias)")
    .option('--no-boundary-tokens', 'leave [CLS]/[SEP] out of the features')
    .option(
      '--negation-window <n>',
      "negation scope features: tokens within n after not/never/n't... (English cues; 0 = off)",
      nonNegativeInt,
    )
    .option(
      '--tokenizer <dir>',
      'use tokenizer.json/tokenizer_config.json from this directory (default: built-in bert-base-uncased WordPiece)',
    )
    .action(async (opts: TrainCliOptions) => {
      await runCommand('train', env, async (config, logger) => {
        const command = env.npm_lifecycle_event?.startsWith('model:train')
          ? `npm run ${env.npm_lifecycle_event}`
          : ['sentiment-fleet', ...argv].join(' ');
        if (opts.preset === LANGUAGE_ID_PRESET) {
          const r = await trainLanguageId({
            ...LANGUAGE_ID_DEFAULTS,
            sharedDir: config.sharedDir,
            out: opts.out ?? LANGUAGE_ID_DEFAULTS.out,
            seed: opts.seed ?? LANGUAGE_ID_DEFAULTS.seed,
            command,
          });
          process.stdout.write(
            `${formatLanguageIdEval(r.evaluation)}\nwrote ${r.dir} (version ${r.version}, weights ${r.weightBytes.toLocaleString('en-US')} bytes, trained in ${r.trainingSeconds.toFixed(1)} s)\n`,
          );
          return;
        }
        const result = await trainModel(
          {
            preset: opts.preset,
            data: opts.data,
            weights: opts.weight,
            dev: opts.dev,
            out: opts.out,
            tokenizerDir: opts.tokenizer,
            sourceWeightPower: opts.sourceWeightPower,
            crossValidate: opts.cv,
            cvFolds: opts.cvFolds,
            labelFrom: opts.labelFrom,
            fields: { textField: opts.textField, labelField: opts.labelField, titleField: opts.titleField },
            hyperparameters: {
              epochs: opts.epochs,
              seed: opts.seed,
              learningRate: opts.lr,
              buckets: opts.buckets,
              maxOrder: opts.ngrams,
              l2: opts.l2,
              featureDropout: opts.dropout,
              normalization: opts.normalization,
              nbPower: opts.nbPower,
              averageFromEpoch: opts.averageFrom,
              boundaryTokens: opts.boundaryTokens,
              negationWindow: opts.negationWindow,
            },
            command,
          },
          { config, logger, progress: process.stderr },
        );
        if (result.cv) {
          process.stdout.write(
            `cross-validation, held-out accuracy (mean ${result.cv.meanAccuracy.toFixed(4)}), calibration temperature ${result.cv.temperature.toFixed(4)}:\n`,
          );
          for (const s of result.cv.sources)
            process.stdout.write(
              `  ${s.name.padEnd(28)} ${s.accuracy.toFixed(4)}  ECE ${s.eceBefore.toFixed(4)} → ${s.eceAfter.toFixed(4)}\n`,
            );
        }
        if (result.dev) process.stdout.write(`${formatEvalReport(result.dev)}\n`);
        process.stdout.write(
          `wrote ${result.dir} (version ${result.version}, ${result.totalBytes.toLocaleString('en-US')} bytes, trained in ${result.trainingSeconds.toFixed(1)} s)\n`,
        );
      });
    });
}

export function defineEvalCommand(command: Command, env: Record<string, string | undefined>): Command {
  return command
    .description(
      "score labeled files with a model directory through the workers' scoring path; accuracy, macro-F1, per-class metrics, confusion matrices",
    )
    .option('--model <dir>', 'model directory (default: MODEL_DIR)')
    .option('--data <files...>', 'labeled files (.jsonl, .json, .csv, .tsv)')
    .option(
      '--preset <name>',
      '"default" or "stars": that model and its dev sets under SHARED_DIR (dev files, and a tenth of each source without any)',
    )
    .option('--text-field <name>', 'field holding the text', 'text')
    .option('--label-field <name>', 'field holding the label', 'label')
    .option('--title-field <name>', 'field holding an optional title, joined before the text', 'title')
    .option(
      '--label-from <source>',
      'label: the label field; rating: 1-2 stars negative, 4-5 positive, 3 left out; stars: the 1-5 star rating itself',
      labelFromOption,
    )
    .option('--reliability <file.svg>', 'write a reliability diagram of the pooled rows (calibration) to this SVG file')
    .option(
      '--group-by <key>',
      `also split all rows by ${GROUP_BY.join(' | ')} (source: the rows' "source" field, else their file)`,
      groupByOption,
    )
    .option(
      '--compare <dir>',
      'score the same rows with a second model directory: accuracy difference and McNemar test',
    )
    .option('--json', 'print the report as JSON')
    .action(async (opts: EvalCliOptions) => {
      await runCommand('eval', env, async (config, logger) => {
        const preset = opts.preset === undefined ? undefined : resolvePreset(opts.preset, config.sharedDir);
        const fields = { textField: opts.textField, labelField: opts.labelField, titleField: opts.titleField };
        const data: LabeledDataset[] = [];
        for (const file of opts.data ?? [])
          data.push(await readLabeledData(file, fields, { labelFrom: opts.labelFrom }));
        if (!opts.data && preset) data.push(...(await loadDevSets(preset.sources, fields)));
        const evaluate = (modelDir: string) =>
          evaluateModel({
            modelDir,
            data,
            fields,
            truncation: config.model.truncation,
            intraOpThreads: config.inference.intraOpThreads,
            groups: config.batching,
            groupBy: opts.groupBy,
            keepPredictions: opts.compare !== undefined,
            logger,
          });
        const report = await evaluate(opts.model ?? preset?.out ?? config.model.dir);
        if (opts.reliability) {
          await writeFile(
            opts.reliability,
            reliabilityDiagramSvg(`${report.model.name} (${report.model.version}): reliability, all rows pooled`, [
              { name: 'scores', report: report.overall.calibration },
            ]),
          );
        }
        if (opts.compare) {
          const comparison = compareModels(report, await evaluate(opts.compare));
          process.stdout.write(
            opts.json
              ? `${JSON.stringify({ comparison, first: withoutPredictions(report) }, null, 2)}\n`
              : `${formatEvalReport(report)}\n${formatComparison(comparison)}\n`,
          );
          return;
        }
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatEvalReport(report)}\n`);
      });
    });
}

interface EvalCliOptions {
  model?: string;
  data?: string[];
  preset?: string;
  textField: string;
  labelField: string;
  titleField: string;
  labelFrom?: LabelFrom;
  reliability?: string;
  groupBy?: GroupBy;
  compare?: string;
  json?: boolean;
}

function labelFromOption(value: string): LabelFrom {
  if (!['label', 'rating', 'stars'].includes(value))
    throw new InvalidArgumentError('must be one of label, rating, stars');
  return value as LabelFrom;
}

function groupByOption(value: string): GroupBy {
  if (!(GROUP_BY as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${GROUP_BY.join(', ')}`);
  return value as GroupBy;
}

function withoutPredictions(report: EvalReport): EvalReport {
  return { ...report, files: report.files.map(({ gold: _gold, predicted: _predicted, ...f }) => f) };
}

export function defineQuantizeCommand(command: Command, env: Record<string, string | undefined>): Command {
  return command
    .description("dynamic int8 quantization of a model directory's MatMul weights (as onnxruntime's quantize_dynamic)")
    .requiredOption('--model <dir>', 'input model directory')
    .requiredOption('--out <dir>', 'output model directory')
    .option('--per-tensor', 'one weight scale per tensor instead of per column')
    .option(
      '--full-range',
      'weights in 8 bits (±127) instead of 7 (±63): exact on CPUs with VNNI, but x86 CPUs without it (AVX2) overflow 16-bit sums',
    )
    .action(async (o: { model: string; out: string; perTensor?: boolean; fullRange?: boolean }) => {
      await runCommand('quantize', env, async () => {
        const r = await quantizeModelDir(o.model, o.out, { perColumn: !o.perTensor, reduceRange: !o.fullRange });
        process.stdout.write(
          `${r.rewrittenMatMuls} MatMuls → int8; ${(r.bytesIn / 1e6).toFixed(0)} MB → ${(r.bytesOut / 1e6).toFixed(0)} MB: ${r.modelPath}\n`,
        );
      });
    });
}
