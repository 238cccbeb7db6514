import { z } from 'zod';
import { reviewSchema } from './review-schema.ts';
import type { ResultBatch, SentimentResult } from './result-contract.ts';

const finite = z.number().finite();

/** The shop's fields a result copies from its review, checked by the review's own rules (one source). */
const shopFields = reviewSchema({ maxTextChars: 1 }).pick({
  rating: true,
  locale: true,
  submittedAt: true,
  metadata: true,
}).shape;

/** Checks a result job's data before it is stored: a malformed result fails alone. */
export const sentimentResultSchema = z.object({
  reviewId: z.string().min(1).max(128),
  productId: z.string().max(128).nullable(),
  label: z.string().min(1),
  score: finite.min(0).max(1),
  scores: z.record(z.string(), finite.min(0).max(1)),
  model: z.object({ name: z.string().min(1), version: z.string().min(1) }),
  language: z
    .object({
      tag: z
        .string()
        .regex(/^[a-z]{2,3}$/)
        .nullable(),
      source: z.enum(['locale', 'identified', 'none']),
      confidence: finite.min(0).max(1).optional(),
    })
    .optional(),
  tokens: z.number().int().min(0),
  truncated: z.boolean(),
  batchSize: z.number().int().min(1),
  timings: z.object({ queuedMs: finite.min(0), inferenceMs: finite.min(0) }),
  processedAt: z.iso.datetime({ offset: true }),
  ...shopFields,
  explanation: z
    .object({
      method: z.literal('linear-exact'),
      toward: z.array(z.object({ text: z.string(), weight: finite })),
      against: z.array(z.object({ text: z.string(), weight: finite })),
    })
    .optional(),
}) satisfies z.ZodType<SentimentResult>;

/** The envelope of a result batch job; its results are checked one by one (a bad one fails alone). */
export const resultBatchSchema = z.object({ results: z.array(z.unknown()).min(1).max(100_000) }) satisfies z.ZodType<{
  results: unknown[];
}>;

export type { ResultBatch };
