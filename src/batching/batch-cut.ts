import { nearestLength, type LengthClass } from './call-cost-model.ts';

export interface BatchCutOptions {
  /** The adaptive policy's length classes and rows per call (the inference thread's calibration). */
  classes: readonly Pick<LengthClass, 'length' | 'rows'>[];
  /** BATCH_MAX_SIZE: no batch is larger. */
  maxSize: number;
  /** A batch holds at most this many model calls' worth of rows (of its longest review's class). */
  callsPerBatch: number;
  /** Starting estimate of characters per token, until scored batches say better. */
  charsPerToken?: number;
  /** Weight of one scored batch in the characters-per-token average. */
  alpha?: number;
}

/**
 * How many of the waiting reviews the next batch takes, under the adaptive policy. The main
 * thread does not tokenize, so it estimates each review's tokens from its characters (a ratio
 * learned from the batches scored so far) and stops before the batch holds more than
 * `callsPerBatch` model calls of its longest review's length class. Without it a batch took up to
 * BATCH_MAX_SIZE reviews whatever their length: on a transformer, whose long reviews go one per
 * call, 64 long reviews kept one inference thread busy for seconds while another stood idle, and
 * each of them waited for all the others. Classes whose calls take any number of rows (a cheap
 * model's) leave the batch at BATCH_MAX_SIZE. The review worker cuts batches only when it runs
 * several inference threads: one thread has no work to share.
 */
export function createBatchCut(options: BatchCutOptions) {
  const alpha = options.alpha ?? 0.2;
  let charsPerToken = options.charsPerToken ?? 4;
  const lengths = options.classes.map((c) => c.length);
  const rowsOf = new Map(options.classes.map((c) => [c.length, c.rows]));
  const limited = options.classes.some((c) => c.rows !== undefined);

  function rowsFor(tokens: number): number {
    const rows = lengths.length === 0 ? undefined : rowsOf.get(nearestLength(lengths, tokens)!);
    return rows === undefined ? Infinity : rows * options.callsPerBatch;
  }

  return {
    /** Reviews to take from the front of `chars` (the waiting reviews' lengths in characters): 1 … maxSize. */
    take(chars: readonly number[]): number {
      const upTo = Math.min(options.maxSize, chars.length);
      if (!limited) return Math.max(1, upTo);
      let longest = 0;
      let n = 0;
      while (n < upTo) {
        const next = Math.max(longest, chars[n]! / charsPerToken);
        if (n > 0 && n + 1 > rowsFor(next)) break;
        longest = next;
        n++;
      }
      return Math.max(1, n);
    },
    /** Learns characters per token from a scored batch. */
    observe(chars: number, tokens: number): void {
      if (chars > 0 && tokens > 0) charsPerToken += alpha * (chars / tokens - charsPerToken);
    },
    get charsPerToken(): number {
      return charsPerToken;
    },
  };
}

export type BatchCut = ReturnType<typeof createBatchCut>;
