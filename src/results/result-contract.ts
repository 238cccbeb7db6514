/**
 * The result of one review, published to the results queue as one job whose id is the
 * review's job id (see queue/job-id.ts), so re-publishing a result is a no-op.
 */
export interface SentimentResult {
  reviewId: string;
  productId: string | null;
  /** The most probable label (config.json id2label). */
  label: string;
  /** Probability of `label`. */
  score: number;
  /** Probability of every label (softmax, or sigmoid for multi-label models). */
  scores: Record<string, number>;
  model: { name: string; version: string };
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
}

/** Name of result jobs on the results queue. */
export const RESULT_JOB_NAME = 'result';
/** Name of review jobs on the reviews queue. */
export const REVIEW_JOB_NAME = 'review';
