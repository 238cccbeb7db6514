/**
 * Labeled data grouped by source (one corpus, shop or app each), as training and evaluation read
 * it: each source's training rows, its dev rows (from dev files, or a fixed slice of its training
 * file picked by a hash of the row id, never trained on), and the rows cross-validation scores
 * when the source is held out.
 */
import { createHash } from 'node:crypto';
import {
  DEFAULT_FIELDS,
  readLabeledData,
  type DataFields,
  type LabelFrom,
  type LabeledDataset,
  type LabeledRow,
} from './labeled-data-reader.ts';

export interface TrainingSource {
  /** Short name: the cross-validation fold and the model card's row. */
  name: string;
  train: string[];
  /** Dev files of the source (never trained on). */
  dev: string[];
  /**
   * Sources without dev files: the training rows whose id hashes to 0 modulo `devEvery`
   * (sha-256 of the id, first 4 bytes) are its dev rows instead and are never trained on.
   */
  devEvery?: number | undefined;
  /** Rows scored when this source is held out: its dev rows only (`dev`) or all of them (`all`). */
  heldOut: 'dev' | 'all';
  /** Where labels come from (labeled-data-reader.ts): the label field (default), binary from the star rating, or the stars. */
  labelFrom?: LabelFrom | undefined;
  /** Loss weight multiplier of its rows (default 1). */
  weight?: number | undefined;
}

export interface LoadedSource {
  source: TrainingSource;
  /** One entry per training file: rows read and left out, for the model card. */
  trainFiles: { file: string; rows: number; skipped: number; devRows: number }[];
  train: LabeledRow[];
  /** Dev sets as eval reads them: the dev files, and the dev slice of each training file. */
  dev: LabeledDataset[];
  heldOut: LabeledRow[];
}

/** Whether a row falls in the dev slice of 1 in `every` (by its id, else its text). */
export function inDevSlice(row: Pick<LabeledRow, 'id' | 'text'>, every: number): boolean {
  const digest = createHash('sha256')
    .update(row.id ?? row.text)
    .digest();
  return digest.readUInt32BE(0) % every === 0;
}

/** The name a dev slice of `file` is reported under. */
export function devSliceName(file: string, every: number): string {
  return `${file} (dev: id hash mod ${every} = 0)`;
}

export async function loadSource(source: TrainingSource, fields: DataFields = DEFAULT_FIELDS): Promise<LoadedSource> {
  const options = { labelFrom: source.labelFrom };
  const train: LabeledRow[] = [];
  const dev: LabeledDataset[] = [];
  const trainFiles: LoadedSource['trainFiles'] = [];
  for (const file of source.train) {
    const data = await readLabeledData(file, fields, options);
    const every = source.devEvery;
    const kept = every ? data.rows.filter((r) => !inDevSlice(r, every)) : data.rows;
    if (every)
      dev.push({ file: devSliceName(file, every), rows: data.rows.filter((r) => inDevSlice(r, every)), skipped: 0 });
    train.push(...kept);
    trainFiles.push({ file, rows: kept.length, skipped: data.skipped, devRows: data.rows.length - kept.length });
  }
  for (const file of source.dev) dev.push(await readLabeledData(file, fields, options));
  const devRows = dev.flatMap((d) => d.rows);
  return { source, trainFiles, train, dev, heldOut: source.heldOut === 'dev' ? devRows : [...train, ...devRows] };
}

/** A source per plain data file (custom training with --data), named by its path. */
export function sourcesFromFiles(
  files: readonly string[],
  weights: readonly number[] | undefined,
  labelFrom?: LabelFrom,
): TrainingSource[] {
  return files.map((file, i) => ({
    name: file,
    train: [file],
    dev: [],
    heldOut: 'all',
    weight: weights?.[i] ?? 1,
    labelFrom,
  }));
}

/** Every dev set of `sources` (dev files and dev slices), as eval reads them. */
export async function loadDevSets(
  sources: readonly TrainingSource[],
  fields: DataFields = DEFAULT_FIELDS,
): Promise<LabeledDataset[]> {
  const out: LabeledDataset[] = [];
  for (const source of sources) out.push(...(await loadSource(source, fields)).dev);
  return out;
}

/**
 * K-fold cross-validation for presets with one source (a language's MARC file): each source's
 * training rows split into `folds` parts by a hash of the row id (sha-256 of "fold:" + id), each
 * part a pseudo-source that holds its own rows out. Leave-one-source-out over these parts is
 * K-fold cross-validation: every model trains on the other K−1 parts and scores the rows of one.
 */
export function splitIntoRowFolds(loaded: readonly LoadedSource[], folds: number): LoadedSource[] {
  if (!Number.isInteger(folds) || folds < 2) throw new Error(`row folds must be an integer ≥ 2, got ${folds}`);
  const foldOf = (row: LabeledRow) =>
    createHash('sha256')
      .update(`fold:${row.id ?? row.text}`)
      .digest()
      .readUInt32BE(0) % folds;
  return loaded.flatMap((l) =>
    Array.from({ length: folds }, (_, k): LoadedSource => {
      const rows = l.train.filter((r) => foldOf(r) === k);
      return {
        source: { ...l.source, name: `${l.source.name} fold ${k + 1}/${folds}`, heldOut: 'all' },
        trainFiles: [],
        train: rows,
        dev: [],
        heldOut: rows,
      };
    }),
  );
}
