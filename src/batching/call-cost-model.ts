/**
 * The adaptive batch policy's cost model: the measured cost of one model call per real (unpadded)
 * token, by row length and rows per call. Calls are sorted into length classes (the calibration's
 * row lengths, e.g. 32, 128 and 512 tokens: each call goes to the class nearest its padded
 * length), and within a class by rows (in power-of-two buckets). For each class it chooses the
 * rows of a call: the fewest whose cost per token is within `tolerance` of the cheapest measured,
 * so batches grow only as far as growing them pays.
 *
 * Why by length: on a CPU a transformer's cost per token falls with more rows when rows are short
 * (per-call overhead), but is flat when they are long, and padding then makes batches slower than
 * single rows. Why per real token: the padding a real batch computes is part of its cost. A cheap
 * model's per-call overhead keeps falling per token up to large calls at every length. The model
 * is seeded by a start-up calibration and follows every real call with an exponentially weighted
 * average.
 */

export interface CallCostModelOptions {
  /** Upper bound of a call's token budget (BATCH_MAX_TOKENS). */
  maxTokens: number;
  /** A bigger call must be at least this much cheaper per token to be chosen (0.05 = 5%). */
  tolerance?: number;
  /** Weight of a new observation in a bucket's average. */
  alpha?: number;
}

export interface CostBucket {
  /** Upper bound of the bucket, in rows per call (a power of two). */
  rows: number;
  /** Milliseconds per real (unpadded) token. */
  msPerToken: number;
  samples: number;
}

export interface LengthClass {
  /** Row length of the class, in tokens (a calibration length). */
  length: number;
  /** Rows of one model call whose rows are about this long; undefined: as many as the token budget allows. */
  rows: number | undefined;
  buckets: CostBucket[];
}

export interface CallCostSnapshot {
  classes: LengthClass[];
}

/** One model call: its rows, padded length, unpadded tokens and duration. */
export interface CallObservation {
  rows: number;
  paddedLength: number;
  realTokens: number;
  ms: number;
}

/** The class length nearest to a row length (in ratio, so 64 is as near to 32 as to 128); a tie goes to the longer class. */
export function nearestLength(classLengths: Iterable<number>, length: number): number | undefined {
  let best: number | undefined;
  for (const c of classLengths) {
    const d = Math.abs(Math.log2(c / length));
    const bestD = best === undefined ? Infinity : Math.abs(Math.log2(best / length));
    if (d < bestD || (d === bestD && c > best!)) best = c;
  }
  return best;
}

const bucketOf = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

interface ClassEntry {
  buckets: Map<number, CostBucket>;
  /** The chosen rows per call; undefined: no limit but the token budget. */
  rows: number | undefined;
}

export function createCallCostModel(options: CallCostModelOptions) {
  const tolerance = options.tolerance ?? 0.05;
  const alpha = options.alpha ?? 0.1;
  /** Length classes by row length; each holds its buckets by rows and its chosen rows per call. */
  const classes = new Map<number, ClassEntry>();

  /** The class nearest to a row length (see nearestLength). */
  function classFor(length: number): number | undefined {
    return nearestLength(classes.keys(), length);
  }

  function choose(entry: ClassEntry): void {
    const measured = [...entry.buckets.values()].sort((a, b) => a.rows - b.rows);
    if (measured.length === 0) {
      entry.rows = undefined;
      return;
    }
    const cheapest = Math.min(...measured.map((b) => b.msPerToken));
    const chosen = measured.find((b) => b.msPerToken <= cheapest * (1 + tolerance))!;
    // The largest of several buckets stands for every call at least that big: when it is the
    // cheapest, only the token budget limits a call. A class measured at one size stays there.
    entry.rows = measured.length > 1 && chosen === measured.at(-1) ? undefined : chosen.rows;
  }

  function addClass(length: number): void {
    if (!classes.has(length)) classes.set(length, { buckets: new Map(), rows: undefined });
  }

  return {
    /** Opens a length class (the calibration does, before observing calls of that length). */
    addClass,
    /** Records one model call. Without classes, its own padded length becomes one. */
    observe(call: CallObservation): void {
      if (!(call.rows > 0) || !(call.paddedLength > 0) || !(call.realTokens > 0) || !(call.ms >= 0)) return;
      if (classes.size === 0) addClass(call.paddedLength);
      const entry = classes.get(classFor(call.paddedLength)!)!;
      const key = bucketOf(call.rows);
      const perToken = call.ms / call.realTokens;
      const b = entry.buckets.get(key);
      if (b) {
        b.msPerToken += alpha * (perToken - b.msPerToken);
        b.samples++;
      } else {
        entry.buckets.set(key, { rows: key, msPerToken: perToken, samples: 1 });
      }
      choose(entry);
    },
    /** The token budget of the next model call whose longest row has `length` tokens: its class's rows × length. */
    budgetFor(length: number): number {
      const c = classFor(length);
      const rows = c === undefined ? undefined : classes.get(c)!.rows;
      return rows === undefined ? options.maxTokens : Math.min(options.maxTokens, rows * length);
    },
    snapshot(): CallCostSnapshot {
      return {
        classes: [...classes.entries()]
          .sort(([a], [b]) => a - b)
          .map(([length, e]) => ({ length, rows: e.rows, buckets: [...e.buckets.values()].sort((a, b) => a.rows - b.rows).map((b) => ({ ...b })) })),
      };
    },
  };
}

export type CallCostModel = ReturnType<typeof createCallCostModel>;
