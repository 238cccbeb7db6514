/**
 * `sentiment-fleet train`: reads labeled files, trains the hashed n-gram linear classifier and
 * writes a model directory the workers load unchanged: model.onnx, tokenizer.json,
 * tokenizer_config.json, config.json and MODEL_CARD.md (with dev-set metrics scored through
 * createModelRunner, the workers' own scoring path).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/load-config.ts';
import { isSfError, SfError } from '../errors/sf-error.ts';
import type { Logger } from '../logging/logger.ts';
import { buildWordPieceTokenizerJson } from '../tokenize/wordpiece-tokenizer-json.ts';
import { evaluateModel, type EvalReport } from './evaluate-model.ts';
import { buildHashedNgramGraph } from './hashed-ngram-graph.ts';
import { checkHyperparameters, DEFAULT_HYPERPARAMETERS, type HashedNgramHyperparameters } from './hashed-ngram-hyperparameters.ts';
import { DEFAULT_FIELDS, labelSet, readLabeledData, type DataFields, type LabeledDataset } from './labeled-data-reader.ts';
import { trainLinearModel, type TrainingExample, type TrainingProgress } from './linear-trainer.ts';
import { renderModelCard } from './model-card.ts';
import { createNgramFeaturizer, type TokenizerFiles } from './ngram-featurizer.ts';
import { resolvePreset, type TrainingDataFile } from './training-presets.ts';

export const MODEL_TYPE = 'hashed-ngram-linear';
export const MAX_LENGTH = 512;

export interface TrainModelOptions {
  /** A named setup (training-presets.ts); the options below override it. */
  preset?: string | undefined;
  data?: string[] | undefined;
  /** Loss weight per data file, in --data order (default 1 each). */
  weights?: number[] | undefined;
  dev?: string[] | undefined;
  out?: string | undefined;
  fields?: Partial<DataFields> | undefined;
  hyperparameters?: Partial<HashedNgramHyperparameters> | undefined;
  /** Directory with tokenizer.json and tokenizer_config.json; default the built-in bert-base-uncased WordPiece. */
  tokenizerDir?: string | undefined;
  /** The command line that ran this, for the model card. */
  command: string;
}

export interface TrainModelDeps {
  config: Config;
  logger: Logger;
  /** Where progress lines go (stderr); none when omitted. */
  progress?: { write(text: string): unknown } | undefined;
}

export interface TrainModelResult {
  dir: string;
  version: string;
  labels: string[];
  files: { name: string; bytes: number }[];
  totalBytes: number;
  trainingSeconds: number;
  dev: EvalReport | undefined;
}

interface ResolvedOptions {
  data: TrainingDataFile[];
  dev: string[];
  out: string;
  fields: DataFields;
  hyperparameters: HashedNgramHyperparameters;
  notes: string | undefined;
}

