import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSfError, type SfError } from '../../src/errors/sf-error.ts';
import {
  detectFormat,
  openReviewFile,
  recordId,
  type FileRecord,
  type ReadOptions,
} from '../../src/ingest/review-file-reader.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sf-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function readAll(
  p: string,
  options: ReadOptions = {},
): Promise<{ records: FileRecord[]; bytesRead: number; totalBytes: number }> {
  const reader = await openReviewFile(p, options);
  const records: FileRecord[] = [];
  for await (const record of reader) records.push(record);
  return { records, bytesRead: reader.bytesRead, totalBytes: reader.totalBytes };
}

/** The records read before the iteration threw, and what it threw (undefined if it did not). */
async function readUntilFailure(
  p: string,
  options: ReadOptions = {},
): Promise<{ records: FileRecord[]; error: unknown }> {
  const reader = await openReviewFile(p, options);
  const records: FileRecord[] = [];
  try {
    for await (const record of reader) records.push(record);
  } catch (error) {
    return { records, error };
  }
  return { records, error: undefined };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('JSONL', () => {
  it('yields one record per line with its line number, skips blank lines, and rejects a bad JSON line alone', async () => {
    const p = file(
      'reviews.jsonl',
      '\uFEFF{"id":"a","text":"first"}\n\n   \n{"id":"b","text":"secret words \n{"id":"c","text":"crlf","rating":4}\r\n42\n{"id":"d","text":"no newline at end"}',
    );
    const { records, bytesRead, totalBytes } = await readAll(p);
    expect(records).toEqual([
      { line: 1, value: { id: 'a', text: 'first' } },
      { line: 4, error: expect.stringMatching(/^invalid JSON: /) },
      { line: 5, value: { id: 'c', text: 'crlf', rating: 4 } },
      { line: 6, value: 42 },
      { line: 7, value: { id: 'd', text: 'no newline at end' } },
    ]);
    expect(bytesRead).toBe(totalBytes);
  });

  it('never quotes the line in a JSON error reason', async () => {
    const { records } = await readAll(file('quoted.ndjson', 'my secret review\n{"id": 1, }\n'));
    expect(records).toHaveLength(2);
    for (const r of records) {
      expect('error' in r && r.error).toMatch(/^invalid JSON/);
      expect(JSON.stringify(r)).not.toMatch(/secret|review/);
    }
  });

  it('handles lines split across read chunks and counts bytes exactly', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({ id: `r-${i}`, text: `review ${'é'.repeat(i % 50)}` }),
    );
    const p = file('many.jsonl', `${lines.join('\n')}\n`);
    const { records, bytesRead, totalBytes } = await readAll(p);
    expect(records).toHaveLength(3000);
    expect(records[2999]).toEqual({ line: 3000, value: JSON.parse(lines[2999]!) });
    expect(records.every((r, i) => r.line === i + 1 && 'value' in r)).toBe(true);
    expect(bytesRead).toBe(totalBytes);
  });

  it('rejects a line over maxLineBytes without buffering it, and goes on', async () => {
    const long = JSON.stringify({ id: 'big', text: 'x'.repeat(200_000) });
    const p = file('long.jsonl', `{"id":"a","text":"ok"}\n${long}\n{"id":"b","text":"ok"}\n`);
    const { records } = await readAll(p, { maxLineBytes: 1000 });
    expect(records).toEqual([
      { line: 1, value: { id: 'a', text: 'ok' } },
      { line: 2, error: 'line longer than 1000 bytes' },
      { line: 3, value: { id: 'b', text: 'ok' } },
    ]);
  });
  it('rejects a line that is not valid UTF-8, naming the line, and goes on (HTTP refuses such bodies too)', async () => {
    const p = file(
      'latin1.jsonl',
      Buffer.concat([
        Buffer.from('{"id":"a","text":"ok"}\n{"id":"b'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('","text":"ok"}\n{"id":"c","text":"caf'),
        Buffer.from([0xe9]), // Latin-1 é
        Buffer.from('"}\n{"id":"d","text":"ok ☺"}\n'),
      ]),
    );
    const { records } = await readAll(p);
    expect(records).toEqual([
      { line: 1, value: { id: 'a', text: 'ok' } },
      { line: 2, error: 'invalid UTF-8' },
      { line: 3, error: 'invalid UTF-8' },
      { line: 4, value: { id: 'd', text: 'ok ☺' } },
    ]);
    expect(JSON.stringify(records)).not.toContain('\ufffd');
  });

  it('never quotes the input in a JSON error reason, whatever the message shape', async () => {
    const secret = `SECRETREVIEW ${'this product is dreadful '.repeat(5)}`;
    const p = file(
      'prose.jsonl',
      `${secret}\n{"id":"a","text":"${secret}" trailing}\n{"id":"b","text":"${secret}\n[1,2\n\u001b[31m\u0007binary\n`,
    );
    const { records } = await readAll(p);
    expect(records).toHaveLength(5);
    for (const r of records) {
      expect('error' in r && r.error).toMatch(/^invalid JSON/);
      expect(JSON.stringify(r)).not.toMatch(/SECRET|dreadful|binary|\\u001b|\\u0007/);
    }
  });

  it('reports the id of a rejected record only as printable text (escaped, cut to 64 characters)', async () => {
    const long = `id-${'x'.repeat(100)}`;
    const p = file(
      'ids.jsonl',
      [
        JSON.stringify({ id: 'ok-1', text: 1 }),
        JSON.stringify({ id: '\u001b[2J\u202eevil', text: 1 }),
        JSON.stringify({ id: long, text: 1 }),
      ].join('\n'),
    );
    const { records } = await readAll(p);
    const ids = records.map((r) => ('value' in r ? recordId(r.value) : undefined));
    expect(ids[0]).toBe('ok-1');
    expect(ids[1]).toBe('\\u{1b}[2J\\u{202e}evil');
    expect(ids[2]).toHaveLength(65);
    expect(ids[2]).toMatch(/^id-x+…$/);
  });
});

