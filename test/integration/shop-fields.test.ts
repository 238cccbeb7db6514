// The shop's fields (rating, locale, submittedAt, metadata) in storage, on PostgreSQL and PGlite:
// round trips (directly and through the sink), the upgrade from migration 1, windows by when the
// customer wrote the review vs when it was processed, rating agreement and the label settings.
// Expected figures are computed here from the fixtures, independently of src/results/label-polarity.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { decodeJobFailure } from '../../src/contracts/job-failure.ts';
import { DEFAULT_LABEL_SETS, type LabelSets } from '../../src/results/label-polarity.ts';
import type { SentimentResult } from '../../src/contracts/result-contract.ts';
import { migrate, migrations } from '../../src/storage/migrations.ts';
import {
  createResultQueries,
  TIME_OF,
  type ResultQueries,
  type TimeBasis,
  type TimeWindow,
} from '../../src/storage/result-queries.ts';
import { upsertResults } from '../../src/storage/result-store.ts';
import type { SqlClient } from '../../src/storage/sql-client.ts';
import { seededRandom } from '../../src/training/seeded-random.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { uniqueName, useTestRedis } from '../helpers/redis.ts';
import { expectedStored, makeResult, withoutStoredAt } from '../helpers/results.ts';
import { startSink } from '../helpers/sink.ts';
import { storageBackends } from '../helpers/storage-backends.ts';

const database = await createTestDatabase();
const redis = useTestRedis(() => database?.drop());

const DAY = 86_400_000;
const MINUTE = 60_000;
const YEAR_2033 = Date.parse('2033-01-01T00:00:00.000Z');
const IMPORTED_AT = Date.parse('2034-02-01T09:00:00.000Z');

/** An ISO 8601 date-time of instant `ms` written with a UTC offset of `offsetMin` minutes. */
function withOffset(ms: number, offsetMin: number): string {
  const local = new Date(ms + offsetMin * MINUTE).toISOString().slice(0, -1);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * A product's imported year of history (one review a day of 2033, written with various offsets,
 * all processed within six minutes of IMPORTED_AT) and 40 live reviews with no submittedAt,
 * processed over the same minutes. Labels include `Negative` (case) and `neutral`; ratings include
 * none, 0, 2.5, 3 and 3.5.
 */
function importedHistory(product: string, seed: number): SentimentResult[] {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const labels = ['positive', 'negative', 'Negative', 'neutral'];
  const ratings = [undefined, 0, 1, 2, 2.5, 3, 3.5, 4, 4.5, 5];
  const offsets = [0, 120, -300, 330, 840, -720];
  const result = (id: string, processedAt: number, submittedAt?: string) => {
    const rating = pick(ratings);
    return makeResult(id, {
      productId: product,
      label: pick(labels),
      score: Math.round((0.34 + 0.66 * random()) * 1e4) / 1e4,
      processedAt: new Date(processedAt).toISOString(),
      ...(submittedAt !== undefined ? { submittedAt } : {}),
      ...(rating !== undefined ? { rating } : {}),
    });
  };
  const imported = Array.from({ length: 365 }, (_, day) =>
    result(
      `${product}-h${day}`,
      IMPORTED_AT + day * 997,
      withOffset(YEAR_2033 + day * DAY + Math.floor(random() * DAY), pick(offsets)),
    ),
  );
  const live = Array.from({ length: 40 }, (_, i) => result(`${product}-l${i}`, IMPORTED_AT + i * 8_999 + 500));
  return [...imported, ...live];
}

const timeOf = (r: SentimentResult, by: TimeBasis) =>
  Date.parse(by === 'submitted' ? (r.submittedAt ?? r.processedAt) : r.processedAt);
const within = (rows: SentimentResult[], window: TimeWindow, by: TimeBasis) =>
  rows.filter((r) => timeOf(r, by) >= window.from.getTime() && timeOf(r, by) < window.to.getTime());

