/**
 * Reads labeled text files for training and evaluation: JSON Lines (.jsonl, .ndjson; .json holds
 * JSON Lines or one array), CSV (.csv, with a header row) and TSV (.tsv, header row, no quoting).
 * Each row yields the text the model reads, title and text joined exactly as the workers join
 * them (reviewModelText), and its label as a string (numeric labels such as star ratings too).
 * With `labelFrom: 'rating'`, the label comes from a 1–5 star field instead, as the shared data
 * sets derive theirs: 1–2 → negative, 4–5 → positive, 3 left out; with `labelFrom: 'stars'` it is
 * the star rating itself ("1".."5").
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { SfError } from '../errors/sf-error.ts';
import { reviewModelText } from '../tokenize/review-text.ts';

export interface DataFields {
  /** Field holding the review text; default 'text'. */
  textField: string;
  /** Field holding the label; default 'label'. */
  labelField: string;
  /** Field holding an optional title joined before the text; default 'title'. Absent or empty: no title. */
  titleField: string | undefined;
  /** Field holding an optional 1–5 star rating; default 'rating'. */
  ratingField?: string | undefined;
  /** Field holding an optional row id; default 'id'. */
  idField?: string | undefined;
  /** Field holding an optional BCP 47 locale; default 'locale'. */
  localeField?: string | undefined;
  /** Field holding an optional source name (shop, corpus), for eval --group-by source; default 'source'. */
  sourceField?: string | undefined;
}

export const DEFAULT_FIELDS: DataFields = { textField: 'text', labelField: 'label', titleField: 'title' };

export type LabelFrom = 'label' | 'rating' | 'stars';

export interface ReadOptions {
  /**
   * `label` (default): the label field. `rating`: from the 1–5 star rating field, 1–2 → negative,
   * 4–5 → positive, 3 left out. `stars`: the star rating itself, "1".."5".
   */
  labelFrom?: LabelFrom | undefined;
}

export interface LabeledRow {
  text: string;
  label: string;
  id?: string;
  rating?: number;
  locale?: string;
  source?: string;
}

export interface LabeledDataset {
  file: string;
  rows: LabeledRow[];
  /** Rows left out because their text (with title) is empty, or (labelFrom rating) rated 3 stars. */
  skipped: number;
}

/** The binary label a 1–5 star rating stands for; undefined for 3 stars (neither). */
export function labelOfRating(rating: number): 'negative' | 'positive' | undefined {
  return rating <= 2 ? 'negative' : rating >= 4 ? 'positive' : undefined;
}

type Format = 'jsonl' | 'csv' | 'tsv';

function formatOf(file: string): Format {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  throw new SfError('SF_ERR_IMPORT', `${file}: unknown data format "${ext}" (use .jsonl, .json, .csv or .tsv)`, {
    details: { file },
  });
}

function importError(file: string, where: string, problem: string, cause?: unknown): SfError {
  return new SfError('SF_ERR_IMPORT', `${file}${where}: ${problem}`, { cause, details: { file } });
}

/** Parsed records with the line (or row) number each came from. */
function parseRecords(file: string, content: string, format: Format): { line: number; record: unknown }[] {
  if (format === 'jsonl') {
    const trimmed = content.replace(/^\uFEFF/, '').trimStart();
    if (trimmed.startsWith('[')) {
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch (err) {
        throw importError(file, '', `is not a valid JSON array (${(err as Error).message})`, err);
      }
      return (value as unknown[]).map((record, i) => ({ line: i + 1, record }));
    }
    const out: { line: number; record: unknown }[] = [];
    content
      .replace(/^\uFEFF/, '')
      .split('\n')
      .forEach((text, i) => {
        if (text.trim() === '') return;
        try {
          out.push({ line: i + 1, record: JSON.parse(text) });
        } catch (err) {
          throw importError(file, `:${i + 1}`, `is not valid JSON (${(err as Error).message})`, err);
        }
      });
    return out;
  }
  try {
    const records = parseCsv(content, {
      columns: true,
      bom: true,
      skip_empty_lines: true,
      delimiter: format === 'tsv' ? '\t' : ',',
      quote: format === 'tsv' ? false : '"',
    }) as Record<string, string>[];
    return records.map((record, i) => ({ line: i + 2, record })); // line 1 is the header
  } catch (err) {
    throw importError(file, '', `is not valid ${format.toUpperCase()} (${(err as Error).message})`, err);
  }
}