describe('CSV', () => {
  it('reads a header row, a BOM, quoted commas and newlines, numeric ratings, JSON metadata; omits empty cells', async () => {
    const p = file(
      'reviews.csv',
      [
        '\uFEFFid,text,rating,title,metadata',
        'a,"Great, really great",5,,',
        '',
        'b,"two',
        'lines, and ""quotes""",4.5,Nice,"{""sku"":""X1"",""n"":2}"',
        'c,"a 5"" screen",three,,',
        '',
      ].join('\r\n'),
    );
    const { records, bytesRead, totalBytes } = await readAll(p);
    expect(records).toEqual([
      { line: 2, value: { id: 'a', text: 'Great, really great', rating: 5 } },
      {
        line: 4,
        value: {
          id: 'b',
          text: 'two\r\nlines, and "quotes"',
          rating: 4.5,
          title: 'Nice',
          metadata: { sku: 'X1', n: 2 },
        },
      },
      // not numeric: left as a string for the validator to reject by field name
      { line: 6, value: { id: 'c', text: 'a 5" screen', rating: 'three' } },
    ]);
    expect(bytesRead).toBe(totalBytes);
  });

  it('reads an explain column as a boolean when it says true or false', async () => {
    const p = file('explain.csv', 'id,text,explain\na,ok,TRUE\nb,ok,false\nc,ok,yes\n');
    const { records } = await readAll(p);
    expect(records.map((r) => ('value' in r ? r.value : r))).toEqual([
      { id: 'a', text: 'ok', explain: true },
      { id: 'b', text: 'ok', explain: false },
      { id: 'c', text: 'ok', explain: 'yes' }, // left for the validator to reject by name
    ]);
  });

  it('rejects records with the wrong number of fields or bad metadata JSON, on their own line, and keeps the rest', async () => {
    const p = file('bad.csv', 'id,text,metadata\na,ok,\nb,too,many,fields\n\nc,"multi\nline",{nope}\nd,fine,\n');
    const { records } = await readAll(p);
    expect(records).toEqual([
      { line: 2, value: { id: 'a', text: 'ok' } },
      { line: 3, error: 'invalid CSV record: 4 fields, the header has 3' },
      { line: 5, id: 'c', error: expect.stringMatching(/^metadata: invalid JSON/) },
      { line: 7, value: { id: 'd', text: 'fine' } },
    ]);
  });

  it('stops at a quote that is never closed, naming the line where its record starts, after the records before it', async () => {
    const { records, error } = await readUntilFailure(file('open-quote.csv', 'id,text\na,ok\nb,"never closed\nc,x\n'));
    expect(records).toEqual([{ line: 2, value: { id: 'a', text: 'ok' } }]);
    expect(isSfError(error, 'SF_ERR_IMPORT')).toBe(true);
    expect((error as SfError).details).toMatchObject({ line: 3, rule: 'CSV_QUOTE_NOT_CLOSED' });
    expect((error as Error).message).toMatch(/^malformed CSV at line 3: /);
  });

  it('never merges the rows after an unclosed quote into a field: the file is refused at that record', async () => {
    // relax_quotes used to read r2's title as `"unclosed title\nr3,fine,t3\nr4,ok,"t4"` and accept it.
    const rows = ['id,text,title', 'r1,good,t1', 'r2,good,"unclosed title', 'r3,fine,t3', 'r4,ok,"t4"', 'r5,ok,t5', ''];
    const { records, error } = await readUntilFailure(file('swallow.csv', rows.join('\n')));
    expect(records).toEqual([{ line: 2, value: { id: 'r1', text: 'good', title: 't1' } }]);
    expect((error as SfError).details).toMatchObject({ line: 3, rule: 'CSV_INVALID_CLOSING_QUOTE' });
    expect((error as Error).message).toMatch(/^malformed CSV at line 3: .*line 5/);
  });

  it('refuses a quote inside an unquoted field (strict RFC 4180), without quoting the field', async () => {
    const { records, error } = await readUntilFailure(
      file('stray-quote.csv', 'id,text\na,ok\nb,SECRETREVIEW a 5" screen\nc,ok\n'),
    );
    expect(records).toEqual([{ line: 2, value: { id: 'a', text: 'ok' } }]);
    expect((error as SfError).details).toMatchObject({ line: 3, rule: 'INVALID_OPENING_QUOTE' });
    expect(JSON.stringify({ records, message: (error as Error).message })).not.toMatch(/SECRET/);
  });

  it('rejects a field that is not valid UTF-8, naming the line and the column, and goes on', async () => {
    const p = file(
      'latin1.csv',
      Buffer.concat([
        Buffer.from('id,text,rating\na,ok,4\nb,caf'),
        Buffer.from([0xe9]),
        Buffer.from(',5\nc'),
        Buffer.from([0xff]),
        Buffer.from(',ok,3\nd,"fine ☺",2\n'),
      ]),
    );
    const { records } = await readAll(p);
    expect(records).toEqual([
      { line: 2, value: { id: 'a', text: 'ok', rating: 4 } },
      { line: 3, id: 'b', error: 'text: invalid UTF-8' },
      { line: 4, error: 'id: invalid UTF-8' },
      { line: 5, value: { id: 'd', text: 'fine ☺', rating: 2 } },
    ]);
  });

  it('refuses a header that is not valid UTF-8 or names a column twice', async () => {
    const binary = await readUntilFailure(
      file(
        'bin-header.csv',
        Buffer.concat([Buffer.from('id,te'), Buffer.from([0xc3, 0x28]), Buffer.from('xt\na,b\n')]),
      ),
    );
    expect(binary.records).toEqual([]);
    expect((binary.error as SfError).details).toMatchObject({ line: 1 });
    expect((binary.error as Error).message).toMatch(/^malformed CSV at line 1: .*UTF-8/);
    const twice = await readUntilFailure(file('twice.csv', 'id,text,text\na,one,two\n'));
    expect(twice.records).toEqual([]);
    expect((twice.error as Error).message).toMatch(/^malformed CSV at line 1: .*"text" twice/);
  });

  it('bounds a record by maxLineBytes (a quote never closed, or a line of commas) before csv-parse buffers it', async () => {
    const commas = await readUntilFailure(file('commas.csv', `id,text\na,ok\nb,${','.repeat(5000)}\nc,ok\n`), {
      maxLineBytes: 1000,
    });
    expect(commas.records).toEqual([{ line: 2, value: { id: 'a', text: 'ok' } }]);
    expect((commas.error as SfError).details).toMatchObject({ line: 3, rule: 'record too long' });
    const open = await readUntilFailure(file('long-quote.csv', `id,text\na,ok\nb,"${'x,\n'.repeat(2000)}`), {
      maxLineBytes: 1000,
    });
    expect(open.records).toEqual([{ line: 2, value: { id: 'a', text: 'ok' } }]);
    expect((open.error as Error).message).toMatch(/^malformed CSV at line 3: .*longer than 1000 bytes/);
  });
});

