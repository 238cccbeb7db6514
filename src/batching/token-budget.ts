export interface TokenBudget {
  /** BATCH_MAX_TOKENS: rows × padded length of the batch stays within it. */
  maxTokens: number;
  /** BATCH_MAX_SIZE: no batch is larger. */
  maxSize: number;
}

/**
 * How many of the waiting items the next batch takes (the `token-budget` policy, after
 * text-embeddings-inference's queue): pop from the front while the batch padded to its longest
 * item (rows × longest token count) fits the budget and BATCH_MAX_SIZE. The first item always
 * goes, however long (the encoder has truncated it to the model's maximum already).
 * `tokens`: the waiting items' token counts, special tokens included, in queue order.
 */
export function takeWithinTokenBudget(tokens: readonly number[], budget: TokenBudget): number {
  const upTo = Math.min(budget.maxSize, tokens.length);
  let longest = 0;
  let n = 0;
  while (n < upTo) {
    const next = Math.max(longest, tokens[n]!);
    if (n > 0 && next * (n + 1) > budget.maxTokens) break;
    longest = next;
    n++;
  }
  return Math.max(1, n);
}
