import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSfError } from '../../src/errors/sf-error.ts';
import { detectFormat, openReviewFile, type FileRecord, type ReadOptions } from '../../src/ingest/review-file-reader.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sf-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function readAll(p: string, options: ReadOptions = {}): Promise<{ records: FileRecord[]; bytesRead: number; totalBytes: number }> {
  const reader = await openReviewFile(p, options);
  const records: FileRecord[] = [];
  for await (const record of reader) records.push(record);
  return { records, bytesRead: reader.bytesRead, totalBytes: reader.totalBytes };
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
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: `r-${i}`, text: `review ${'é'.repeat(i % 50)}` }));
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
        'c,a 5" screen,three,,',
        '',
      ].join('\r\n'),
    );
    const { records, bytesRead, totalBytes } = await readAll(p);
    expect(records).toEqual([
      { line: 2, value: { id: 'a', text: 'Great, really great', rating: 5 } },
      { line: 4, value: { id: 'b', text: 'two\r\nlines, and "quotes"', rating: 4.5, title: 'Nice', metadata: { sku: 'X1', n: 2 } } },
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
      { line: 3, error: expect.stringMatching(/^invalid CSV record: .*columns length is 3, got 4/) },
      { line: 5, id: 'c', error: expect.stringMatching(/^metadata: invalid JSON/) },
      { line: 7, value: { id: 'd', text: 'fine' } },
    ]);
  });

  it('reports a quote that is never closed as a rejection of the record where it starts', async () => {
    const { records } = await readAll(file('open-quote.csv', 'id,text\na,ok\nb,"never closed\nc,x\n'));
    expect(records).toEqual([{ line: 2, value: { id: 'a', text: 'ok' } }, { line: 3, error: expect.stringMatching(/Quote Not Closed/) }]);
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
});
