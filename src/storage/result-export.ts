import { once } from 'node:events';
import { stringify, type Options as CsvStringifyOptions } from 'csv-stringify/sync';
import {
  RESULT_COLUMNS,
  toStoredResult,
  type ResultRow,
  type StoredResult,
  type TimeWindow,
} from './result-queries.ts';
import type { SqlExecutor } from './sql-client.ts';

export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Which results to export: processed in [from, to) and/or of one product; all when empty. */
export interface ExportFilter {
  window?: TimeWindow;
  productId?: string;
}

export interface ExportOptions extends ExportFilter {
  db: SqlExecutor;
  format: ExportFormat;
  /** Written to with backpressure; not ended (the caller owns it). */
  out: NodeJS.WritableStream;
  /** Rows per query (keyset page). Default 1000. */
  batchSize?: number;
  /** Called after each page with the number of results written so far. */
  onProgress?: (exported: number) => void;
  /** Aborting stops before the next page (the export rejects with the abort reason). */
  signal?: AbortSignal;
}

/**
 * CSV header: the table's columns (the shop's fields last, as they were added); `scores`,
 * `explanation` and `metadata` are JSON, times ISO 8601 UTC, an empty field is null.
 */
export const CSV_COLUMNS = [
  'review_id',
  'product_id',
  'label',
  'score',
  'scores',
  'model_name',
  'model_version',
  'tokens',
  'truncated',
  'batch_size',
  'queued_ms',
  'inference_ms',
  'processed_at',
  'stored_at',
  'explanation',
  'rating',
  'locale',
  'submitted_at',
  'metadata',
  'language',
  'language_source',
  'language_confidence',
] as const;

// The cursor keeps processed_at's microseconds (a JS Date would round them to milliseconds and
// repeat or skip rows at a page boundary), as UTC text that reads back as the same timestamptz.
const SELECT = `SELECT ${RESULT_COLUMNS},
  to_char(processed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
  FROM sentiment_results`;

interface Cursor {
  at: string;
  reviewId: string;
  modelVersion: string;
}

function whereClause(filter: ExportFilter, cursor?: Cursor): { sql: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  if (filter.window)
    conditions.push(`processed_at >= ${param(filter.window.from)} AND processed_at < ${param(filter.window.to)}`);
  if (filter.productId !== undefined) conditions.push(`product_id = ${param(filter.productId)}`);
  if (cursor) {
    // Keyset pagination on the export order, which is unique: (review_id, model_version) is the key.
    const at = param(cursor.at);
    conditions.push(
      `processed_at >= ${at}::timestamptz AND (processed_at, review_id, model_version) > (${at}::timestamptz, ${param(cursor.reviewId)}, ${param(cursor.modelVersion)})`,
    );
  }
  return { sql: conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '', params };
}

/** How many results an export with this filter writes (for a progress bar's total). */
export async function countResults(db: SqlExecutor, filter: ExportFilter = {}): Promise<number> {
  const where = whereClause(filter);
  const { rows } = await db.query<{ n: string | number }>(
    `SELECT count(*) AS n FROM sentiment_results${where.sql}`,
    where.params,
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * CSV as RFC 4180 (csv-stringify): a field is quoted when it holds a quote, comma or line break,
 * and also when it starts or ends with a space. `escape_formulas` (OWASP CSV injection): a field
 * that starts with `=`, `+`, `-`, `@`, tab or CR (or their full-width forms) is prefixed with `'`,
 * so a spreadsheet shows it as text instead of running it (`=HYPERLINK(…)`, `@SUM(A1)`). Review and
 * product ids come from the shop's reviews: any of them may be such a cell. Numbers are written as
 * numbers (a negative one is not prefixed); JSONL export is never altered.
 */
const CSV_OPTIONS: CsvStringifyOptions = {
  escape_formulas: true,
  quoted_match: /^\s|\s$/,
  record_delimiter: 'unix',
};

function csvRecord(r: StoredResult): (string | number)[] {
  return [
    r.reviewId,
    r.productId ?? '',
    r.label,
    r.score,
    JSON.stringify(r.scores),
    r.model.name,
    r.model.version,
    r.tokens,
    String(r.truncated),
    r.batchSize,
    r.timings.queuedMs,
    r.timings.inferenceMs,
    r.processedAt,
    r.storedAt,
    r.explanation === undefined ? '' : JSON.stringify(r.explanation),
    r.rating ?? '',
    r.locale ?? '',
    r.submittedAt ?? '',
    r.metadata === undefined ? '' : JSON.stringify(r.metadata),
    r.language?.tag ?? '',
    r.language?.source ?? '',
    r.language?.confidence ?? '',
  ];
}

async function write(out: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain'); // rejects if the stream emits 'error' first
}

/**
 * Streams the stored results matching the filter to `out`, in (processed_at, review_id,
 * model_version) order: JSONL (one StoredResult per line) or CSV (CSV_COLUMNS header). Reads
 * page by page with keyset pagination (no OFFSET, never more than one page in memory), so any
 * size exports in constant memory and rows stored meanwhile after the cursor are included.
 * Resolves with the number of results written.
 */
export async function exportResults(options: ExportOptions): Promise<number> {
  const { db, format, out } = options;
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be a whole number ≥ 1, got ${batchSize}`);
  let outError: Error | undefined;
  const onOutError = (err: Error) => void (outError ??= err);
  out.on('error', onOutError);
  try {
    if (format === 'csv') await write(out, stringify([[...CSV_COLUMNS]], CSV_OPTIONS));
    let exported = 0;
    let cursor: Cursor | undefined;
    for (;;) {
      options.signal?.throwIfAborted();
      if (outError) throw outError;
      const where = whereClause(options, cursor);
      const { rows } = await db.query<ResultRow & { cursor_at: string }>(
        `${SELECT}${where.sql} ORDER BY processed_at, review_id, model_version LIMIT ${Number(batchSize)}`,
        where.params,
      );
      if (rows.length === 0) break;
      const results = rows.map(toStoredResult);
      await write(
        out,
        format === 'csv'
          ? stringify(results.map(csvRecord), CSV_OPTIONS)
          : results.map((r) => `${JSON.stringify(r)}\n`).join(''),
      );
      exported += rows.length;
      options.onProgress?.(exported);
      const last = rows[rows.length - 1]!;
      cursor = { at: last.cursor_at, reviewId: last.review_id, modelVersion: last.model_version };
      if (rows.length < batchSize) break;
    }
    if (outError) throw outError;
    return exported;
  } finally {
    out.off('error', onOutError);
  }
}
