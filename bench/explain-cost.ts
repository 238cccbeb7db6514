/**
 * Cost of explanations: scores N Flipkart reviews (SHARED_DIR/data/flipkart-reviews.jsonl)
 * through createModelRunner in batches, without and with an explanation for every item, in
 * alternating rounds; prints reviews/s (median round) both ways.
 *
 *   node --import tsx bench/explain-cost.ts [reviews=2000] [batch=32] [rounds=5]
 *   MODEL_DIR, SHARED_DIR, INTRA_OP_THREADS (default 1, as one inference thread), EXPLAIN_TOP_K apply.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/load-config.ts';
import { createModelRunner } from '../src/inference/model-runner.ts';
import { reviewModelText } from '../src/tokenize/review-text.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const [count = 2000, batchSize = 32, rounds = 5] = process.argv.slice(2).map(Number);
const config = loadConfig({ INTRA_OP_THREADS: '1', ...process.env });
const file = path.join(path.resolve(projectRoot, config.sharedDir), 'data', 'flipkart-reviews.jsonl');
const texts = readFileSync(file, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .slice(0, count)
  .map((line) => reviewModelText(JSON.parse(line) as { text: string; title?: string }));

const runner = await createModelRunner({
  modelDir: path.resolve(projectRoot, config.model.dir),
  truncation: config.model.truncation,
  intraOpThreads: config.inference.intraOpThreads,
  groups: { maxTokens: config.batching.maxTokens, maxPadding: config.batching.maxPadding },
});
if (!runner.info.explanations.supported)
  console.warn(`model ${runner.info.name} does not explain: ${runner.info.explanations.reason}`);

async function pass(explain: boolean): Promise<{ seconds: number; explainMs: number; explained: number }> {
  let explainMs = 0;
  let explained = 0;
  const started = performance.now();
  for (let i = 0; i < texts.length; i += batchSize) {
    const batch = texts.slice(i, i + batchSize);
    const { stats } = await runner.score(batch, explain ? batch.map(() => true) : undefined, config.explain.topK);
    explainMs += stats.explainMs;
    explained += stats.explained;
  }
  return { seconds: (performance.now() - started) / 1000, explainMs, explained };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
await pass(false); // warm-up
await pass(true);
const plain: number[] = [];
const explaining: number[] = [];
const explainShare: number[] = [];
for (let r = 0; r < rounds; r++) {
  plain.push((await pass(false)).seconds);
  const e = await pass(true);
  explaining.push(e.seconds);
  explainShare.push(e.explainMs / 1000 / e.seconds);
  if (e.explained !== texts.length) console.warn(`only ${e.explained} of ${texts.length} reviews explained`);
}
const rate = (s: number) => Math.round(texts.length / s);
console.log(
  JSON.stringify(
    {
      model: `${runner.info.name}@${runner.info.version}`,
      reviews: texts.length,
      batchSize,
      rounds,
      intraOpThreads: config.inference.intraOpThreads,
      topK: config.explain.topK,
      reviewsPerSecond: { withoutExplanations: rate(median(plain)), withExplanations: rate(median(explaining)) },
      explainShareOfTime: Number(median(explainShare).toFixed(3)),
    },
    null,
    2,
  ),
);
await runner.close();
