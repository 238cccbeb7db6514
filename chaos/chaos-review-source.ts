import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { seededRandom } from '../src/training/seeded-random.ts';

export interface ChaosReview {
  id: string;
  text: string;
  productId: string;
  rating?: number;
}

export interface ReviewSource {
  /** Where the texts come from, for the report. */
  readonly origin: string;
  /** The i-th review of this run (ids are unique per run: `<runId>-<i>`). */
  review(i: number): ChaosReview;
}

const FLIPKART = 'data/flipkart-reviews.jsonl';
const WORDS = {
  good: ['great', 'love it', 'excellent', 'works perfectly', 'good value', 'sturdy', 'fast delivery'],
  bad: ['broke', 'terrible', 'waste of money', 'stopped working', 'poor quality', 'returned it', 'disappointed'],
  things: ['phone', 'charger', 'headphones', 'battery', 'screen', 'speaker', 'cable', 'watch'],
};

function readFlipkart(file: string): { text: string; rating?: number }[] {
  const out: { text: string; rating?: number }[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as { text?: unknown; rating?: unknown };
    if (typeof row.text === 'string' && row.text.trim() !== '' && row.text.length <= 20_000) {
      out.push(typeof row.rating === 'number' ? { text: row.text, rating: row.rating } : { text: row.text });
    }
  }
  return out;
}

/**
 * The review texts of a chaos run: the Flipkart reviews from SHARED_DIR, cycled, or, when that
 * file is absent, short texts generated from the seed (`onFallback` says so).
 */
export function createReviewSource(options: {
  sharedDir: string;
  seed: number;
  runId: string;
  onFallback?: (message: string) => void;
}): ReviewSource {
  const file = path.resolve(options.sharedDir, FLIPKART);
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  let texts: { text: string; rating?: number }[];
  let origin: string;
  if (existsSync(file)) {
    texts = readFlipkart(file);
    origin = file;
  } else {
    options.onFallback?.(`${file} not found (set SHARED_DIR): using generated review texts instead`);
    texts = Array.from({ length: 2000 }, () => {
      const good = random() < 0.6;
      const words = good ? WORDS.good : WORDS.bad;
      return { text: `The ${pick(WORDS.things)} is ${pick(words)}, ${pick(words)}.`, rating: good ? 5 : 1 };
    });
    origin = `generated (seed ${options.seed})`;
  }
  return {
    origin,
    review(i) {
      const t = texts[i % texts.length]!;
      return {
        id: `${options.runId}-${i}`,
        text: t.text,
        productId: `p-${i % 97}`,
        ...(t.rating === undefined ? {} : { rating: t.rating }),
      };
    },
  };
}
