/**
 * The adaptive batch policy's cost model: the measured cost of one model call per computed token,
 * by call size (rows × padded length, in power-of-two buckets). It chooses the token budget of a
 * model call: the smallest call size whose cost per token is within `tolerance` of the cheapest
 * measured, so batches grow only as far as growing them pays. On a CPU a transformer's cost per
 * token flattens after a few rows (or rises with padding and cache pressure); a cheap model's
 * per-call overhead keeps falling per token up to large calls. The model is seeded by a start-up
 * calibration and follows every real call with an exponentially weighted average.
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
  /** Upper bound of the bucket, in computed tokens (a power of two). */
  tokens: number;
  msPerToken: number;
  samples: number;
}

export interface CallCostSnapshot {
  /** Token budget of one model call chosen from the measurements. */
  budget: number;
  buckets: CostBucket[];
}

const bucketOf = (tokens: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, tokens)));

export function createCallCostModel(options: CallCostModelOptions) {
  const tolerance = options.tolerance ?? 0.05;
  const alpha = options.alpha ?? 0.1;
  const buckets = new Map<number, CostBucket>();
  let budget = options.maxTokens;

  function choose(): void {
    const measured = [...buckets.values()].filter((b) => b.tokens <= bucketOf(options.maxTokens)).sort((a, b) => a.tokens - b.tokens);
    if (measured.length === 0) {
      budget = options.maxTokens;
      return;
    }
    const cheapest = Math.min(...measured.map((b) => b.msPerToken));
    const chosen = measured.find((b) => b.msPerToken <= cheapest * (1 + tolerance))!;
    // The largest bucket stands for every call at least that big: when it is the cheapest, allow the whole budget.
    budget = chosen === measured.at(-1) ? options.maxTokens : Math.min(options.maxTokens, chosen.tokens);
  }

  return {
    /** Records one model call: its computed tokens (rows × padded length) and its duration. */
    observe(computedTokens: number, ms: number): void {
      if (!(computedTokens > 0) || !(ms >= 0)) return;
      const key = bucketOf(computedTokens);
      const perToken = ms / computedTokens;
      const b = buckets.get(key);
      if (b) {
        b.msPerToken += alpha * (perToken - b.msPerToken);
        b.samples++;
      } else {
        buckets.set(key, { tokens: key, msPerToken: perToken, samples: 1 });
      }
      choose();
    },
    /** The token budget of the next model call. */
    get budget(): number {
      return budget;
    },
    snapshot(): CallCostSnapshot {
      return { budget, buckets: [...buckets.values()].sort((a, b) => a.tokens - b.tokens).map((b) => ({ ...b })) };
    },
  };
}

export type CallCostModel = ReturnType<typeof createCallCostModel>;