describe('formats and files', () => {
  it('detects the format by extension, overridable', () => {
    expect(detectFormat('a/b.jsonl')).toBe('jsonl');
    expect(detectFormat('b.NDJSON')).toBe('jsonl');
    expect(detectFormat('c.csv')).toBe('csv');
    expect(detectFormat('d.txt', 'csv')).toBe('csv');
  });

  it('fails with SF_ERR_IMPORT for an unknown extension or format', async () => {
    const p = file('reviews.txt', '{"id":"a","text":"x"}\n');
    const err = await failure(openReviewFile(p));
    expect(isSfError(err, 'SF_ERR_IMPORT')).toBe(true);
    expect((err as Error).message).toMatch(/\.txt.*--format/);
    expect(() => detectFormat(p, 'xml')).toThrow(/unknown import format "xml"/);
    const { records } = await readAll(p, { format: 'jsonl' });
    expect(records).toEqual([{ line: 1, value: { id: 'a', text: 'x' } }]);
  });

  it('fails with SF_ERR_IMPORT naming the path for a missing file or a directory', async () => {
    const missing = path.join(dir, 'nope.jsonl');
    const err = await failure(openReviewFile(missing));
    expect(isSfError(err, 'SF_ERR_IMPORT')).toBe(true);
    expect((err as Error).message).toContain(missing);
    expect((err as Error).message).toMatch(/no such file/);
    const sub = path.join(dir, 'folder.csv');
    mkdirSync(sub);
    const notFile = await failure(openReviewFile(sub));
    expect(isSfError(notFile, 'SF_ERR_IMPORT')).toBe(true);
    expect((notFile as Error).message).toContain(sub);
  });

  it('refuses a FIFO without opening it (opening one blocks until a writer comes)', { timeout: 10_000 }, async () => {
    const fifo = path.join(dir, 'pipe.jsonl');
    execFileSync('mkfifo', [fifo]);
    try {
      const err = await failure(openReviewFile(fifo));
      expect(isSfError(err, 'SF_ERR_IMPORT')).toBe(true);
      expect((err as Error).message).toBe(`import file ${fifo} is a FIFO (named pipe), not a regular file`);
    } finally {
      // Without the check, open() waits in the thread pool: a writer that comes and goes releases it.
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader waiting: nothing to release
      }
    }
  });

  it('refuses a character device', async () => {
    const err = await failure(openReviewFile('/dev/null', { format: 'jsonl' }));
    expect((err as Error).message).toBe('import file /dev/null is a character device, not a regular file');
  });
});
