import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv, type CsvError } from 'csv-parse';
import { SfError } from '../errors/sf-error.ts';

export const IMPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** One record of an import file: the parsed value, or why the record could not be parsed. */
export type FileRecord = { line: number; value: unknown } | { line: number; error: string; id?: string };

export interface ReviewFileReader extends AsyncIterable<FileRecord> {
  readonly file: string;
  readonly format: ImportFormat;
  /** Size of the file when it was opened. */
  readonly totalBytes: number;
  /** Bytes consumed so far (for progress; at most totalBytes, except for a file that grows). */
  readonly bytesRead: number;
  /** Releases the file if it was never (fully) iterated. Safe to call twice. */
  close(): Promise<void>;
}

export interface ReadOptions {
  /** Overrides detection by extension. */
  format?: ImportFormat | undefined;
  /** A JSONL line longer than this is rejected (and skipped) instead of buffered. Default 4 MiB. */
  maxLineBytes?: number;
}

const EXTENSIONS: Record<string, ImportFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv' };
const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

/** The format of `file`: `override` if given, else by extension (.jsonl, .ndjson, .csv). */
export function detectFormat(file: string, override?: string): ImportFormat {
  if (override !== undefined) {
    if ((IMPORT_FORMATS as readonly string[]).includes(override)) return override as ImportFormat;
    throw new SfError('SF_ERR_IMPORT', `unknown import format ${JSON.stringify(override)}: use ${IMPORT_FORMATS.join(' or ')}`, {
      details: { file, format: override },
    });
  }
  const ext = path.extname(file).toLowerCase();
  const format = EXTENSIONS[ext];
  if (format) return format;
  throw new SfError(
    'SF_ERR_IMPORT',
    `cannot tell the format of ${file} from its extension ${JSON.stringify(ext)}: name it .jsonl, .ndjson or .csv, or pass --format jsonl|csv`,
    { details: { file, extension: ext } },
  );
}

function importError(file: string, err: unknown, what: string): SfError {
  const code = (err as NodeJS.ErrnoException).code;
  const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
  return new SfError('SF_ERR_IMPORT', `${what} ${file}: ${reason}`, { cause: err, details: { file, errno: code } });
}

/**
 * Opens an import file and returns its records as an async iterable. Missing, unreadable or
 * non-regular files fail here with SF_ERR_IMPORT; a read error later is thrown by the iteration
 * (also SF_ERR_IMPORT). A record that cannot be parsed is yielded as `{ line, error }`.
 */
export async function openReviewFile(file: string, options: ReadOptions = {}): Promise<ReviewFileReader> {
  const format = detectFormat(file, options.format);
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw importError(file, err, 'cannot open import file');
  }
  let totalBytes: number;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new SfError('SF_ERR_IMPORT', `import file ${file} is not a regular file`, { details: { file } });
    totalBytes = stat.size;
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err instanceof SfError ? err : importError(file, err, 'cannot read import file');
  }

  const progress = { bytes: 0 };
  let started = false;
  let closed = false;
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;

  async function* records(): AsyncGenerator<FileRecord> {
    if (started) throw new Error('an import file can be iterated only once');
    started = true;
    const stream = handle.createReadStream({ autoClose: true });
    try {
      const source = format === 'jsonl' ? jsonlRecords(stream, progress, maxLineBytes) : csvRecords(stream, progress);
      for await (const record of source) yield record;
      progress.bytes = Math.max(progress.bytes, totalBytes);
    } catch (err) {
      throw err instanceof SfError ? err : importError(file, err, 'cannot read import file');
    } finally {
      closed = true;
      stream.destroy();
    }
  }

  return {
    file,
    format,
    totalBytes,
    get bytesRead() {
      return progress.bytes;
    },
    [Symbol.asyncIterator]: records,
    async close() {
      if (closed || started) return;
      closed = true;
      await handle.close().catch(() => undefined);
    },
  };
}

/** JSON.parse messages can quote the input (`"secret text" is not valid JSON`): keep only the reason. */
function jsonReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `invalid JSON: ${message.replace(/,\s*".*" is not valid JSON$/s, '')}`;
}

/** The review id of a parsed record, if it has a string one (for rejection reports). */
export function recordId(value: unknown): string | undefined {
  const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id.slice(0, 128) : undefined;
}

