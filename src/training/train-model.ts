/**
 * `sentiment-fleet train`: reads labeled files grouped by source, optionally cross-validates by
 * source (leave one source out: per-source held-out accuracy, and the calibration temperature
 * fitted on the held-out logits), trains the hashed n-gram linear classifier on every source and
 * writes a model directory the workers load unchanged: model.onnx, tokenizer.json,
 * tokenizer_config.json, config.json (with the temperature), reliability.svg and MODEL_CARD.md
 * (dev-set metrics scored through createModelRunner, the workers' own scoring path).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/load-config.ts';
import { isSfError, SfError } from '../errors/sf-error.ts';
import type { Logger } from '../logging/logger.ts';
import { HASHED_NGRAM_MODEL_TYPE } from '../model-format/hashed-ngram-features.ts';
import { buildWordPieceTokenizerJson } from '../tokenize/wordpiece-tokenizer-json.ts';
import { crossValidationReport, type CvReport } from './cross-validation-report.ts';
import { evaluateModel, type EvalReport } from './evaluate-model.ts';
import { buildHashedNgramGraph } from './hashed-ngram-graph.ts';
import {
  checkHyperparameters,
  DEFAULT_HYPERPARAMETERS,
  type HashedNgramHyperparameters,
} from './hashed-ngram-hyperparameters.ts';
import {
  DEFAULT_FIELDS,
  labelSet,
  readLabeledData,
  type DataFields,
  type LabelFrom,
  type LabeledDataset,
  type LabeledRow,
} from './labeled-data-reader.ts';
import type { TrainingProgress } from './linear-trainer.ts';
import { renderModelCard } from './model-card.ts';
import { createNgramFeaturizer, type NgramFeaturizer, type TokenizerFiles } from './ngram-featurizer.ts';
import { reliabilityDiagramSvg } from './reliability-diagram.ts';
import {
  loadSource,
  sourcesFromFiles,
  splitIntoRowFolds,
  type LoadedSource,
  type TrainingSource,
} from './source-data.ts';
import { crossValidateBySource, trainOnSources, type FeaturizedRow, type SourceRows } from './source-training.ts';
import { resolvePreset, type TrainingPreset } from './training-presets.ts';
import { negationJson } from '../model-format/negation-scope.ts';

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
  /** Exponent of the source weighting (source-training.ts); default the preset's, else none. */
  sourceWeightPower?: number | undefined;
  /** Leave-one-source-out cross-validation (each --data file a source); default the preset's, else off. */
  crossValidate?: boolean | undefined;
  /** Cross-validate by this many row folds (id hash) instead of by source; default the preset's (one-source presets). */
  cvFolds?: number | undefined;
  /** Where the --data files' labels come from (labeled-data-reader.ts); default their label field. */
  labelFrom?: LabelFrom | undefined;
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
  cv: CvReport | undefined;
}

interface ResolvedOptions {
  sources: TrainingSource[];
  /** Dev files besides the sources' own. */
  dev: string[];
  out: string;
  fields: DataFields;
  hyperparameters: HashedNgramHyperparameters;
  sourceWeightPower: number | undefined;
  crossValidate: boolean;
  cvFolds: number | undefined;
  notes: string | undefined;
  baseline: TrainingPreset['baseline'];
}

