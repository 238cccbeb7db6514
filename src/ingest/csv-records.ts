import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import { parse as parseCsv, type CsvError, type Options as CsvOptions } from 'csv-parse';
import { SfError } from '../errors/sf-error.ts';
import { displayText } from './display-text.ts';
import type { FileRecord } from './file-record.ts';

/**
 * CSV import files, read strictly (RFC 4180): a field that holds a quote, comma or line break is
 * quoted, and a quote inside it is doubled. Two kinds of problem:
 * - a record that does not fit (wrong number of fields, a field that is not valid UTF-8, bad
 *   `metadata` JSON) is yielded as `{ line, error }` and reading goes on: the records around it
 *   were delimited properly;
 * - a quoting error (a quote never closed, a quote inside an unquoted field, a closing quote not
 *   followed by a comma or line break), a record longer than the limit, or a bad header row means
 *   that from there on nobody can tell where records start: the read stops with SF_ERR_IMPORT
 *   (`details.line`: the line where that record starts), after every record before it.
 * Quotes are never relaxed: a relaxed quote let an unclosed one swallow the rows after it into
 * one field, silently.
 */

/** csv-parse codes after which the rest of the file cannot be read reliably, as rules. */
const MALFORMED: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  CSV_INVALID_CLOSING_QUOTE:
    'a closing quote is followed by something other than a comma or a line break (a quote inside a quoted field is written "")',
  INVALID_OPENING_QUOTE: 'a quote inside an unquoted field (quote the field and double the quote: "a 5"" screen")',
};
const WRONG_FIELD_COUNT = new Set(['CSV_RECORD_INCONSISTENT_COLUMNS', 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH']);

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** The error that stops a CSV read at `line` (where the bad record starts). */
export function malformedCsv(file: string, line: number, rule: string, reason: string, detectedAt?: number): SfError {
  const where =
    detectedAt !== undefined && detectedAt > line ? ` (the record starting there runs to line ${detectedAt})` : '';
  return new SfError('SF_ERR_IMPORT', `malformed CSV at line ${line}: ${reason}${where}`, {
    details: { file, line, rule },
  });
}

/**
 * csv-parse decodes as latin1, which maps each byte to one character and back losslessly (its
 * `encoding: null` would hand over bytes, but then any CsvError with `raw` throws in 7.0.3): the
 * bytes of a cell are checked for UTF-8 and decoded here.
 */
const CSV_ENCODING = 'latin1';
const bytesOf = (cell: string) => Buffer.from(cell, CSV_ENCODING);

/** Line breaks inside a raw record, not counting the delimiters around it. */
function innerNewlines(raw: string | undefined): number {
  if (!raw) return 0;
  let count = 0;
  const inner = raw.replace(/^[\r\n]+|[\r\n]+$/g, '');
  for (let i = inner.indexOf('\n'); i !== -1; i = inner.indexOf('\n', i + 1)) count += 1;
  return count;
}

/**
 * Passes the bytes on until a record (quote parity tells where records end: exact for valid CSV)
 * grows past `maxBytes`, then ends the stream before that record and calls `onTooLong` with the
 * line it starts on. csv-parse's own max_record_size counts neither empty fields nor, without
 * decoding, whole records: a line of commas or a quote never closed would be buffered whole.
 */
async function* boundRecords(
  source: AsyncIterable<Buffer>,
  maxBytes: number,
  onTooLong: (line: number) => void,
): AsyncGenerator<Buffer> {
  let quoted = false;
  let size = 0;
  let line = 1;
  let startLine = 1;
  for await (const chunk of source) {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === LF) line += 1;
      if (byte === QUOTE) quoted = !quoted;
      else if (!quoted && (byte === LF || byte === CR)) {
        size = 0;
        startLine = line;
        continue;
      }
      size += 1;
      if (size > maxBytes) {
        if (i > 0) yield chunk.subarray(0, i);
        onTooLong(startLine);
        return;
      }
    }
    yield chunk;
  }
}

/** A CSV cell as a review field: `rating` as a number when numeric, `explain` as a boolean when true/false, `metadata` as JSON. */
function convertRow(line: number, row: Record<string, string>, jsonReason: (err: unknown) => string): FileRecord {
  const idBytes = row.id ? bytesOf(row.id) : undefined;
  const id = idBytes && isUtf8(idBytes) ? displayText(idBytes.toString('utf8')) : undefined;
  const fail = (error: string): FileRecord => ({ line, error, ...(id === undefined ? {} : { id }) });
  const out: Record<string, unknown> = {};
  for (const [column, raw] of Object.entries(row)) {
    if (raw === undefined || raw === '') continue;
    // Decoding would turn invalid bytes into U+FFFD, even in an id: refused, as HTTP refuses them.
    const bytes = bytesOf(raw);
    if (!isUtf8(bytes)) return fail(`${displayText(column)}: invalid UTF-8`);
    const cell = bytes.toString('utf8');
    if (column === 'rating' && cell.trim() !== '' && Number.isFinite(Number(cell))) out[column] = Number(cell);
    else if (column === 'explain' && /^(true|false)$/i.test(cell.trim()))
      out[column] = cell.trim().toLowerCase() === 'true';
    else if (column === 'metadata') {
      try {
        out[column] = JSON.parse(cell) as unknown;
      } catch (err) {
        return fail(`metadata: ${jsonReason(err)}`);
      }
    } else out[column] = cell;
  }
  return { line, value: out };
}

