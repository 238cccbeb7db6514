import type { Review } from '../contracts/review-schema.ts';
import type { ResultLanguage, SentimentResult } from '../contracts/result-contract.ts';
import { SfError, isSerializedSfError } from '../errors/sf-error.ts';
import type { BatchStats, ItemOutcome } from '../inference/model-runner.ts';

/**
 * The review worker's pure part: the results of a scored batch. review-worker.ts does the I/O
 * (scoring, publishing, completing jobs).
 */

/** What a result is built from: its review, when its job was enqueued (epoch ms), and how it was routed. */
export interface BatchReview {
  review: Review;
  enqueuedAt: number;
  /** The model that scored it (MODEL_ROUTES); absent: the context's model. */
  model?: { name: string; version: string };
  /** The language its model was chosen by (MODEL_ROUTES); absent without routing. */
  language?: ResultLanguage;
}

export interface BatchResultContext {
  model: { name: string; version: string };
  /** When the batch left for the inference threads (epoch ms). */
  startedAt: number;
  /** When it was scored (ISO 8601). */
  processedAt: string;
  /** The batch's tokenize + inference time (batchInferenceMs). */
  inferenceMs: number;
}

/** One review's end: its result, or the error it fails alone with. */
export type ReviewOutcome = { ok: true; result: SentimentResult } | { ok: false; error: SfError };

/** A batch's tokenize + inference time in milliseconds, to two decimals (results and metrics carry it). */
export function batchInferenceMs(stats: Pick<BatchStats, 'tokenizeMs' | 'inferenceMs'>): number {
  return Math.round((stats.tokenizeMs + stats.inferenceMs) * 100) / 100;
}

/** The shop's fields a result carries from its review, those the review has (SentimentResult). */
export function shopFields(review: Review): Pick<SentimentResult, 'rating' | 'locale' | 'submittedAt' | 'metadata'> {
  return {
    ...(review.rating !== undefined ? { rating: review.rating } : {}),
    ...(review.locale !== undefined ? { locale: review.locale } : {}),
    ...(review.submittedAt !== undefined ? { submittedAt: review.submittedAt } : {}),
    ...(review.metadata !== undefined ? { metadata: review.metadata } : {}),
  };
}

/**
 * The result of each review of a scored batch (`scored[i]` for `reviews[i]`); an item the model
 * could not score fails alone with its own error (SF_ERR_BAD_INPUT when it carries none).
 */
export function buildBatchResults(
  reviews: readonly BatchReview[],
  scored: readonly ItemOutcome[],
  context: BatchResultContext,
): ReviewOutcome[] {
  return scored.map((item, i) => {
    const { review, enqueuedAt, language } = reviews[i]!;
    const model = reviews[i]!.model ?? context.model;
    if (!item.ok)
      return {
        ok: false,
        error: isSerializedSfError(item.error)
          ? SfError.fromJSON(item.error)
          : new SfError('SF_ERR_BAD_INPUT', 'unscorable item'),
      };
    const result: SentimentResult = {
      reviewId: review.id,
      productId: review.productId ?? null,
      label: item.label,
      score: item.score,
      scores: item.scores,
      model: { name: model.name, version: model.version },
      ...(language ? { language } : {}),
      tokens: item.tokens,
      truncated: item.truncated,
      batchSize: reviews.length,
      timings: { queuedMs: Math.max(0, context.startedAt - enqueuedAt), inferenceMs: context.inferenceMs },
      processedAt: context.processedAt,
      ...shopFields(review),
      ...(item.explanation ? { explanation: item.explanation } : {}),
    };
    return { ok: true, result };
  });
}