/** A 1–5 star rating, else undefined (a field on another scale is not a star rating). */
function ratingOf(value: unknown): number | undefined {
  const rating =
    typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isInteger(rating) && rating >= 1 && rating <= 5 ? rating : undefined;
}

function toRow(
  file: string,
  line: number,
  record: unknown,
  fields: DataFields,
  options: ReadOptions,
): LabeledRow | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    throw importError(file, `:${line}`, 'is not an object');
  const r = record as Record<string, unknown>;
  const missing = (field: string, flag: string) =>
    importError(
      file,
      `:${line}`,
      `has no "${field}" field (fields: ${Object.keys(r).join(', ')}); choose one with ${flag}`,
    );
  const ratingField = fields.ratingField ?? 'rating';
  const from = options.labelFrom ?? 'label';
  if (!(fields.textField in r)) throw missing(fields.textField, '--text-field');
  if (from !== 'label' && !(ratingField in r))
    throw importError(file, `:${line}`, `has no "${ratingField}" field (fields: ${Object.keys(r).join(', ')})`);
  if (from === 'label' && !(fields.labelField in r)) throw missing(fields.labelField, '--label-field');
  const text = r[fields.textField];
  const rating = ratingOf(r[ratingField]);
  if (from !== 'label' && rating === undefined)
    throw importError(file, `:${line}`, `field "${ratingField}" must be a star rating 1..5`);
  const label = from === 'rating' ? labelOfRating(rating!) : from === 'stars' ? String(rating) : r[fields.labelField];
  if (label === undefined) return undefined;
  const title = fields.titleField === undefined ? undefined : r[fields.titleField];
  if (typeof text !== 'string') throw importError(file, `:${line}`, `field "${fields.textField}" must be a string`);
  if (title !== undefined && title !== null && typeof title !== 'string')
    throw importError(file, `:${line}`, `field "${fields.titleField}" must be a string`);
  if (!(typeof label === 'string' && label.trim() !== '') && !(typeof label === 'number' && Number.isFinite(label))) {
    throw importError(file, `:${line}`, `field "${fields.labelField}" must be a non-empty string or a number`);
  }
  const joined = reviewModelText({ title: title ?? undefined, text });
  if (joined.trim() === '') return undefined;
  const row: LabeledRow = { text: joined, label: String(label).trim() };
  const id = r[fields.idField ?? 'id'];
  const locale = r[fields.localeField ?? 'locale'];
  if (typeof id === 'string' || typeof id === 'number') row.id = String(id);
  if (rating !== undefined) row.rating = rating;
  if (typeof locale === 'string' && locale !== '') row.locale = locale;
  const source = r[fields.sourceField ?? 'source'];
  if (typeof source === 'string' && source !== '') row.source = source;
  return row;
}

/** Reads one labeled data file. Throws SF_ERR_IMPORT naming the file and line on bad data. */
export async function readLabeledData(
  file: string,
  fields: DataFields = DEFAULT_FIELDS,
  options: ReadOptions = {},
): Promise<LabeledDataset> {
  const format = formatOf(file);
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (err) {
    throw importError(file, '', `cannot be read (${(err as Error).message})`, err);
  }
  const rows: LabeledRow[] = [];
  let skipped = 0;
  for (const { line, record } of parseRecords(file, content, format)) {
    const row = toRow(file, line, record, fields, options);
    if (row) rows.push(row);
    else skipped++;
  }
  if (rows.length === 0) throw importError(file, '', 'holds no labeled rows');
  return { file, rows, skipped };
}

/** The distinct labels in order: numerically when all are numbers (1..5 stars), else alphabetically. */
export function labelSet(datasets: readonly LabeledDataset[]): string[] {
  const labels = [...new Set(datasets.flatMap((d) => d.rows.map((r) => r.label)))];
  const numeric = labels.every((l) => l !== '' && Number.isFinite(Number(l)));
  return numeric ? labels.sort((a, b) => Number(a) - Number(b)) : labels.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
