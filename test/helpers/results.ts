import { Writable } from 'node:stream';
import type { SentimentResult } from '../../src/contracts/result-contract.ts';
import type { StoredResult } from '../../src/storage/result-queries.ts';

/** A valid result; every field can be overridden. */
export function makeResult(reviewId: string, overrides: Partial<SentimentResult> = {}): SentimentResult {
  const label = overrides.label ?? 'positive';
  const score = overrides.score ?? 0.9;
  return {
    reviewId,
    productId: 'p-1',
    label,
    score,
    scores: label === 'negative' ? { negative: score, positive: 1 - score } : { positive: score, negative: 1 - score },
    model: { name: 'review-sentiment-en', version: 'v1' },
    tokens: 12,
    truncated: false,
    batchSize: 8,
    timings: { queuedMs: 3.5, inferenceMs: 12.25 },
    processedAt: '2024-03-01T10:00:00.000Z',
    ...overrides,
  };
}

/** What reading a result back must give (StoredResult minus storedAt, which the database sets). */
export function expectedStored(r: SentimentResult): Omit<StoredResult, 'storedAt'> {
  return {
    reviewId: r.reviewId,
    productId: r.productId,
    label: r.label,
    score: r.score,
    scores: r.scores,
    model: r.model,
    tokens: r.tokens,
    truncated: r.truncated,
    batchSize: r.batchSize,
    timings: r.timings,
    processedAt: new Date(r.processedAt).toISOString(),
    ...(r.rating !== undefined ? { rating: r.rating } : {}),
    ...(r.locale !== undefined ? { locale: r.locale } : {}),
    // Stored as an instant, read back in UTC with milliseconds.
    ...(r.submittedAt !== undefined ? { submittedAt: new Date(r.submittedAt).toISOString() } : {}),
    ...(r.metadata !== undefined ? { metadata: r.metadata } : {}),
    ...(r.explanation ? { explanation: r.explanation } : {}),
    ...(r.language ? { language: r.language } : {}),
  };
}

export function withoutStoredAt({ storedAt: _, ...rest }: StoredResult): Omit<StoredResult, 'storedAt'> {
  return rest;
}

/** A Writable that keeps what was written. */
export function memorySink(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return Object.assign(stream, { text: () => Buffer.concat(chunks).toString('utf8') });
}

/** Polls `check` until it returns true; fails after `timeoutMs` with `describe()`. */
export async function pollUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  describe: () => Promise<string> | string,
  everyMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${await describe()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
