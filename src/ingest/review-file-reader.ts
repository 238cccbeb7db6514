import { isUtf8 } from 'node:buffer';
import { constants, type ReadStream, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { SfError } from '../errors/sf-error.ts';
import { csvRecords } from './csv-records.ts';
import type { FileRecord } from './file-record.ts';
import { displayText } from './display-text.ts';

export const IMPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export type { FileRecord } from './file-record.ts';

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
  /**
   * A JSONL line longer than this is rejected (and skipped) instead of buffered; a CSV record
   * longer than this stops the read (it is most likely a quote never closed). Default 4 MiB.
   */
  maxLineBytes?: number;
}

const EXTENSIONS: Record<string, ImportFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv' };
const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

/** The format of `file`: `override` if given, else by extension (.jsonl, .ndjson, .csv). */
export function detectFormat(file: string, override?: string): ImportFormat {
  if (override !== undefined) {
    if ((IMPORT_FORMATS as readonly string[]).includes(override)) return override as ImportFormat;
    throw new SfError(
      'SF_ERR_IMPORT',
      `unknown import format ${JSON.stringify(override)}: use ${IMPORT_FORMATS.join(' or ')}`,
      {
        details: { file, format: override },
      },
    );
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
  const reason =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : (err as Error).message;
  return new SfError('SF_ERR_IMPORT', `${what} ${file}: ${reason}`, { cause: err, details: { file, errno: code } });
}

function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notRegularFile(file: string, stats: Stats): SfError {
  const kind = fileKind(stats);
  const message =
    kind === 'not a regular file'
      ? `import file ${file} is not a regular file`
      : `import file ${file} is ${kind}, not a regular file`;
  return new SfError('SF_ERR_IMPORT', message, { details: { file, kind } });
}

// O_NONBLOCK: should the path become a FIFO between stat and open, open returns at once instead of
// waiting for a writer (for a regular file it changes nothing). O_NOCTTY: a terminal never becomes
// the controlling one. Both are 0 where the platform has no such flag.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/**
 * Opens `file` only if it is a regular file (symlinks followed): stat before open, so that a FIFO,
 * device or directory is refused without being opened (opening a FIFO blocks until a writer comes),
 * and fstat after open, so that a path swapped in between is refused too.
 */
async function openRegularFile(file: string): Promise<{ handle: FileHandle; size: number }> {
  let before: Stats;
  try {
    before = await stat(file);
  } catch (err) {
    throw importError(file, err, 'cannot open import file');
  }
  if (!before.isFile()) throw notRegularFile(file, before);
  let handle: FileHandle;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (err) {
    throw importError(file, err, 'cannot open import file');
  }
  try {
    const after = await handle.stat();
    if (!after.isFile()) throw notRegularFile(file, after);
    return { handle, size: after.size };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err instanceof SfError ? err : importError(file, err, 'cannot read import file');
  }
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The UTF-8 byte order mark's length at the start of the file: 3 or 0. */
async function bomLength(handle: FileHandle): Promise<number> {
  const head = Buffer.alloc(UTF8_BOM.length);
  const { bytesRead } = await handle.read(head, 0, head.length, 0);
  return bytesRead === head.length && head.equals(UTF8_BOM) ? head.length : 0;
}

/**
 * Opens an import file and returns its records as an async iterable. Missing, unreadable or
 * non-regular files fail here with SF_ERR_IMPORT; a read error later is thrown by the iteration
 * (also SF_ERR_IMPORT), and so is a CSV file that is malformed from some line on (see
 * malformedCsv). A record that cannot be parsed is yielded as `{ line, error }`.
 */
export async function openReviewFile(file: string, options: ReadOptions = {}): Promise<ReviewFileReader> {
  const format = detectFormat(file, options.format);
  const { handle, size: totalBytes } = await openRegularFile(file);

  const progress = { bytes: 0 };
  let started = false;
  let closed = false;
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;

  async function* records(): AsyncGenerator<FileRecord> {
    if (started) throw new Error('an import file can be iterated only once');
    started = true;
    let stream: ReadStream | undefined;
    try {
      // csv-parse would switch to (lossy) UTF-8 decoding on seeing a BOM: skip it here; JSONL strips it per line.
      const skip = format === 'csv' ? await bomLength(handle) : 0;
      progress.bytes = skip;
      stream = handle.createReadStream({ autoClose: true, start: skip });
      const source =
        format === 'jsonl'
          ? jsonlRecords(stream, progress, maxLineBytes)
          : csvRecords(stream, progress, { file, offset: skip, maxRecordBytes: maxLineBytes, jsonReason });
      for await (const record of source) yield record;
      progress.bytes = Math.max(progress.bytes, totalBytes);
    } catch (err) {
      throw err instanceof SfError ? err : importError(file, err, 'cannot read import file');
    } finally {
      closed = true;
      if (stream) stream.destroy();
      else await handle.close().catch(() => undefined);
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

// V8's JSON.parse messages, as rules that never quote the input.
const JSON_RULES: [RegExp, string][] = [
  [/Unexpected end of JSON input/, 'unexpected end of input'],
  [/Unterminated string/, 'unterminated string'],
  [/Bad control character/, 'control character in a string'],
  [/Bad (escaped character|Unicode escape)/, 'bad escape in a string'],
  [/non-whitespace character after JSON/, 'more after the JSON value'],
  [/Expected ':'/, "expected ':' after a property name"],
  [/Expected ',' or '}'/, "expected ',' or '}'"],
  [/Expected ',' or ']'/, "expected ',' or ']'"],
  [/property name/, 'expected a double-quoted property name'],
  [/No number after minus sign|Unterminated fractional number|Exponent part is missing/, 'malformed number'],
];

/**
 * Why JSON.parse refused a line, as a rule and a position only: its messages quote the input
 * (`Unexpected token 'S', "SECRETREVI"... is not valid JSON`), which must never reach a report.
 */
function jsonReason(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  const rule = JSON_RULES.find(([re]) => re.test(message))?.[1] ?? 'unexpected character';
  const position = /at position (\d+)/.exec(message)?.[1];
  return `invalid JSON: ${rule}${position === undefined ? '' : ` at character ${Number(position) + 1}`}`;
}

/** The review id of a parsed record, if it has a string one, as it may be shown (see displayText). */
export function recordId(value: unknown): string | undefined {
  const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? displayText(id) : undefined;
}

/** Splits a byte stream on "\n" (CRLF tolerated), counting lines and consumed bytes exactly. */
async function* jsonlRecords(
  stream: AsyncIterable<Buffer>,
  progress: { bytes: number },
  maxLineBytes: number,
): AsyncGenerator<FileRecord> {
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
    // Decoding would turn invalid bytes into U+FFFD, even in an id: refused, as HTTP refuses them.
    if (!isUtf8(bytes)) {
      yield { line, error: 'invalid UTF-8' };
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
