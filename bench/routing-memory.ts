/**
 * Memory of a worker process's inference pool with and without MODEL_ROUTES: the process RSS
 * after the pool is ready (every thread loaded, warmed up and, with the adaptive policy,
 * calibrated) and one batch of each model scored. One configuration per run, in a fresh process:
 *
 *   node --import tsx bench/routing-memory.ts THREADS [routes]
 */
import path from 'node:path';
import { createRoutingSetup } from '../src/app/model-routing.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { createInferencePool } from '../src/inference/inference-pool.ts';
import type { RunnerOptions } from '../src/inference/model-runner.ts';
import { createLogger } from '../src/logging/logger.ts';

const root = path.resolve(import.meta.dirname, '..');
const threads = Number(process.argv[2] ?? 1);
const routed = process.argv[3] === 'routes';
const models = (l: string) => path.join(root, 'models', `review-sentiment-${l}`);
const config = loadConfig({
  MODEL_DIR: models('en'),
  INFERENCE_THREADS: String(threads),
  INTRA_OP_THREADS: '1',
  LANGUAGE_ID_MODEL_DIR: path.join(root, 'models', 'lang-id'),
  ...(routed ? { MODEL_ROUTES: ['de', 'fr', 'es'].map((l) => `${l}:${models(l)}`).join(',') } : {}),
});
const logger = createLogger({ level: 'silent', format: 'json' });
const base = process.memoryUsage().rss;
const runner: RunnerOptions = {
  modelDir: config.model.dir,
  truncation: config.model.truncation,
  intraOpThreads: config.inference.intraOpThreads,
  groups: { maxTokens: config.batching.maxTokens, maxPadding: config.batching.maxPadding },
};
const routing = createRoutingSetup(config.routing, runner, logger);
const started = performance.now();
const pool = await createInferencePool({ logger, threads, runner, models: routing.models });
const readyMs = performance.now() - started;
const texts = Array.from({ length: 64 }, (_, i) => `review ${i}: good product, bad delivery, would buy again maybe`);
for (let t = 0; t < threads; t++)
  await Promise.all([pool.score(texts), ...routing.models.map((m) => pool.score(texts, undefined, m.key))]);
const mib = (b: number) => (b / 2 ** 20).toFixed(0);
console.log(
  `threads ${threads} ${routed ? 'en+de+fr+es' : 'en only'}: RSS ${mib(process.memoryUsage().rss)} MiB (${mib(process.memoryUsage().rss - base)} MiB over the bare process), ready in ${(readyMs / 1000).toFixed(1)} s`,
);
await pool.close();
