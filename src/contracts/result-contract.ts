/**
 * What a worker publishes and the sink stores: the result of one review, a batch of them as one
 * job of the results queue, and the names of the jobs. Types only (the zod check of a result is
 * result-schema.ts), so the client package and every service share them.
 */

export interface ExplanationPhrase {
  /** A token, or an n-gram "tok1 tok2" with WordPiece `##` pieces joined to the previous token. */
  text: string;
  /** Contribution to the logit margin of the predicted label, rounded to 4 decimals. */
  weight: number;
}

/** What a result carries: the phrases that pushed most toward and against its label. */
export interface Explanation {
  method: 'linear-exact';
  /** Largest positive contributions first (weight > 0). */
  toward: ExplanationPhrase[];
  /** Largest negative contributions first (weight < 0). */
  against: ExplanationPhrase[];
}

/**
 * The language a result's model was chosen by (MODEL_ROUTES, docs/models.md#routing-by-language).
 * `source`: `locale` (the review's locale, `tag` its primary subtag), `identified` (the
 * language-ID model's guess for a review without locale, with its `confidence`; `tag` is null
 * when the guess was under LANGUAGE_ID_MIN_CONFIDENCE or the text has no Latin letters) or
 * `none` (no locale and no language identification: the worker has no MODEL_ROUTES).
 */
export interface ResultLanguage {
  tag: string | null;
  source: 'locale' | 'identified' | 'none';
  /** Only for `identified`: the language-ID model's probability of its guess (4 decimals). */
  confidence?: number;
}

/** The result of one review; a worker publishes those of one batch together (ResultBatch). */
export interface SentimentResult {
  reviewId: string;
  productId: string | null;
  /** The most probable label (config.json id2label). */
  label: string;
  /** Probability of `label`. */
  score: number;
  /** Probability of every label (softmax, or sigmoid for multi-label models). */
  scores: Record<string, number>;
  /** The model that scored it (with MODEL_ROUTES, the one its language was routed to). */
  model: { name: string; version: string };
  /** The language its model was chosen by. Absent in results of workers before routing. */
  language?: ResultLanguage;
  /** Tokens the model saw, special tokens included, after truncation. */
  tokens: number;
  truncated: boolean;
  /** Reviews in the dynamic batch this one was scored in. */
  batchSize: number;
  timings: {
    /** From enqueue (job timestamp) to the start of its batch's inference. */
    queuedMs: number;
    /** Tokenization plus model time of the batch, per batch (not divided by its size). */
    inferenceMs: number;
  };
  /** ISO 8601 time the result was produced. */
  processedAt: string;
  /**
   * The shop's own fields, copied from the review when it had them (absent otherwise): the star
   * rating (0–5), the language tag, when the customer wrote it (ISO 8601, as sent; stored as an
   * instant and read back in UTC) and its metadata. Same rules as the review's (review-schema.ts).
   */
  rating?: number;
  locale?: string;
  submittedAt?: string;
  metadata?: Record<string, string | number | boolean | null>;
  /**
   * Present only when the review asked for it (`"explain": true`) or EXPLAIN=true, and the model
   * supports it (model_type `hashed-ngram-linear`; other models never add it, and the worker logs
   * that once at start-up). Exact for these linear models:
   *
   *   { method: 'linear-exact',
   *     toward:  [{ text: 'love', weight: 0.8123 }, ...],   // largest first, weight > 0
   *     against: [{ text: 'but', weight: -0.1021 }, ...] }  // most negative first, weight < 0
   *
   * `weight` (4 decimals) is the phrase's exact contribution to the predicted `label`'s logit
   * margin: logit[label] − mean of the other labels' logits (the log-odds of `label` for a
   * two-label model). `text` is a token or an n-gram ("not good"; WordPiece `##` pieces joined),
   * from the tokens the model saw (after truncation); repeated phrases are summed. At most
   * EXPLAIN_TOP_K phrases each way; all phrases plus the model's bias sum to the margin.
   */
  explanation?: Explanation;
}

/**
 * The results of one batch, published to the results queue as one job (RESULT_BATCH_JOB_NAME).
 * One job per batch instead of one per review: less Redis work per review (evidence:
 * docs/benchmarks.md, "Settings and the measurements behind them").
 */
export interface ResultBatch {
  results: SentimentResult[];
}

/** Name of result batch jobs on the results queue: the only jobs workers publish and the sink takes. */
export const RESULT_BATCH_JOB_NAME = 'results';
