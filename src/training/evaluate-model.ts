/**
 * `sentiment-fleet eval`: scores labeled files with a model directory through createModelRunner,
 * the workers' own scoring path (same tokenizer, truncation, padding and length groups), and
 * reports accuracy, macro-F1, per-class precision/recall, the confusion matrix and the
 * calibration of the scores (ECE over 10 bins, reliability bins) per file.
 */
import type { GroupLimits } from '../batching/length-groups.ts';
import { SfError } from '../errors/sf-error.ts';
import { createModelRunner } from '../inference/model-runner.ts';
import type { Logger } from '../logging/logger.ts';
import type { Truncation } from '../tokenize/encoder.ts';
import { calibrationReport, type CalibrationReport } from './calibration.ts';
import { classificationMetrics, meanAbsoluteError, type ClassificationMetrics } from './classification-metrics.ts';
import {
  DEFAULT_FIELDS,
  readLabeledData,
  type DataFields,
  type LabeledDataset,
  type LabeledRow,
} from './labeled-data-reader.ts';

export interface EvaluateOptions {
  modelDir: string;
  /** Labeled files to read, or datasets already read. */
  data: readonly (string | LabeledDataset)[];
  fields?: DataFields | undefined;
  truncation: Truncation;
  intraOpThreads: number;
  groups: GroupLimits;
  /** Texts per score() call; default 256. */
  chunkSize?: number | undefined;
  /** Also report all rows pooled and split by the rows' source (field or file), locale or star rating. */
  groupBy?: GroupBy | undefined;
  /** Keep each file's gold and predicted label indices in the report (for comparing two models). */
  keepPredictions?: boolean | undefined;
  logger?: Logger | undefined;
}

export type GroupBy = 'source' | 'locale' | 'rating';
export const GROUP_BY: readonly GroupBy[] = ['source', 'locale', 'rating'];

export interface GroupEvaluation {
  /** The group's value: a source, a locale ("none" when rows have none) or a star rating ("none"). */
  group: string;
  rows: number;
  accuracy: number;
  macroF1: number;
  ece: number;
  /** Numeric labels (stars): mean absolute error of the predicted label. */
  mae?: number | undefined;
}

export interface FileEvaluation extends ClassificationMetrics {
  file: string;
  /** With keepPredictions: gold and predicted label index per row (−1: not scored). */
  gold?: number[];
  predicted?: number[];
  /** Tokens after truncation, mean over rows. */
  meanTokens: number;
  truncated: number;
  /** Calibration of the scores the runner returned (the model's temperature applied). */
  calibration: CalibrationReport;
  /** Numeric labels (stars): mean absolute error of the predicted label. */
  mae?: number | undefined;
}

export interface EvalReport {
  model: {
    dir: string;
    name: string;
    version: string;
    modelType: string | undefined;
    labels: string[];
    temperature: number;
  };
  files: FileEvaluation[];
  /** Unweighted mean of the files' accuracies. */
  meanAccuracy: number;
  /** All rows of all files pooled. */
  overall: ClassificationMetrics & { calibration: CalibrationReport; mae?: number | undefined };
  /** With groupBy: all rows pooled, split by that key. */
  groups?: { by: GroupBy; groups: GroupEvaluation[] };
}

function maeOf(labels: string[], gold: number[], predicted: number[]): { mae?: number } {
  const mae = meanAbsoluteError(labels, gold, predicted);
  return mae === undefined ? {} : { mae };
}

function groupKey(row: LabeledRow, file: string, by: GroupBy): string {
  if (by === 'source') return row.source ?? file;
  if (by === 'locale') return row.locale ?? 'none';
  return row.rating === undefined ? 'none' : String(row.rating);
}

