/**
 * `sentiment-fleet eval`: scores labeled files with a model directory through createModelRunner,
 * the workers' own scoring path (same tokenizer, truncation, padding and length groups), and
 * reports accuracy, macro-F1, per-class precision/recall and the confusion matrix per file.
 */
import type { GroupLimits } from '../batching/length-groups.ts';
import { SfError } from '../errors/sf-error.ts';
import { createModelRunner } from '../inference/model-runner.ts';
import type { Logger } from '../logging/logger.ts';
import type { Truncation } from '../tokenize/encoder.ts';
import { classificationMetrics, type ClassificationMetrics } from './classification-metrics.ts';
import { DEFAULT_FIELDS, readLabeledData, type DataFields, type LabeledDataset } from './labeled-data-reader.ts';

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
  logger?: Logger | undefined;
}

export interface FileEvaluation extends ClassificationMetrics {
  file: string;
  /** Tokens after truncation, mean over rows. */
  meanTokens: number;
  truncated: number;
}

export interface EvalReport {
  model: { dir: string; name: string; version: string; modelType: string | undefined; labels: string[] };
  files: FileEvaluation[];
  /** Unweighted mean of the files' accuracies. */
  meanAccuracy: number;
  /** All rows of all files pooled. */
  overall: ClassificationMetrics;
}

/** Maps data labels to model label indices: exact match first, then case-insensitive. */
function labelIndexer(modelLabels: readonly string[]): (label: string, file: string) => number {
  const exact = new Map(modelLabels.map((l, i) => [l, i]));
  const folded = new Map(modelLabels.map((l, i) => [l.toLowerCase(), i]));
  return (label, file) => {
    const index = exact.get(label) ?? folded.get(label.toLowerCase());
    if (index === undefined) {
      throw new SfError('SF_ERR_CONFIG', `${file}: label "${label}" is not one of the model's labels (${modelLabels.join(', ')}); check --label-field`, {
        details: { file, modelLabels },
      });
    }
    return index;
  };
}

export async function evaluateModel(options: EvaluateOptions): Promise<EvalReport> {
  if (options.data.length === 0) throw new SfError('SF_ERR_CONFIG', 'eval needs at least one data file');
  const datasets: LabeledDataset[] = [];
  for (const d of options.data) datasets.push(typeof d === 'string' ? await readLabeledData(d, options.fields ?? DEFAULT_FIELDS) : d);
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
  try {
    for (const dataset of datasets) {
      const started = performance.now();
      const gold = dataset.rows.map((r) => toIndex(r.label, dataset.file));
      const predicted: number[] = [];
      let tokens = 0;
      let truncated = 0;
      for (let start = 0; start < dataset.rows.length; start += chunkSize) {
        const texts = dataset.rows.slice(start, start + chunkSize).map((r) => r.text);
        const { items } = await runner.score(texts);
        for (const item of items) {
          if (!item.ok) {
            predicted.push(-1);
            continue;
          }
          predicted.push(labelIndex.get(item.label)!);
          tokens += item.tokens;
          if (item.truncated) truncated++;
        }
      }
      const metrics = classificationMetrics(runner.info.labels, gold, predicted);
      files.push({ file: dataset.file, ...metrics, meanTokens: tokens / Math.max(metrics.rows - metrics.unscored, 1), truncated });
      allGold.push(...gold);
      allPredicted.push(...predicted);
      options.logger?.info(
        { file: dataset.file, rows: metrics.rows, accuracy: metrics.accuracy, macroF1: metrics.macroF1, ms: Math.round(performance.now() - started) },
        'evaluated',
      );
    }
  } finally {
    await runner.close();
  }
  return {
    model: { dir: options.modelDir, name: runner.info.name, version: runner.info.version, modelType: runner.info.modelType, labels: runner.info.labels },
    files,
    meanAccuracy: files.reduce((sum, f) => sum + f.accuracy, 0) / files.length,
    overall: classificationMetrics(runner.info.labels, allGold, allPredicted),
  };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const f4 = (x: number) => x.toFixed(4);

/** The report as plain-text tables: per file, per class, and the confusion matrices. */
export function formatEvalReport(report: EvalReport): string {
  const { model } = report;
  const out: string[] = [`model ${model.name} (version ${model.version}${model.modelType ? `, ${model.modelType}` : ''}), labels: ${model.labels.join(', ')}`, ''];
  const fileRows = report.files.map((f) => [f.file, String(f.rows), f4(f.accuracy), f4(f.macroF1), String(f.unscored), f.meanTokens.toFixed(0), String(f.truncated)]);
  fileRows.push(['all files pooled', String(report.overall.rows), f4(report.overall.accuracy), f4(report.overall.macroF1), String(report.overall.unscored), '', '']);
  out.push(table(['file', 'rows', 'accuracy', 'macro-F1', 'unscored', 'tokens', 'truncated'], fileRows));
  out.push('', `mean accuracy over ${report.files.length} file(s): ${f4(report.meanAccuracy)}`, '');
  const classRows = report.files.flatMap((f) =>
    model.labels.map((label) => {
      const m = f.perClass[label]!;
      return [f.file, label, f4(m.precision), f4(m.recall), f4(m.f1), String(m.support)];
    }),
  );
  out.push(table(['file', 'class', 'precision', 'recall', 'F1', 'support'], classRows), '');
  for (const f of report.files) {
    out.push(`confusion ${f.file} (rows: gold, columns: predicted)`);
    out.push(table(['', ...model.labels], model.labels.map((label, g) => [label, ...f.confusion.matrix[g]!.map(String)])), '');
  }
  return out.join('\n');
}