function resolveOptions(options: TrainModelOptions, config: Config): ResolvedOptions {
  const preset = options.preset === undefined ? undefined : resolvePreset(options.preset, config.sharedDir);
  const files = options.data ?? preset?.data.map((d) => d.file);
  if (!files || files.length === 0) throw new SfError('SF_ERR_CONFIG', 'train needs --data FILE... (or --preset)');
  const weights = options.weights ?? (options.data ? undefined : preset?.data.map((d) => d.weight));
  if (weights && weights.length !== files.length) {
    throw new SfError('SF_ERR_CONFIG', `--weight has ${weights.length} value(s) for ${files.length} --data file(s); give one per file`);
  }
  if (weights?.some((w) => !(w > 0 && Number.isFinite(w)))) throw new SfError('SF_ERR_CONFIG', '--weight values must be positive numbers');
  const out = options.out ?? preset?.out;
  if (!out) throw new SfError('SF_ERR_CONFIG', 'train needs --out DIR (or --preset)');
  const hyperparameters = checkHyperparameters({ ...DEFAULT_HYPERPARAMETERS, ...preset?.hyperparameters, ...stripUndefined(options.hyperparameters ?? {}) });
  return {
    data: files.map((file, i) => ({ file, weight: weights?.[i] ?? 1 })),
    dev: options.dev ?? preset?.dev ?? [],
    out,
    fields: { ...DEFAULT_FIELDS, ...stripUndefined(options.fields ?? {}) },
    hyperparameters,
    notes: options.preset === undefined ? undefined : preset?.notes,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function loadTokenizerFiles(dir: string | undefined): TokenizerFiles & { source: string } {
  if (dir === undefined) {
    const built = buildWordPieceTokenizerJson();
    return { tokenizerJson: built.tokenizerJson, tokenizerConfig: built.tokenizerConfig as Record<string, unknown>, source: 'bert-base-uncased WordPiece (built in)' };
  }
  const read = (file: string) => {
    const full = path.join(dir, file);
    if (!existsSync(full)) throw new SfError('SF_ERR_CONFIG', `--tokenizer ${dir}: ${file} is missing`);
    try {
      return JSON.parse(readFileSync(full, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new SfError('SF_ERR_CONFIG', `--tokenizer ${dir}: ${file} is not valid JSON (${(err as Error).message})`, { cause: err });
    }
  };
  return { tokenizerJson: read('tokenizer.json'), tokenizerConfig: read('tokenizer_config.json'), source: `tokenizer from ${dir}` };
}

/** Progress lines on stderr: at most one every 2 s, and one at the end of each epoch. */
function progressPrinter(stream: TrainModelDeps['progress']): (p: TrainingProgress) => void {
  let last = 0;
  return (p) => {
    if (!stream) return;
    const now = performance.now();
    if (!p.epochDone && now - last < 2000) return;
    last = now;
    const pct = ((100 * p.done) / p.total).toFixed(0).padStart(3);
    stream.write(
      `epoch ${p.epoch}/${p.epochs} ${pct}%  ${p.done.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')} examples  ` +
        `${Math.round(p.examplesPerSecond).toLocaleString('en-US')} ex/s  loss ${p.loss.toFixed(4)}  lr ${p.learningRate.toFixed(4)}\n`,
    );
  };
}

/** Trains and writes the model directory; returns where, its version, sizes and dev metrics. */
export async function trainModel(options: TrainModelOptions, deps: TrainModelDeps): Promise<TrainModelResult> {
  const { config, logger } = deps;
  const o = resolveOptions(options, config);
  const h = o.hyperparameters;
  const tokenizer = loadTokenizerFiles(options.tokenizerDir);
  const featurizer = createNgramFeaturizer(tokenizer, {
    buckets: h.buckets, maxOrder: h.maxOrder, normalization: h.normalization, maxLength: MAX_LENGTH, truncation: config.model.truncation,
  });

  const datasets: LabeledDataset[] = [];
  for (const d of o.data) datasets.push(await readLabeledData(d.file, o.fields));
  const labels = labelSet(datasets);
  if (labels.length < 2) throw new SfError('SF_ERR_CONFIG', `training data needs at least 2 labels, found ${labels.join(', ') || 'none'}`);
  const labelIndex = new Map(labels.map((l, i) => [l, i]));

  const started = performance.now();
  const examples: TrainingExample[] = [];
  const training: { file: string; rows: number; skipped: number; weight: number }[] = [];
  datasets.forEach((dataset, i) => {
    let skipped = dataset.skipped;
    for (const row of dataset.rows) {
      try {
        examples.push({ rows: featurizer.featurize(row.text), label: labelIndex.get(row.label)!, weight: o.data[i]!.weight });
      } catch (err) {
        if (!isSfError(err, 'SF_ERR_BAD_INPUT')) throw err;
        skipped++;
      }
    }
    training.push({ file: dataset.file, rows: dataset.rows.length + dataset.skipped - skipped, skipped, weight: o.data[i]!.weight });
  });
  const labelCounts = Object.fromEntries(labels.map((l) => [l, datasets.reduce((s, d) => s + d.rows.filter((r) => r.label === l).length, 0)]));
  logger.info({ examples: examples.length, labels, featurizeMs: Math.round(performance.now() - started) }, 'training data featurized');

  const weights = trainLinearModel(examples, {
    tableRows: featurizer.spec.vocabSize + featurizer.spec.buckets,
    numLabels: labels.length,
    normalization: h.normalization,
    epochs: h.epochs,
    learningRate: h.learningRate,
    l2: h.l2,
    featureDropout: h.featureDropout,
    seed: h.seed,
    onProgress: progressPrinter(deps.progress),
  });
  const trainingSeconds = (performance.now() - started) / 1000;
  logger.info({ seconds: Number(trainingSeconds.toFixed(1)), epochLosses: weights.epochLosses }, 'trained');

  const model = buildHashedNgramGraph({ spec: featurizer.spec, table: weights.table, bias: weights.bias, docString: `sentiment-fleet ${MODEL_TYPE}` });
  const version = `hngl-${createHash('sha256').update(model).digest('hex').slice(0, 12)}`;
  const tokenizerConfig = { ...tokenizer.tokenizerConfig, model_max_length: MAX_LENGTH };
  const configJson = {
    architectures: ['HashedNgramLinear'],
    model_type: MODEL_TYPE,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    max_position_embeddings: MAX_LENGTH,
    problem_type: 'single_label_classification',
    vocab_size: featurizer.spec.vocabSize,
    hashed_ngram: {
      buckets: featurizer.spec.buckets,
      max_order: featurizer.spec.maxOrder,
      normalization: featurizer.spec.normalization,
      excluded_ids: featurizer.spec.excludedIds,
    },
    sf_version: version,
  };
  const contents: [string, string | Uint8Array][] = [
    ['model.onnx', model],
    ['tokenizer.json', `${JSON.stringify(tokenizer.tokenizerJson, null, 2)}\n`],
    ['tokenizer_config.json', `${JSON.stringify(tokenizerConfig, null, 2)}\n`],
    ['config.json', `${JSON.stringify(configJson, null, 2)}\n`],
  ];
  await mkdir(o.out, { recursive: true });
  for (const [name, content] of contents) await writeFile(path.join(o.out, name), content);
  const files = contents.map(([name, content]) => ({ name, bytes: typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength }));
  logger.info({ dir: o.out, version, bytes: files.reduce((s, f) => s + f.bytes, 0) }, 'model written');

  const dev =
    o.dev.length === 0
      ? undefined
      : await evaluateModel({
          modelDir: o.out, data: o.dev, fields: o.fields, truncation: config.model.truncation,
          intraOpThreads: config.inference.intraOpThreads, groups: config.batching, logger,
        });
  const card = renderModelCard({
    name: path.basename(path.resolve(o.out)), dir: o.out, version, labels, spec: featurizer.spec, hyperparameters: h, maxLength: MAX_LENGTH,
    truncation: config.model.truncation, tokenizerSource: tokenizer.source, training, labelCounts, epochLosses: weights.epochLosses,
    files, dev, command: options.command, notes: o.notes,
  });
  await writeFile(path.join(o.out, 'MODEL_CARD.md'), card);
  return { dir: o.out, version, labels, files, totalBytes: files.reduce((s, f) => s + f.bytes, 0) + Buffer.byteLength(card), trainingSeconds, dev };
}