export interface CsvReadOptions {
  file: string;
  /** Bytes before the stream's first byte (a skipped BOM), for progress. */
  offset: number;
  maxRecordBytes: number;
  /** Why JSON.parse refused a `metadata` cell, without quoting it. */
  jsonReason: (err: unknown) => string;
}

/**
 * CSV with a header row. A record's line is the line it starts on (records can span lines). Cells
 * are read as bytes (see CSV_ENCODING) and checked for UTF-8 before decoding.
 */
export async function* csvRecords(
  stream: AsyncIterable<Buffer>,
  progress: { bytes: number },
  options: CsvReadOptions,
): AsyncGenerator<FileRecord> {
  const { file, maxRecordBytes } = options;
  // Line numbers from the raw bytes of each record and the count of skipped blank lines: csv-parse's
  // own `lines` counts a CRLF inside a quoted field twice. Both callbacks run in file order.
  let nextLine = 2; // after a one-line header
  let emptyLines = 0;
  const startLine = (raw: string | undefined, emptyNow: number): { line: number; last: number } => {
    const line = nextLine + Math.max(0, emptyNow - emptyLines);
    emptyLines = emptyNow;
    const last = line + innerNewlines(raw);
    nextLine = last + 1;
    return { line, last };
  };
  let headerColumns = 0;
  // The first reason to stop, by line: records from its line on are never yielded.
  let stop: SfError | undefined;
  const stopLine = () => (stop?.details?.line as number | undefined) ?? Number.POSITIVE_INFINITY;
  const stopAt = (err: SfError) => {
    if ((err.details?.line as number) < stopLine()) stop = err;
  };
  const skipped: FileRecord[] = [];

  const csvOptions: CsvOptions = {
    encoding: CSV_ENCODING,
    bom: false, // skipped before the stream: csv-parse would switch to (lossy) UTF-8 decoding on seeing one
    columns: (header: string[]) => {
      const names = header.map((cell) => {
        const bytes = bytesOf(cell);
        if (!isUtf8(bytes)) throw malformedCsv(file, 1, 'header', 'the header row is not valid UTF-8');
        return bytes.toString('utf8');
      });
      const twice = names.find((name, i) => names.indexOf(name) !== i);
      if (twice !== undefined)
        throw malformedCsv(file, 1, 'header', `the header names column ${JSON.stringify(displayText(twice))} twice`);
      headerColumns = names.length;
      return names;
    },
    skip_empty_lines: true,
    skip_records_with_error: true,
    raw: true,
    // With `raw`, csv-parse hands over { record, raw }.
    on_record: (item: { record: Record<string, string>; raw: string }, context: { empty_lines: number }) => ({
      line: startLine(item.raw, context.empty_lines).line,
      record: item.record,
    }),
    on_skip: (err: CsvError | undefined, raw: string | undefined) => {
      if (!err) return undefined;
      const context = err as unknown as { empty_lines?: unknown; lines?: unknown; record?: unknown };
      const at = startLine(raw, typeof context.empty_lines === 'number' ? context.empty_lines : emptyLines);
      const line = headerColumns === 0 ? 1 : at.line;
      if (WRONG_FIELD_COUNT.has(err.code)) {
        const fields = Array.isArray(context.record) ? context.record.length : undefined;
        const span = at.last > at.line ? ` (it spans lines ${at.line}–${at.last}: is a quote misplaced?)` : '';
        skipped.push({
          line,
          error: `invalid CSV record: ${fields ?? 'a different number of'} fields, the header has ${headerColumns}${span}`,
        });
      } else {
        stopAt(
          malformedCsv(
            file,
            line,
            err.code,
            MALFORMED[err.code] ?? 'the file cannot be parsed',
            typeof context.lines === 'number' ? context.lines : undefined,
          ),
        );
      }
      return undefined;
    },
  } as unknown as CsvOptions;
  const parser = parseCsv(csvOptions);
  const source = Readable.from(
    boundRecords(stream, maxRecordBytes, (line) =>
      stopAt(
        malformedCsv(
          file,
          line,
          'record too long',
          `a record longer than ${maxRecordBytes} bytes (is a quote never closed?)`,
        ),
      ),
    ),
    { objectMode: false },
  );
  source.on('error', (err: Error) => parser.destroy(err));
  source.pipe(parser);

  const check = (line: number) => {
    if (stop && line >= stopLine()) throw stop;
  };
  try {
    for await (const item of parser as AsyncIterable<{ line: number; record: Record<string, string> }>) {
      while (skipped.length > 0 && skipped[0]!.line < item.line) {
        const rejected = skipped.shift()!;
        check(rejected.line);
        yield rejected;
      }
      check(item.line);
      progress.bytes = options.offset + parser.info.bytes;
      yield convertRow(item.line, item.record, options.jsonReason);
    }
    for (const rejected of skipped.splice(0)) {
      check(rejected.line);
      yield rejected;
    }
    if (stop) throw stop;
    progress.bytes = options.offset + parser.info.bytes;
  } catch (err) {
    if (err instanceof SfError) throw err;
    // Any other csv-parse error (its messages may quote the input): the file is malformed from here.
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^(CSV_|INVALID_)/.test(code))
      throw malformedCsv(file, nextLine, code, 'the file cannot be parsed');
    throw err;
  } finally {
    source.destroy();
    parser.destroy();
  }
}
