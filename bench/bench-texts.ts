/** The benchmark's texts: Flipkart reviews (short) and the Amazon multi-domain dev reviews (long). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../src/config/load-config.ts';
import { seededRandom, shuffleInPlace } from '../src/training/seeded-random.ts';

export interface BenchReview {
  id: string;
  title?: string;
  text: string;
}

export interface BenchTexts {
  short: BenchReview[];
  long: BenchReview[];
  files: { short: string; long: string[] };
}

const DOMAINS = ['books', 'dvd', 'electronics', 'kitchen'];

function readJsonl(file: string, maxChars: number): BenchReview[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const o = JSON.parse(l) as { id: string; title?: string; text: string };
      return o.title ? { id: o.id, title: o.title, text: o.text } : { id: o.id, text: o.text };
    })
    .filter((r) => r.text.trim() !== '' && r.text.length <= maxChars && (r.title ?? '').length <= maxChars);
}

/** The same order on every run: a seeded shuffle, so that any stretch of a set is a fair sample of it. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const order = Uint32Array.from(items.keys());
  shuffleInPlace(order, seededRandom(seed));
  return Array.from(order, (i) => items[i]!);
}

/**
 * Reads both text sets from SHARED_DIR, or exits with a message naming the missing files. Each
 * set is shuffled (seeded): the files are ordered (the Amazon dev files by label, and the first
 * reviews are shorter than the average), and a slow model sees only a stretch of a set in a
 * timed round, so in-process and fleet rounds must see stretches that look alike.
 */
export function readBenchTexts(
  sharedDir: string,
  config: Config,
  limits: { shortCount: number; longCount: number },
): BenchTexts {
  const short = path.join(sharedDir, 'data', 'flipkart-reviews.jsonl');
  const long = DOMAINS.map((d) => path.join(sharedDir, 'data', 'amazon-multidomain', `${d}-dev.jsonl`));
  const missing = [short, ...long].filter((f) => !existsSync(f));
  if (missing.length > 0) {
    console.error(
      `bench: the shared data sets are missing (SHARED_DIR=${config.sharedDir} → ${sharedDir}):\n  ${missing.join('\n  ')}\nSet SHARED_DIR to the directory that holds data/flipkart-reviews.jsonl and data/amazon-multidomain/.`,
    );
    process.exit(2);
  }
  const max = config.reviews.maxTextChars;
  const perDomain = long.map((f) => readJsonl(f, max));
  return {
    short: shuffled(readJsonl(short, max), 1).slice(0, limits.shortCount),
    long: shuffled(perDomain.flat(), 2).slice(0, limits.longCount),
    files: { short, long },
  };
}
