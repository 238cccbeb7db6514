/**
 * Scores a batch whose reviews were routed to different models (model-router.ts): one pool call
 * per model, with that model's reviews only (so each model call still sees a length-grouped batch
 * of its own), run concurrently, their outcomes put back in the batch's order. A batch routed to
 * one model is one call, exactly as without routing.
 */
import type { BatchStats, ItemOutcome } from './model-runner.ts';
import type { ExplainRequest } from './thread-protocol.ts';
import type { Encoded } from '../tokenize/encoder.ts';

/** What this needs of the inference pool (InferencePool.score). */
export interface ScoringPool {
  score(
    texts: (string | Encoded)[],
    explain?: ExplainRequest,
    model?: string,
  ): Promise<{ items: ItemOutcome[]; stats: BatchStats }>;
}

export interface RoutedGroup {
  /** The model key (undefined: the default model) and the batch positions it scored. */
  model: string | undefined;
  indexes: number[];
  stats: BatchStats;
}

/** The batch positions of each model key, in order of first appearance. */
export function groupByModel(
  models: readonly (string | undefined)[],
): { model: string | undefined; indexes: number[] }[] {
  const groups = new Map<string | undefined, number[]>();
  models.forEach((m, i) => {
    const list = groups.get(m);
    if (list) list.push(i);
    else groups.set(m, [i]);
  });
  return [...groups].map(([model, indexes]) => ({ model, indexes }));
}

function sumStats(all: readonly BatchStats[]): BatchStats {
  const sum = (k: keyof BatchStats) => all.reduce((s, x) => s + x[k], 0);
  return {
    tokenizeMs: sum('tokenizeMs'),
    inferenceMs: sum('inferenceMs'),
    calls: sum('calls'),
    computedTokens: sum('computedTokens'),
    realTokens: sum('realTokens'),
    explainMs: sum('explainMs'),
    explained: sum('explained'),
  };
}

/**
 * `models[i]`: the model key of texts[i] (undefined: the default model). Rejects when any call
 * rejects (the batch is retried as a whole, as an unrouted batch would be).
 */
export async function scoreByModel(
  pool: ScoringPool,
  texts: readonly (string | Encoded)[],
  explain: ExplainRequest | undefined,
  models: readonly (string | undefined)[],
): Promise<{ items: ItemOutcome[]; stats: BatchStats; groups: RoutedGroup[] }> {
  const groups = groupByModel(models);
  const scored = await Promise.all(
    groups.map(({ model, indexes }) => {
      const part = explain ? { flags: indexes.map((i) => explain.flags[i]!), topK: explain.topK } : undefined;
      return pool.score(
        indexes.map((i) => texts[i]!),
        part,
        model,
      );
    }),
  );
  const items = new Array<ItemOutcome>(texts.length);
  groups.forEach((g, k) => g.indexes.forEach((i, j) => (items[i] = scored[k]!.items[j]!)));
  return {
    items,
    stats: sumStats(scored.map((s) => s.stats)),
    groups: groups.map((g, k) => ({ ...g, stats: scored[k]!.stats })),
  };
}
