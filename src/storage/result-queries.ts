import type { SentimentResult } from '../results/result-contract.ts';
import type { SqlExecutor } from './sql-client.ts';

/** A time window: results processed in [from, to). */
export interface TimeWindow {
  from: Date;
  to: Date;
}

export interface ProductSummary {
  productId: string;
  total: number;
  /** Results per label. */
  labels: Record<string, number>;
  /** Mean probability of the predicted labels. */
  meanScore: number | null;
  /** Share of results labelled negative (case-insensitive), 0..1. */
  negativeShare: number | null;
}

/** A stored result: the result contract plus when it was first stored. */
export type StoredResult = SentimentResult & { storedAt: string };

const SELECT_RESULT = `SELECT review_id, product_id, label, score, scores, model_name, model_version, tokens, truncated,
  batch_size, queued_ms, inference_ms, processed_at, stored_at, explanation FROM sentiment_results`;

interface ResultRow {
  review_id: string;
  product_id: string | null;
  label: string;
  score: number;
  scores: Record<string, number> | string;
  model_name: string;
  model_version: string;
  tokens: number;
  truncated: boolean;
  batch_size: number;
  queued_ms: number;
  inference_ms: number;
  processed_at: Date | string;
  stored_at: Date | string;
  explanation: SentimentResult['explanation'] | string | null;
}

const iso = (v: Date | string) => (v instanceof Date ? v : new Date(v)).toISOString();

export function toStoredResult(r: ResultRow): StoredResult {
  return {
    reviewId: r.review_id,
    productId: r.product_id,
    label: r.label,
    score: Number(r.score),
    scores: typeof r.scores === 'string' ? (JSON.parse(r.scores) as Record<string, number>) : r.scores,
    model: { name: r.model_name, version: r.model_version },
    tokens: Number(r.tokens),
    truncated: r.truncated,
    batchSize: Number(r.batch_size),
    timings: { queuedMs: Number(r.queued_ms), inferenceMs: Number(r.inference_ms) },
    processedAt: iso(r.processed_at),
    storedAt: iso(r.stored_at),
    ...(r.explanation === null ? {} : { explanation: typeof r.explanation === 'string' ? JSON.parse(r.explanation) : r.explanation }),
  };
}

/**
 * The queries the dashboard and users run, all served by the indexes of the schema:
 * (product_id, processed_at) and (processed_at).
 */
export function createResultQueries(db: SqlExecutor) {
  return {
    /** Counts per label, mean score and negative share of one product over a window. */
    async productSummary(productId: string, window: TimeWindow): Promise<ProductSummary> {
      const { rows } = await db.query<{ label: string; n: string | number; score_sum: number }>(
        `SELECT label, count(*) AS n, sum(score) AS score_sum FROM sentiment_results
         WHERE product_id = $1 AND processed_at >= $2 AND processed_at < $3 GROUP BY label`,
        [productId, window.from, window.to],
      );
      const labels: Record<string, number> = {};
      let total = 0;
      let scoreSum = 0;
      let negative = 0;
      for (const r of rows) {
        const n = Number(r.n);
        labels[r.label] = n;
        total += n;
        scoreSum += Number(r.score_sum);
        if (r.label.toLowerCase() === 'negative') negative += n;
      }
      return { productId, total, labels, meanScore: total ? scoreSum / total : null, negativeShare: total ? negative / total : null };
    },

    /** Results per minute and label over a window (minutes with no results are absent). */
    async labelsPerMinute(window: TimeWindow, productId?: string): Promise<{ minute: string; label: string; count: number }[]> {
      const { rows } = await db.query<{ minute: Date | string; label: string; n: string | number }>(
        `SELECT date_trunc('minute', processed_at) AS minute, label, count(*) AS n FROM sentiment_results
         WHERE processed_at >= $1 AND processed_at < $2 AND ($3::text IS NULL OR product_id = $3)
         GROUP BY 1, 2 ORDER BY 1, 2`,
        [window.from, window.to, productId ?? null],
      );
      return rows.map((r) => ({ minute: iso(r.minute), label: r.label, count: Number(r.n) }));
    },

    /** The latest negative results of a product, newest first. */
    async latestNegative(productId: string, limit = 20): Promise<StoredResult[]> {
      const { rows } = await db.query<ResultRow>(
        `${SELECT_RESULT} WHERE product_id = $1 AND lower(label) = 'negative' ORDER BY processed_at DESC LIMIT $2`,
        [productId, limit],
      );
      return rows.map(toStoredResult);
    },

    /** Every stored result of one review (one per model version), newest first. */
    async byReviewId(reviewId: string): Promise<StoredResult[]> {
      const { rows } = await db.query<ResultRow>(`${SELECT_RESULT} WHERE review_id = $1 ORDER BY processed_at DESC`, [reviewId]);
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