/** Splits a byte stream on "\n" (CRLF tolerated), counting lines and consumed bytes exactly. */
async function* jsonlRecords(stream: AsyncIterable<Buffer>, progress: { bytes: number }, maxLineBytes: number): AsyncGenerator<FileRecord> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let oversized = false; // the current line is over the limit: drop its bytes until its newline
  let line = 0;

  function* emit(bytes: Buffer, consumed: number): Generator<FileRecord> {
    line += 1;
    progress.bytes += consumed;
    if (oversized) {
      oversized = false;
      yield { line, error: `line longer than ${maxLineBytes} bytes` };
      return;
    }
    let text = bytes.toString('utf8');
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') return;
    try {
      yield { line, value: JSON.parse(text) as unknown };
    } catch (err) {
      yield { line, error: jsonReason(err) };
    }
  }

  for await (const chunk of stream) {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, nl);
      const consumed = pendingBytes + piece.length + 1;
      const whole = oversized ? piece : pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      if (!oversized && whole.length > maxLineBytes) oversized = true;
      pending = [];
      pendingBytes = 0;
      yield* emit(whole, consumed);
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0) continue;
    pendingBytes += rest.length;
    if (!oversized) {
      pending.push(rest);
      if (pendingBytes > maxLineBytes) {
        oversized = true;
        pending = [];
      }
    }
  }
  if (pendingBytes > 0 || oversized) yield* emit(Buffer.concat(pending), pendingBytes);
}

/** A CSV cell as a review field: `rating` as a number when numeric, `explain` as a boolean when true/false, `metadata` as JSON. */
function convertRow(row: Record<string, string>): { value: Record<string, unknown> } | { error: string } {
  const out: Record<string, unknown> = {};
  for (const [column, cell] of Object.entries(row)) {
    if (cell === '' || cell === undefined) continue;
    if (column === 'rating' && cell.trim() !== '' && Number.isFinite(Number(cell))) out[column] = Number(cell);
    else if (column === 'explain' && /^(true|false)$/i.test(cell.trim())) out[column] = cell.trim().toLowerCase() === 'true';
    else if (column === 'metadata') {
      try {
        out[column] = JSON.parse(cell) as unknown;
      } catch (err) {
        return { error: `metadata: ${jsonReason(err)}` };
      }
    } else out[column] = cell;
  }
  return { value: out };
}

/** Line breaks inside a raw record, not counting the delimiters around it. */
function innerNewlines(raw: string | undefined): number {
  if (!raw) return 0;
  let count = 0;
  const inner = raw.replace(/^[\r\n]+|[\r\n]+$/g, '');
  for (let i = inner.indexOf('\n'); i !== -1; i = inner.indexOf('\n', i + 1)) count += 1;
  return count;
}

/**
 * CSV with a header row. A record's line is the line it starts on (records can span lines).
 * Records csv-parse cannot make sense of (wrong number of fields, a quote never closed) are
 * yielded as errors in file order; the other records still come through.
 */
async function* csvRecords(stream: NodeJS.ReadableStream, progress: { bytes: number }): AsyncGenerator<FileRecord> {
  // Line numbers from the raw text of each record and the count of skipped blank lines: csv-parse's
  // own `lines` counts a CRLF inside a quoted field twice. Both callbacks run in file order.
  let nextLine = 2; // after a one-line header
  let emptyLines = 0;
  const startLine = (raw: string | undefined, emptyNow: number): number => {
    const line = nextLine + Math.max(0, emptyNow - emptyLines);
    emptyLines = emptyNow;
    nextLine = line + innerNewlines(raw) + 1;
    return line;
  };
  const skipped: FileRecord[] = [];
  const parser = parseCsv({
    columns: true,
    bom: true,
    relax_quotes: true, // a quote inside an unquoted field (5" screen) is text
    skip_empty_lines: true,
    skip_records_with_error: true,
    raw: true,
    // With `raw`, csv-parse hands over { record, raw }.
    on_record: (item: { record: Record<string, string>; raw: string }, context: { empty_lines: number }) => ({
      line: startLine(item.raw, context.empty_lines),
      record: item.record,
    }),
    on_skip: (err: CsvError | undefined, raw: string | undefined) => {
      if (!err) return undefined;
      const emptyNow = (err as unknown as { empty_lines?: unknown }).empty_lines;
      const line = startLine(raw, typeof emptyNow === 'number' ? emptyNow : emptyLines);
      skipped.push({ line, error: `invalid CSV record: ${err.message.replace(/\s+(on|at) line \d+$/, '')}` });
      return undefined;
    },
  });
  stream.on('error', (err: Error) => parser.destroy(err));
  stream.pipe(parser);
  for await (const item of parser as AsyncIterable<{ line: number; record: Record<string, string> }>) {
    while (skipped.length > 0 && skipped[0]!.line < item.line) yield skipped.shift()!;
    progress.bytes = parser.info.bytes;
    const converted = convertRow(item.record);
    const id = item.record.id ? item.record.id.slice(0, 128) : undefined;
    yield 'value' in converted ? { line: item.line, value: converted.value } : { line: item.line, error: converted.error, ...(id ? { id } : {}) };
  }
  yield* skipped.splice(0);
  progress.bytes = parser.info.bytes;
}
