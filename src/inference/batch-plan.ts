import { SfError, toSfError } from '../errors/sf-error.ts';
import { groupByLength, type GroupLimits } from '../batching/length-groups.ts';
import type { Encoded } from '../tokenize/encoder.ts';

/**
 * The model runner's pure part of scoring a batch: encode what is not encoded yet, and plan the
 * model calls (length groups) of the items that encoded.
 */

/** Each input's encoding, or the error it fails alone with (SF_ERR_BAD_INPUT). */
export function encodeAll(
  inputs: readonly (string | Encoded)[],
  encode: (text: string) => Encoded,
): (Encoded | SfError)[] {
  return inputs.map((input) => {
    if (typeof input !== 'string') return input;
    try {
      return encode(input);
    } catch (err) {
      return toSfError(err, 'SF_ERR_BAD_INPUT');
    }
  });
}

export interface CallPlan {
  /** Indices (into the batch) of the items that encoded. */
  good: number[];
  /** Model calls: each a list of batch indices. */
  calls: number[][];
  /** Real tokens of the good items. */
  realTokens: number;
  /** Tokens the calls compute, padding included. */
  computedTokens: number;
}

/** The model calls of a batch: its good items in length groups within the limits. */
export function planCalls(encoded: readonly (Encoded | SfError)[], limits: GroupLimits): CallPlan {
  const good = encoded.flatMap((e, i) => (e instanceof SfError ? [] : [i]));
  const lengths = good.map((i) => (encoded[i] as Encoded).ids.length);
  const calls = groupByLength(lengths, limits).map((group) => group.map((g) => good[g]!));
  const computedTokens = calls.reduce(
    (sum, call) => sum + call.length * Math.max(...call.map((i) => (encoded[i] as Encoded).ids.length)),
    0,
  );
  return {
    good,
    calls,
    realTokens: lengths.reduce((a, b) => a + b, 0),
    computedTokens,
  };
}
