import {
  createAgreementCounter,
  createLabelPolarity,
  RATING_NEGATIVE_MAX,
  RATING_POSITIVE_MIN,
  type LabelSets,
  type RatingAgreement,
} from '../results/label-polarity.ts';
import type { SentimentResult } from '../contracts/result-contract.ts';
import type { SqlExecutor } from './sql-client.ts';
import { rankProducts, type ProductCounts, type ProductRanking, type RankingOptions } from './product-ranking.ts';

/** A time window: results whose time (see TimeBasis) is in [from, to). */
export interface TimeWindow {
  from: Date;
  to: Date;
}

/**
 * Which time of a result a window selects on and a time series counts by:
 * - `submitted`: when the customer wrote the review (its `submittedAt`), and for a result whose
 *   review had none, when it was processed: `coalesce(submitted_at, processed_at)`. An imported
 *   year of history shows at its customers' dates; live reviews without a date show as before.
 * - `processed`: when the worker scored it.
 */
export const TIME_BASES = ['submitted', 'processed'] as const;
export type TimeBasis = (typeof TIME_BASES)[number];
export const DEFAULT_TIME_BASIS: TimeBasis = 'submitted';

/** The SQL of each basis; the same expressions are indexed (migrations 1 and 2), so keep them identical. */
export const TIME_OF: Readonly<Record<TimeBasis, string>> = {
  submitted: 'coalesce(submitted_at, processed_at)',
  processed: 'processed_at',
};

export interface ProductSummary {
  productId: string;
  total: number;
  /** Results per label. */
  labels: Record<string, number>;
  /** Mean probability of the predicted labels. */
  meanScore: number | null;
  /** Share of results with a negative label (NEGATIVE_LABELS, case-insensitive), 0..1. */
  negativeShare: number | null;
  /**
   * Agreement of the predicted labels with the star ratings (label-polarity.ts: 1–2 stars expect
   * a negative label, 4–5 a positive one, 3 is not counted); null when no result was rated.
   */
  ratingAgreement: RatingAgreement | null;
}

/** A stored result: the result contract plus when it was first stored. */
export type StoredResult = SentimentResult & { storedAt: string };

/**
 * The columns a StoredResult is read from. `submitted_at` is read as UTC text: drivers parse a
 * timestamptz through JavaScript's Date, and PGlite's reads the years 0001–0099 as 19xx.
 */
export const RESULT_COLUMNS = `review_id, product_id, label, score, scores, model_name, model_version, tokens, truncated,
  batch_size, queued_ms, inference_ms, processed_at, stored_at, explanation, rating, locale,
  to_char(submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS submitted_at, metadata,
  language, language_source, language_confidence`;

const SELECT_RESULT = `SELECT ${RESULT_COLUMNS} FROM sentiment_results`;

type Json<T> = T | string;

export interface ResultRow {
  review_id: string;
  product_id: string | null;
  label: string;
  score: number;
  scores: Json<Record<string, number>>;
  model_name: string;
  model_version: string;
  tokens: number;
  truncated: boolean;
  batch_size: number;
  queued_ms: number;
  inference_ms: number;
  processed_at: Date | string;
  stored_at: Date | string;
  explanation: Json<NonNullable<SentimentResult['explanation']>> | null;
  rating: number | string | null;
  locale: string | null;
  submitted_at: string | null;
  metadata: Json<NonNullable<SentimentResult['metadata']>> | null;
  language: string | null;
  language_source: string | null;
  language_confidence: number | string | null;
}

const iso = (v: Date | string) => (v instanceof Date ? v : new Date(v)).toISOString();
/** jsonb: pg and PGlite parse it; a string is parsed here in case a driver did not. */
const json = <T>(v: Json<T>): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

/** The result's `language` from its columns (migration 3); only for rows with a language_source. */
function storedLanguage(r: ResultRow): NonNullable<SentimentResult['language']> {
  return {
    tag: r.language,
    source: r.language_source as NonNullable<SentimentResult['language']>['source'],
    ...(r.language_confidence === null ? {} : { confidence: Number(r.language_confidence) }),
  };
}