/** The summary, written out: 1–2 stars (0 too) expect a negative label, 4–5 a positive one. */
function expectedSummary(productId: string, rows: SentimentResult[], sets: LabelSets = DEFAULT_LABEL_SETS) {
  const labels: Record<string, number> = {};
  for (const r of rows) labels[r.label] = (labels[r.label] ?? 0) + 1;
  const isNegative = (r: SentimentResult) => sets.negative.includes(r.label.toLowerCase());
  const isPositive = (r: SentimentResult) => sets.positive.includes(r.label.toLowerCase());
  const rated = rows.filter((r) => r.rating !== undefined && (r.rating <= 2 || r.rating >= 4));
  const agreeing = rated.filter((r) => (r.rating! <= 2 ? isNegative(r) : isPositive(r)));
  return {
    productId,
    total: rows.length,
    labels,
    meanScore: rows.length ? expect.closeTo(rows.reduce((s, r) => s + r.score, 0) / rows.length, 9) : null,
    negativeShare: rows.length ? rows.filter(isNegative).length / rows.length : null,
    ratingAgreement: rated.length
      ? { rated: rated.length, agreeing: agreeing.length, share: agreeing.length / rated.length }
      : null,
  };
}

function perMinute(rows: SentimentResult[], by: TimeBasis) {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const key = `${new Date(Math.floor(timeOf(r, by) / MINUTE) * MINUTE).toISOString()}|${r.label}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, count]) => ({ minute: k.split('|')[0]!, label: k.split('|')[1]!, count }));
}
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortPoints = (points: { minute: string; label: string; count: number }[]) =>
  [...points].sort((a, b) => byCodePoint(a.minute, b.minute) || byCodePoint(a.label, b.label));

/** Every field set, awkward values included. */
function fullResults(prefix: string): SentimentResult[] {
  const metadata = {
    orderId: 'A-1',
    'ключ "q"': 'значение, 🚀\nline',
    qty: 3,
    ratio: 0.125,
    big: 12345678901234567000,
    gift: true,
    note: null,
    empty: '',
  };
  return [
    makeResult(`${prefix}-full`, {
      rating: 4.5,
      locale: 'pt-BR',
      submittedAt: '2024-02-29T23:30:00.250+05:30',
      metadata,
    }),
    makeResult(`${prefix}-zero`, {
      rating: 0,
      locale: 'zh-Hant-TW',
      submittedAt: '0001-01-01T00:00:00Z',
      metadata: {},
    }),
    makeResult(`${prefix}-five`, { rating: 5, submittedAt: '9999-12-31T23:59:59.999Z' }),
    makeResult(`${prefix}-west`, { locale: 'en', submittedAt: '2024-01-01T00:00:00-14:00' }),
    makeResult(`${prefix}-none`),
  ];
}

describe.each(storageBackends(database).map((b) => [b.name, b] as const))(
  "the shop's fields on %s",
  (_name, backend) => {
    const test = backend.skip ? it.skip : it;
    let db: SqlClient;
    let queries: ResultQueries;
    let cleanup: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      if (backend.skip) return;
      ({ db, cleanup } = await backend.open());
      await migrate(db);
      queries = createResultQueries(db, { labels: DEFAULT_LABEL_SETS });
    });
    afterAll(async () => {
      await cleanup?.();
    });

    test('a stored result round-trips rating, locale, submittedAt and metadata, directly and through the sink', async () => {
      const direct = fullResults(uniqueName('direct'));
      await db.transaction((tx) => upsertResults(tx, direct));
      for (const r of direct)
        expect((await queries.byReviewId(r.reviewId)).map(withoutStoredAt)).toEqual([expectedStored(r)]);
      // What the columns hold: the instant, the number, the jsonb.
      const raw = await db.query<{
        rating: number;
        locale: string;
        epoch: string | number;
        order_id: string;
        qty: string;
      }>(
        "SELECT rating, locale, extract(epoch FROM submitted_at) * 1000 AS epoch, metadata->>'orderId' AS order_id, metadata->>'qty' AS qty FROM sentiment_results WHERE review_id = $1",
        [direct[0]!.reviewId],
      );
      expect(raw.rows.map((r) => ({ ...r, epoch: Number(r.epoch) }))).toEqual([
        { rating: 4.5, locale: 'pt-BR', epoch: Date.parse('2024-02-29T18:00:00.250Z'), order_id: 'A-1', qty: '3' },
      ]);
      expect((await queries.byReviewId(direct[0]!.reviewId))[0]!.submittedAt).toBe('2024-02-29T18:00:00.250Z');
      expect((await queries.byReviewId(direct[1]!.reviewId))[0]!.submittedAt).toBe('0001-01-01T00:00:00.000Z');
      expect(Object.keys((await queries.byReviewId(direct[4]!.reviewId))[0]!)).not.toEqual(
        expect.arrayContaining(['rating']),
      );

      // Through the results queue: a result batch job, as workers publish it. A result whose fields
      // break the review's rules fails alone, naming the field; the others are stored.
      const h = await startSink(redis.current.url, db);
      try {
        const prefix = uniqueName('sink');
        const good = fullResults(prefix);
        const bad = [
          makeResult(`${prefix}-year0`, { submittedAt: '0000-06-01T00:00:00Z' }),
          makeResult(`${prefix}-nul`, { metadata: { note: 'a\u0000b' } }),
        ];
        await h.addBatches([good, [good[0]!, ...bad]], prefix);
        await h.settled(2);
        expect(await h.counts()).toMatchObject({ completed: 1, failed: 1 });
        const failed = await h.queue.getJob(`${prefix}-1`);
        expect(decodeJobFailure(failed!.failedReason)).toEqual({
          code: 'SF_ERR_BAD_JOB',
          message: "2 of the job's 3 result(s) malformed or refused by the database; the others are stored",
          problems: [
            {
              path: 'results.1.submittedAt',
              message: expect.stringContaining('submittedAt must fall in the years 0001–9999'),
            },
            { path: 'results.2.metadata.note', message: 'a metadata value must not contain U+0000' },
          ],
        });
        for (const r of good)
          expect((await queries.byReviewId(r.reviewId)).map(withoutStoredAt)).toEqual([expectedStored(r)]);
        for (const r of bad) expect(await queries.byReviewId(r.reviewId)).toEqual([]);
      } finally {
        await h.close();
      }
    });

    test('upgrading a database with migration 1 rows: they keep NULL, read back without the fields and count at their processing time', async () => {
      const fresh = await backend.fresh();
      try {
        const old = fresh.db;
        expect(await migrate(old, migrations.slice(0, 1))).toEqual([1]);
        const product = uniqueName('legacy');
        const legacy = [0, 1, 2].map((i) =>
          makeResult(`${product}-${i}`, {
            productId: product,
            label: i === 1 ? 'negative' : 'positive',
            processedAt: `2032-05-0${i + 1}T10:00:00.000Z`,
          }),
        );
        // As the sink wrote them before: migration 1's columns only.
        for (const r of legacy) {
          await old.query(
            `INSERT INTO sentiment_results (review_id, model_name, model_version, product_id, label, score, scores, tokens, truncated, batch_size, queued_ms, inference_ms, processed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
            [
              r.reviewId,
              r.model.name,
              r.model.version,
              r.productId,
              r.label,
              r.score,
              JSON.stringify(r.scores),
              r.tokens,
              r.truncated,
              r.batchSize,
              r.timings.queuedMs,
              r.timings.inferenceMs,
              r.processedAt,
            ],
          );
        }
        expect(await migrate(old)).toEqual([2, 3]);
        expect(await migrate(old)).toEqual([]);
        const columns = await old.query(
          'SELECT rating, locale, submitted_at, metadata, language, language_source, language_confidence FROM sentiment_results ORDER BY review_id',
        );
        expect(columns.rows).toEqual(
          legacy.map(() => ({
            rating: null,
            locale: null,
            submitted_at: null,
            metadata: null,
            language: null,
            language_source: null,
            language_confidence: null,
          })),
        );

        const upgraded = createResultQueries(old, { labels: DEFAULT_LABEL_SETS });
        for (const r of legacy)
          expect((await upgraded.byReviewId(r.reviewId)).map(withoutStoredAt)).toEqual([expectedStored(r)]);
        const may = { from: new Date('2032-05-01T00:00:00Z'), to: new Date('2032-06-01T00:00:00Z') };
        expect(await upgraded.productSummary(product, may)).toEqual(expectedSummary(product, legacy));
        expect(await upgraded.productSummary(product, may, 'processed')).toEqual(expectedSummary(product, legacy));

        // New results are stored beside them with their fields (and the language they were routed by, migration 3).
        const added = makeResult(`${product}-new`, {
          productId: product,
          rating: 1,
          submittedAt: '2032-05-20T08:00:00Z',
          processedAt: '2034-01-01T00:00:00Z',
          label: 'negative',
          language: { tag: 'de', source: 'identified', confidence: 0.9731 },
        });
        const unsure = makeResult(`${product}-unsure`, {
          productId: 'other',
          language: { tag: null, source: 'identified', confidence: 0.41 },
        });
        const byLocale = makeResult(`${product}-locale`, {
          productId: 'other',
          locale: 'fr-CA',
          language: { tag: 'fr', source: 'locale' },
        });
        await old.transaction((tx) => upsertResults(tx, [added, unsure, byLocale]));
        for (const r of [added, unsure, byLocale])
          expect((await upgraded.byReviewId(r.reviewId)).map(withoutStoredAt)).toEqual([expectedStored(r)]);
        expect(await upgraded.productSummary(product, may)).toEqual(expectedSummary(product, [...legacy, added]));
        expect((await upgraded.productSummary(product, may)).ratingAgreement).toEqual({
          rated: 1,
          agreeing: 1,
          share: 1,
        });
      } finally {
        await fresh.cleanup();
      }
    });

    test('an imported year of history: summary, time series and negatives by submitted (default) vs processed', async () => {
      const product = uniqueName('history');
      const rows = importedHistory(product, 11);
      await db.transaction((tx) => upsertResults(tx, rows));
      const march = { from: new Date('2033-03-01T00:00:00Z'), to: new Date('2033-04-01T00:00:00Z') };
      const importMinutes = { from: new Date(IMPORTED_AT), to: new Date(IMPORTED_AT + 10 * MINUTE) };
      const year = { from: new Date(YEAR_2033), to: new Date(YEAR_2033 + 365 * DAY) };

      // At the customers' dates: March holds March's reviews (about 31), none were processed then.
      const inMarch = within(rows, march, 'submitted');
      expect(inMarch.length).toBeGreaterThanOrEqual(29);
      expect(inMarch.length).toBeLessThanOrEqual(33);
      expect(await queries.productSummary(product, march)).toEqual(expectedSummary(product, inMarch));
      expect(await queries.productSummary(product, march, 'submitted')).toEqual(expectedSummary(product, inMarch));
      expect((await queries.productSummary(product, march, 'processed')).total).toBe(0);
      // At processing time, the whole import falls in its ten minutes; by submitted, only the live
      // reviews (no submittedAt: their processing time) do.
      expect(await queries.productSummary(product, importMinutes, 'processed')).toEqual(expectedSummary(product, rows));
      const live = rows.filter((r) => r.submittedAt === undefined);
      expect(await queries.productSummary(product, importMinutes)).toEqual(expectedSummary(product, live));

      const yearSeries = await queries.labelsPerMinute(year, product);
      expect(yearSeries.map((p) => p.minute)).toEqual([...yearSeries.map((p) => p.minute)].sort());
      expect(sortPoints(yearSeries)).toEqual(sortPoints(perMinute(within(rows, year, 'submitted'), 'submitted')));
      expect(new Set(yearSeries.map((p) => p.minute.slice(0, 7))).size).toBe(12); // every month of 2033
      expect(await queries.labelsPerMinute(year, product, 'processed')).toEqual([]);
      expect(sortPoints(await queries.labelsPerMinute(importMinutes, product, 'processed'))).toEqual(
        sortPoints(perMinute(rows, 'processed')),
      );

      for (const by of ['submitted', 'processed'] as const) {
        const negatives = rows
          .filter((r) => r.label.toLowerCase() === 'negative')
          .sort((a, b) => timeOf(b, by) - timeOf(a, by));
        expect(
          (await queries.latestNegative(product, 8, by)).map((r) => r.reviewId),
          by,
        ).toEqual(negatives.slice(0, 8).map((r) => r.reviewId));
      }
    });

    test('NEGATIVE_LABELS and POSITIVE_LABELS decide which labels are negative and which agree with a rating (a star-label model)', async () => {
      const product = uniqueName('stars');
      const random = seededRandom(5);
      const starLabels = ['1 star', '2 stars', '3 stars', '4 stars', '5 stars'];
      const rows = Array.from({ length: 300 }, (_, i) => {
        const stars = 1 + Math.floor(random() * 5);
        // The model mostly agrees with the customer, sometimes by a star, sometimes not at all.
        const predicted = random() < 0.7 ? stars : 1 + Math.floor(random() * 5);
        return makeResult(`${product}-${i}`, {
          productId: product,
          label: starLabels[predicted - 1]!,
          processedAt: new Date(IMPORTED_AT + i * 1000).toISOString(),
          ...(i % 10 === 0 ? {} : { rating: stars }),
        });
      });
      await db.transaction((tx) => upsertResults(tx, rows));
      const window = { from: new Date(IMPORTED_AT), to: new Date(IMPORTED_AT + DAY) };

      // The setting as an operator writes it: case and spaces do not matter.
      const config = defaultConfig({ NEGATIVE_LABELS: '1 Star, 2 stars', POSITIVE_LABELS: '4 stars,5 STARS' });
      expect(config.labels).toEqual({ negative: ['1 star', '2 stars'], positive: ['4 stars', '5 stars'] });
      const stars = createResultQueries(db, { labels: config.labels });
      const expected = expectedSummary(product, rows, config.labels);
      const summary = await stars.productSummary(product, window);
      expect(summary).toEqual(expected);
      expect(summary.negativeShare).toBeGreaterThan(0.3);
      expect(summary.ratingAgreement!.share).toBeGreaterThan(0.7);
      expect(summary.ratingAgreement!.rated).toBeLessThan(270); // 3 stars and unrated excluded
      const negatives = rows.filter((r) => ['1 star', '2 stars'].includes(r.label)).reverse();
      expect((await stars.latestNegative(product, 500)).map((r) => r.reviewId)).toEqual(
        negatives.map((r) => r.reviewId),
      );

      // With the default setting (negative, positive) none of these labels counts.
      expect(await queries.productSummary(product, window)).toEqual(expectedSummary(product, rows));
      expect((await queries.productSummary(product, window)).negativeShare).toBe(0);
      expect((await queries.productSummary(product, window)).ratingAgreement).toMatchObject({ agreeing: 0, share: 0 });
      expect(await queries.latestNegative(product)).toEqual([]);
    });

    test('the queries of both time bases can use the indexes (no sequential scan needed)', async () => {
      const plans = await db.transaction(async (tx) => {
        await tx.query('SET LOCAL enable_seqscan = off');
        const explain = async (sql: string) =>
          (await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
        const out: Record<string, string> = {};
        for (const by of ['submitted', 'processed'] as const) {
          const t = TIME_OF[by];
          out[`product ${by}`] = await explain(
            `SELECT label FROM sentiment_results WHERE product_id = 'p' AND ${t} >= '2033-01-01' AND ${t} < '2033-02-01'`,
          );
          out[`all ${by}`] = await explain(
            `SELECT label FROM sentiment_results WHERE ${t} >= '2033-01-01' AND ${t} < '2033-02-01'`,
          );
        }
        return out;
      });
      expect(plans['product submitted']).toContain('sentiment_results_product_submitted');
      expect(plans['all submitted']).toContain('sentiment_results_submitted');
      expect(plans['product processed']).toContain('sentiment_results_product_time');
      expect(plans['all processed']).toContain('sentiment_results_processed_at');
    });
  },
);