function resolveOptions(options: TrainModelOptions, config: Config): ResolvedOptions {
  const preset = options.preset === undefined ? undefined : resolvePreset(options.preset, config.sharedDir);
  const files = options.data ?? preset?.sources.flatMap((s) => s.train);
  if (!files || files.length === 0) throw new SfError('SF_ERR_CONFIG', 'train needs --data FILE... (or --preset)');
  const weights = options.weights;
  if (weights && weights.length !== files.length) {
    throw new SfError(
      'SF_ERR_CONFIG',
      `--weight has ${weights.length} value(s) for ${files.length} --data file(s); give one per file`,
    );
  }
  if (weights?.some((w) => !(w > 0 && Number.isFinite(w))))
    throw new SfError('SF_ERR_CONFIG', '--weight values must be positive numbers');
  const out = options.out ?? preset?.out;
  if (!out) throw new SfError('SF_ERR_CONFIG', 'train needs --out DIR (or --preset)');
  const hyperparameters = checkHyperparameters({
    ...DEFAULT_HYPERPARAMETERS,
    ...preset?.hyperparameters,
    ...stripUndefined(options.hyperparameters ?? {}),
  });
  const sources = options.data || !preset ? sourcesFromFiles(files, weights, options.labelFrom) : preset.sources;
  const sourceWeightPower = options.sourceWeightPower ?? preset?.sourceWeightPower;
  if (sourceWeightPower !== undefined && !(sourceWeightPower >= 0 && sourceWeightPower <= 1)) {
    throw new SfError('SF_ERR_CONFIG', `--source-weight-power must be in [0, 1], got ${sourceWeightPower}`);
  }
  const crossValidate = options.crossValidate ?? preset?.crossValidate ?? false;
  const cvFolds = options.cvFolds ?? (options.data ? undefined : preset?.cvFolds);
  if (cvFolds !== undefined && !(Number.isInteger(cvFolds) && cvFolds >= 2 && cvFolds <= 100))
    throw new SfError('SF_ERR_CONFIG', `--cv-folds must be an integer in 2..100, got ${cvFolds}`);
  if (crossValidate && cvFolds === undefined && sources.length < 2)
    throw new SfError('SF_ERR_CONFIG', '--cv needs at least 2 sources (--data files), or --cv-folds');
  return {
    sources,
    dev: options.dev ?? [],
    out,
    fields: { ...DEFAULT_FIELDS, ...stripUndefined(options.fields ?? {}) },
    hyperparameters,
    sourceWeightPower,
    crossValidate,
    cvFolds,
    notes: options.preset === undefined ? undefined : preset?.notes,
    baseline: options.data ? undefined : preset?.baseline,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function loadTokenizerFiles(dir: string | undefined): TokenizerFiles & { source: string } {
  if (dir === undefined) {
    const built = buildWordPieceTokenizerJson();
    return {
      tokenizerJson: built.tokenizerJson,
      tokenizerConfig: built.tokenizerConfig as Record<string, unknown>,
      source: 'bert-base-uncased WordPiece (built in)',
    };
  }
  const read = (file: string) => {
    const full = path.join(dir, file);
    if (!existsSync(full)) throw new SfError('SF_ERR_CONFIG', `--tokenizer ${dir}: ${file} is missing`);
    try {
      return JSON.parse(readFileSync(full, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new SfError('SF_ERR_CONFIG', `--tokenizer ${dir}: ${file} is not valid JSON (${(err as Error).message})`, {
        cause: err,
      });
    }
  };
  return {
    tokenizerJson: read('tokenizer.json'),
    tokenizerConfig: read('tokenizer_config.json'),
    source: `tokenizer from ${dir}`,
  };
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

/** Featurizes each distinct row once; rows without tokens are left out (and counted). */
function featurizeSources(
  loaded: readonly LoadedSource[],
  featurizer: NgramFeaturizer,
  labelIndex: Map<string, number>,
) {
  const cache = new Map<LabeledRow, FeaturizedRow | undefined>();
  const featurize = (row: LabeledRow): FeaturizedRow | undefined => {
    if (cache.has(row)) return cache.get(row);
    let out: FeaturizedRow | undefined;
    try {
      out = { rows: featurizer.featurize(row.text), label: labelIndex.get(row.label)! };
    } catch (err) {
      if (!isSfError(err, 'SF_ERR_BAD_INPUT')) throw err;
    }
    cache.set(row, out);
    return out;
  };
  const present = (r: FeaturizedRow | undefined): r is FeaturizedRow => r !== undefined;
  return loaded.map((l): SourceRows & { untokenized: number } => {
    const train = l.train.map(featurize);
    // Held out, a source is scored on rows whose labels the model has (a dev file may hold others).
    const heldOut = l.heldOut
      .filter((r) => labelIndex.has(r.label))
      .map(featurize)
      .filter(present);
    return {
      name: l.source.name,
      train: train.filter(present),
      heldOut,
      weight: l.source.weight,
      untokenized: train.length - train.filter(present).length,
    };
  });
}

/** Trains and writes the model directory; returns where, its version, sizes, cross-validation and dev metrics. */
export async function trainModel(options: TrainModelOptions, deps: TrainModelDeps): Promise<TrainModelResult> {
  const { config, logger } = deps;
  const o = resolveOptions(options, config);
  const h = o.hyperparameters;
  const tokenizer = loadTokenizerFiles(options.tokenizerDir);
  const featurizer = createNgramFeaturizer(tokenizer, {
    buckets: h.buckets,
    maxOrder: h.maxOrder,
    normalization: h.normalization,
    maxLength: MAX_LENGTH,
    truncation: config.model.truncation,
    boundaryTokens: h.boundaryTokens,
    negationWindow: h.negationWindow,
  });

  const loaded: LoadedSource[] = [];
  for (const source of o.sources) loaded.push(await loadSource(source, o.fields));
  const labels = labelSet(loaded.map((l) => ({ file: l.source.name, rows: l.train, skipped: 0 })));
  if (labels.length < 2)
    throw new SfError('SF_ERR_CONFIG', `training data needs at least 2 labels, found ${labels.join(', ') || 'none'}`);
  const labelIndex = new Map(labels.map((l, i) => [l, i]));

  const started = performance.now();
  const sources = featurizeSources(loaded, featurizer, labelIndex);
  logger.info(
    {
      examples: sources.reduce((s, x) => s + x.train.length, 0),
      labels,
      featurizeMs: Math.round(performance.now() - started),
    },
    'training data featurized',
  );
  const training = {
    tableRows: featurizer.spec.vocabSize + featurizer.spec.buckets,
    numLabels: labels.length,
    hyperparameters: h,
    sourceWeightPower: o.sourceWeightPower,
  };

  let cv: CvReport | undefined;
  if (o.crossValidate) {
    const cvStarted = performance.now();
    const folds =
      o.cvFolds === undefined
        ? sources
        : featurizeSources(splitIntoRowFolds(loaded, o.cvFolds), featurizer, labelIndex);
    const heldOut = crossValidateBySource(folds, {
      ...training,
      onFold: (name, i, n) => deps.progress?.write(`cross-validation fold ${i + 1}/${n}: ${name} held out\n`),
    });
    cv = crossValidationReport(heldOut, labels);
    logger.info(
      {
        seconds: Number(((performance.now() - cvStarted) / 1000).toFixed(1)),
        meanAccuracy: cv.meanAccuracy,
        temperature: cv.temperature,
      },
      o.cvFolds === undefined ? 'cross-validated by source' : `cross-validated by ${o.cvFolds} row folds`,
    );
  }

  const trainStarted = performance.now();
  const weights = trainOnSources(sources, { ...training, onProgress: progressPrinter(deps.progress) });
  const trainingSeconds = (performance.now() - started) / 1000;
  logger.info(
    {
      seconds: Number(trainingSeconds.toFixed(1)),
      finalFitSeconds: Number(((performance.now() - trainStarted) / 1000).toFixed(1)),
      epochLosses: weights.epochLosses,
    },
    'trained',
  );

  const model = buildHashedNgramGraph({
    spec: featurizer.spec,
    table: weights.table,
    bias: weights.bias,
    weightType: h.weightType,
    docString: `sentiment-fleet ${HASHED_NGRAM_MODEL_TYPE}`,
  });
  const version = `hngl-${createHash('sha256').update(model).digest('hex').slice(0, 12)}`;
  const tokenizerConfig = { ...tokenizer.tokenizerConfig, model_max_length: MAX_LENGTH };
  const configJson = {
    architectures: ['HashedNgramLinear'],
    model_type: HASHED_NGRAM_MODEL_TYPE,
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
      ...(featurizer.spec.negation ? { negation: negationJson(featurizer.spec.negation) } : {}),
    },
    ...(cv
      ? {
          calibration: {
            method: 'temperature',
            temperature: Number(cv.temperature.toFixed(4)),
            fitted_on:
              o.cvFolds === undefined
                ? 'leave-one-source-out held-out logits, every source weighted equally'
                : `${o.cvFolds}-fold cross-validation held-out logits (folds by row-id hash)`,
            held_out_ece_before: Number(cv.pooledBefore.ece.toFixed(4)),
            held_out_ece_after: Number(cv.pooledAfter.ece.toFixed(4)),
          },
        }
      : {}),
    sf_version: version,
  };
  const contents: [string, string | Uint8Array][] = [
    ['model.onnx', model],
    ['tokenizer.json', `${JSON.stringify(tokenizer.tokenizerJson, null, 2)}\n`],
    ['tokenizer_config.json', `${JSON.stringify(tokenizerConfig, null, 2)}\n`],
    ['config.json', `${JSON.stringify(configJson, null, 2)}\n`],
  ];
  if (cv) {
    contents.push([
      'reliability.svg',
      reliabilityDiagramSvg('Leave-one-source-out held-out rows: reliability', [
        { name: 'softmax', report: cv.pooledBefore },
        { name: `temperature ${cv.temperature.toFixed(2)}`, report: cv.pooledAfter },
      ]),
    ]);
  }
  await mkdir(o.out, { recursive: true });
  for (const [name, content] of contents) await writeFile(path.join(o.out, name), content);
  const files = contents.map(([name, content]) => ({
    name,
    bytes: typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength,
  }));
  logger.info({ dir: o.out, version, bytes: files.reduce((s, f) => s + f.bytes, 0) }, 'model written');

  const devSets: LabeledDataset[] = loaded.flatMap((l) => l.dev);
  for (const file of o.dev) devSets.push(await readLabeledData(file, o.fields, { labelFrom: options.labelFrom }));
  const dev =
    devSets.length === 0
      ? undefined
      : await evaluateModel({
          modelDir: o.out,
          data: devSets,
          fields: o.fields,
          truncation: config.model.truncation,
          intraOpThreads: config.inference.intraOpThreads,
          groups: config.batching,
          logger,
        });
  const card = renderModelCard({
    name: path.basename(path.resolve(o.out)),
    dir: o.out,
    version,
    labels,
    spec: featurizer.spec,
    hyperparameters: h,
    maxLength: MAX_LENGTH,
    truncation: config.model.truncation,
    tokenizerSource: tokenizer.source,
    training: loaded.flatMap((l, i) =>
      l.trainFiles.map((f) => ({ ...f, source: l.source.name, untokenized: sources[i]!.untokenized })),
    ),
    sourceWeights: {
      power: o.sourceWeightPower,
      sources: sources.map((s) => ({ name: s.name, rows: s.train.length, weight: s.weight ?? 1 })),
    },
    labelCounts: Object.fromEntries(
      labels.map((l) => [l, loaded.reduce((s, d) => s + d.train.filter((r) => r.label === l).length, 0)]),
    ),
    epochLosses: weights.epochLosses,
    files,
    dev,
    cv,
    cvFolds: o.cvFolds,
    baseline: o.baseline,
    command: options.command,
    notes: o.notes,
  });
  await writeFile(path.join(o.out, 'MODEL_CARD.md'), card);
  return {
    dir: o.out,
    version,
    labels,
    files,
    totalBytes: files.reduce((s, f) => s + f.bytes, 0) + Buffer.byteLength(card),
    trainingSeconds,
    dev,
    cv,
  };
}