/** A row as the result contract (plus storedAt); NULL fields are absent, as in the published result. */
export function toStoredResult(r: ResultRow): StoredResult {
  return {
    reviewId: r.review_id,
    productId: r.product_id,
    label: r.label,
    score: Number(r.score),
    scores: json(r.scores),
    model: { name: r.model_name, version: r.model_version },
    tokens: Number(r.tokens),
    truncated: r.truncated,
    batchSize: Number(r.batch_size),
    timings: { queuedMs: Number(r.queued_ms), inferenceMs: Number(r.inference_ms) },
    processedAt: iso(r.processed_at),
    storedAt: iso(r.stored_at),
    ...(r.rating === null ? {} : { rating: Number(r.rating) }),
    ...(r.locale === null ? {} : { locale: r.locale }),
    ...(r.submitted_at === null ? {} : { submittedAt: r.submitted_at }),
    ...(r.metadata === null ? {} : { metadata: json(r.metadata) }),
    ...(r.explanation === null ? {} : { explanation: json(r.explanation) }),
    ...(r.language_source === null ? {} : { language: storedLanguage(r) }),
  };
}

/**
 * Per product: results and negative ones in `window` and in the window of the same length just
 * before it, in one pass over both (the time index). Results without a product id are not counted.
 */
async function readProductCounts(
  db: SqlExecutor,
  negativeLabels: readonly string[],
  window: TimeWindow,
  by: TimeBasis,
): Promise<ProductCounts[]> {
  const time = TIME_OF[by];
  const previousFrom = new Date(2 * window.from.getTime() - window.to.getTime());
  const negative = 'lower(label) = ANY($4::text[])';
  const { rows } = await db.query<{
    product_id: string;
    n: string | number;
    neg: string | number;
    prev_n: string | number;
    prev_neg: string | number;
  }>(
    `SELECT product_id,
       count(*) FILTER (WHERE ${time} >= $2) AS n,
       count(*) FILTER (WHERE ${time} >= $2 AND ${negative}) AS neg,
       count(*) FILTER (WHERE ${time} < $2) AS prev_n,
       count(*) FILTER (WHERE ${time} < $2 AND ${negative}) AS prev_neg
     FROM sentiment_results
     WHERE product_id IS NOT NULL AND ${time} >= $1 AND ${time} < $3
     GROUP BY product_id
     HAVING count(*) FILTER (WHERE ${time} >= $2) > 0`,
    [previousFrom, window.from, window.to, negativeLabels],
  );
  return rows.map((r) => ({
    productId: r.product_id,
    total: Number(r.n),
    negative: Number(r.neg),
    previousTotal: Number(r.prev_n),
    previousNegative: Number(r.prev_neg),
  }));
}

export interface ResultQueriesOptions {
  /** Which labels are negative and positive (config.labels: NEGATIVE_LABELS, POSITIVE_LABELS). */
  labels: LabelSets;
}

/**
 * The queries the dashboard and users run, all served by the indexes of the schema:
 * (product_id, time) and (time) for both time bases (migrations 1 and 2).
 */