function groupEvaluations(
  labels: string[],
  keyed: { key: string; gold: number; predicted: number; probs: number[] }[],
): GroupEvaluation[] {
  const byKey = new Map<string, typeof keyed>();
  for (const k of keyed) byKey.set(k.key, [...(byKey.get(k.key) ?? []), k]);
  return [...byKey]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([group, rows]) => {
      const m = classificationMetrics(
        labels,
        rows.map((r) => r.gold),
        rows.map((r) => r.predicted),
      );
      const mae = meanAbsoluteError(
        labels,
        rows.map((r) => r.gold),
        rows.map((r) => r.predicted),
      );
      return {
        group,
        rows: rows.length,
        accuracy: m.accuracy,
        macroF1: m.macroF1,
        ece: calibrationReport(
          rows.map((r) => r.probs),
          rows.map((r) => r.gold),
        ).ece,
        ...(mae === undefined ? {} : { mae }),
      };
    });
}

/** Maps data labels to model label indices: exact match first, then case-insensitive. */
function labelIndexer(modelLabels: readonly string[]): (label: string, file: string) => number {
  const exact = new Map(modelLabels.map((l, i) => [l, i]));
  const folded = new Map(modelLabels.map((l, i) => [l.toLowerCase(), i]));
  return (label, file) => {
    const index = exact.get(label) ?? folded.get(label.toLowerCase());
    if (index === undefined) {
      throw new SfError(
        'SF_ERR_CONFIG',
        `${file}: label "${label}" is not one of the model's labels (${modelLabels.join(', ')}); check --label-field`,
        {
          details: { file, modelLabels },
        },
      );
    }
    return index;
  };
}