export function createResultQueries(db: SqlExecutor, options: ResultQueriesOptions) {
  const polarity = createLabelPolarity(options.labels);
  return {
    /** Counts per label, mean score, negative share and rating agreement of one product over a window. */
    async productSummary(
      productId: string,
      window: TimeWindow,
      by: TimeBasis = DEFAULT_TIME_BASIS,
    ): Promise<ProductSummary> {
      const time = TIME_OF[by];
      const { rows } = await db.query<{
        label: string;
        n: string | number;
        score_sum: number;
        rated_negative: string | number;
        rated_positive: string | number;
      }>(
        `SELECT label, count(*) AS n, sum(score) AS score_sum,
           count(*) FILTER (WHERE rating <= ${RATING_NEGATIVE_MAX}) AS rated_negative,
           count(*) FILTER (WHERE rating >= ${RATING_POSITIVE_MIN}) AS rated_positive
         FROM sentiment_results
         WHERE product_id = $1 AND ${time} >= $2 AND ${time} < $3 GROUP BY label`,
        [productId, window.from, window.to],
      );
      const labels: Record<string, number> = {};
      const agreement = createAgreementCounter(polarity);
      let total = 0;
      let scoreSum = 0;
      let negative = 0;
      for (const r of rows) {
        const n = Number(r.n);
        labels[r.label] = n;
        total += n;
        scoreSum += Number(r.score_sum);
        if (polarity.isNegative(r.label)) negative += n;
        agreement.add(r.label, 'negative', Number(r.rated_negative));
        agreement.add(r.label, 'positive', Number(r.rated_positive));
      }
      return {
        productId,
        total,
        labels,
        meanScore: total ? scoreSum / total : null,
        negativeShare: total ? negative / total : null,
        ratingAgreement: agreement.result(),
      };
    },

    /** Results per minute (of their time, see TimeBasis) and label over a window; minutes with no results are absent. */
    async labelsPerMinute(
      window: TimeWindow,
      productId?: string,
      by: TimeBasis = DEFAULT_TIME_BASIS,
    ): Promise<{ minute: string; label: string; count: number }[]> {
      const time = TIME_OF[by];
      const { rows } = await db.query<{ minute: Date | string; label: string; n: string | number }>(
        `SELECT date_trunc('minute', ${time}) AS minute, label, count(*) AS n FROM sentiment_results
         WHERE ${time} >= $1 AND ${time} < $2 AND ($3::text IS NULL OR product_id = $3)
         GROUP BY 1, 2 ORDER BY 1, 2`,
        [window.from, window.to, productId ?? null],
      );
      return rows.map((r) => ({ minute: iso(r.minute), label: r.label, count: Number(r.n) }));
    },

    /**
     * Per product: its results and negative ones (NEGATIVE_LABELS) in the window and in the window
     * of the same length just before it; products with results in the window only.
     */
    productCounts: (window: TimeWindow, by: TimeBasis = DEFAULT_TIME_BASIS) =>
      readProductCounts(db, polarity.negativeLabels, window, by),

    /** The products ranked by negative share over the window and by its change from the window before (product-ranking.ts). */
    async productRanking(
      window: TimeWindow,
      options: RankingOptions,
      by: TimeBasis = DEFAULT_TIME_BASIS,
    ): Promise<ProductRanking> {
      return rankProducts(await readProductCounts(db, polarity.negativeLabels, window, by), options);
    },

    /** The latest negative results (NEGATIVE_LABELS) of a product, newest first by their time. */
    async latestNegative(productId: string, limit = 20, by: TimeBasis = DEFAULT_TIME_BASIS): Promise<StoredResult[]> {
      const { rows } = await db.query<ResultRow>(
        `${SELECT_RESULT} WHERE product_id = $1 AND lower(label) = ANY($2::text[]) ORDER BY ${TIME_OF[by]} DESC LIMIT $3`,
        [productId, polarity.negativeLabels, limit],
      );
      return rows.map(toStoredResult);
    },

    /** Every stored result of one review (one per model version), newest first. */
    async byReviewId(reviewId: string): Promise<StoredResult[]> {
      const { rows } = await db.query<ResultRow>(`${SELECT_RESULT} WHERE review_id = $1 ORDER BY processed_at DESC`, [
        reviewId,
      ]);
      return rows.map(toStoredResult);
    },

    /** The newest stored result of each review id that has one (review status), in one query. */
    async latestByReviewIds(reviewIds: readonly string[]): Promise<Map<string, StoredResult>> {
      if (reviewIds.length === 0) return new Map();
      const { rows } = await db.query<ResultRow>(
        `SELECT DISTINCT ON (review_id) * FROM (${SELECT_RESULT} WHERE review_id = ANY($1::text[])) AS r ORDER BY review_id, processed_at DESC`,
        [reviewIds],
      );
      return new Map(rows.map((r) => [r.review_id, toStoredResult(r)]));
    },

    async count(): Promise<number> {
      const { rows } = await db.query<{ n: string | number }>('SELECT count(*) AS n FROM sentiment_results');
      return Number(rows[0]?.n ?? 0);
    },
  };
}

export type ResultQueries = ReturnType<typeof createResultQueries>;