export async function evaluateModel(options: EvaluateOptions): Promise<EvalReport> {
  if (options.data.length === 0) throw new SfError('SF_ERR_CONFIG', 'eval needs at least one data file');
  const datasets: LabeledDataset[] = [];
  for (const d of options.data)
    datasets.push(typeof d === 'string' ? await readLabeledData(d, options.fields ?? DEFAULT_FIELDS) : d);
  const runner = await createModelRunner({
    modelDir: options.modelDir,
    truncation: options.truncation,
    intraOpThreads: options.intraOpThreads,
    groups: options.groups,
  });
  const chunkSize = options.chunkSize ?? 256;
  const toIndex = labelIndexer(runner.info.labels);
  const labelIndex = new Map(runner.info.labels.map((l, i) => [l, i]));
  const files: FileEvaluation[] = [];
  const allGold: number[] = [];
  const allPredicted: number[] = [];
  const allProbs: number[][] = [];
  const keyed: { key: string; gold: number; predicted: number; probs: number[] }[] = [];
  try {
    for (const dataset of datasets) {
      const started = performance.now();
      const gold = dataset.rows.map((r) => toIndex(r.label, dataset.file));
      const predicted: number[] = [];
      const probs: number[][] = [];
      let tokens = 0;
      let truncated = 0;
      for (let start = 0; start < dataset.rows.length; start += chunkSize) {
        const texts = dataset.rows.slice(start, start + chunkSize).map((r) => r.text);
        const { items } = await runner.score(texts);
        for (const item of items) {
          if (!item.ok) {
            predicted.push(-1);
            probs.push([]);
            continue;
          }
          predicted.push(labelIndex.get(item.label)!);
          probs.push(runner.info.labels.map((l) => item.scores[l]!));
          tokens += item.tokens;
          if (item.truncated) truncated++;
        }
      }
      const metrics = classificationMetrics(runner.info.labels, gold, predicted);
      files.push({
        file: dataset.file,
        ...metrics,
        meanTokens: tokens / Math.max(metrics.rows - metrics.unscored, 1),
        truncated,
        calibration: calibrationReport(probs, gold),
        ...maeOf(runner.info.labels, gold, predicted),
        ...(options.keepPredictions ? { gold, predicted } : {}),
      });
      if (options.groupBy) {
        const by = options.groupBy;
        dataset.rows.forEach((row, i) =>
          keyed.push({
            key: groupKey(row, dataset.file, by),
            gold: gold[i]!,
            predicted: predicted[i]!,
            probs: probs[i]!,
          }),
        );
      }
      allGold.push(...gold);
      allPredicted.push(...predicted);
      allProbs.push(...probs);
      options.logger?.info(
        {
          file: dataset.file,
          rows: metrics.rows,
          accuracy: metrics.accuracy,
          macroF1: metrics.macroF1,
          ms: Math.round(performance.now() - started),
        },
        'evaluated',
      );
    }
  } finally {
    await runner.close();
  }
  return {
    model: {
      dir: options.modelDir,
      name: runner.info.name,
      version: runner.info.version,
      modelType: runner.info.modelType,
      labels: runner.info.labels,
      temperature: runner.info.temperature,
    },
    files,
    meanAccuracy: files.reduce((sum, f) => sum + f.accuracy, 0) / files.length,
    overall: {
      ...classificationMetrics(runner.info.labels, allGold, allPredicted),
      calibration: calibrationReport(allProbs, allGold),
      ...maeOf(runner.info.labels, allGold, allPredicted),
    },
    ...(options.groupBy
      ? { groups: { by: options.groupBy, groups: groupEvaluations(runner.info.labels, keyed) } }
      : {}),
  };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const f4 = (x: number) => x.toFixed(4);

/** The report as plain-text tables: per file, per class, and the confusion matrices. */
export function formatEvalReport(report: EvalReport): string {
  const { model } = report;
  const temperature = model.temperature === 1 ? 'no calibration temperature' : `temperature ${model.temperature}`;
  const out: string[] = [
    `model ${model.name} (version ${model.version}${model.modelType ? `, ${model.modelType}` : ''}, ${temperature}), labels: ${model.labels.join(', ')}`,
    '',
  ];
  const stars = report.overall.mae !== undefined;
  const maeCell = (m: number | undefined) => (stars ? [m === undefined ? '' : f4(m)] : []);
  const fileRows = report.files.map((f) => [
    f.file,
    String(f.rows),
    f4(f.accuracy),
    f4(f.macroF1),
    ...maeCell(f.mae),
    f4(f.calibration.ece),
    String(f.unscored),
    f.meanTokens.toFixed(0),
    String(f.truncated),
  ]);
  fileRows.push([
    'all files pooled',
    String(report.overall.rows),
    f4(report.overall.accuracy),
    f4(report.overall.macroF1),
    ...maeCell(report.overall.mae),
    f4(report.overall.calibration.ece),
    String(report.overall.unscored),
    '',
    '',
  ]);
  out.push(
    table(
      ['file', 'rows', 'accuracy', 'macro-F1', ...(stars ? ['MAE'] : []), 'ECE', 'unscored', 'tokens', 'truncated'],
      fileRows,
    ),
  );
  out.push('', `mean accuracy over ${report.files.length} file(s): ${f4(report.meanAccuracy)}`, '');
  if (report.groups) {
    out.push(`all rows by ${report.groups.by}`);
    out.push(
      table(
        [report.groups.by, 'rows', 'accuracy', 'macro-F1', ...(stars ? ['MAE'] : []), 'ECE'],
        report.groups.groups.map((g) => [
          g.group,
          String(g.rows),
          f4(g.accuracy),
          f4(g.macroF1),
          ...maeCell(g.mae),
          f4(g.ece),
        ]),
      ),
      '',
    );
  }
  const classRows = report.files.flatMap((f) =>
    model.labels.map((label) => {
      const m = f.perClass[label]!;
      return [f.file, label, f4(m.precision), f4(m.recall), f4(m.f1), String(m.support)];
    }),
  );
  out.push(table(['file', 'class', 'precision', 'recall', 'F1', 'support'], classRows), '');
  for (const f of report.files) {
    out.push(`confusion ${f.file} (rows: gold, columns: predicted)`);
    out.push(
      table(
        ['', ...model.labels],
        model.labels.map((label, g) => [label, ...f.confusion.matrix[g]!.map(String)]),
      ),
      '',
    );
  }
  return out.join('\n');
}
