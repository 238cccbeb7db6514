/**
 * `npm run bench:lanes`: the two lanes side by side (bench/lanes-measure.ts) without the rest of
 * `npm run bench`. Writes bench/results/lanes-<ISO date>.json and prints the figures.
 *
 *   npm run bench:lanes                 # default model, short and long sets
 *   npm run bench:lanes -- --quick      # smaller sets, 3 rounds, a 30,000-review backfill
 *   npm run bench:lanes -- --model DIR --backfill 100000 --no-peer
 *   npm run bench:lanes -- --quick --model /tmp/sf-bench-model --backfill 0 --warmup 20 --batch-sizes 1,4,16
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load-config.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { readBenchTexts } from './bench-texts.ts';
import { measureInProcess, tokenLengths } from './in-process.ts';
import { lanesSummary, measureLanes } from './lanes-measure.ts';
import { loadAverage, log } from './measure-stats.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    model: { type: 'string' },
    backfill: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    'open-seconds': { type: 'string' },
    'no-peer': { type: 'boolean', default: false },
    warmup: { type: 'string' },
    'batch-sizes': { type: 'string' },
  },
});
const quick = values.quick;
const P = {
  shortCount: quick ? 4000 : Infinity,
  longCount: quick ? 1500 : Infinity,
  rounds: Number(values.rounds ?? (quick ? 3 : 5)),
  seconds: Number(values.seconds ?? (quick ? 2 : 5)),
  openSeconds: Number(values['open-seconds'] ?? (quick ? 5 : 15)),
  backfill: Number(values.backfill ?? (quick ? 30_000 : 100_000)),
  queueJobs: quick ? 8000 : 30_000,
  peerSeconds: quick ? 0.5 : 2,
  peer: !values['no-peer'],
  warmup: Number(values.warmup ?? 1000),
};
const batchSizes = values['batch-sizes']?.split(',').map(Number);
const config = loadConfig({ ...process.env, ...(values.model ? { MODEL_DIR: values.model } : {}) });
const modelDir = config.model.dir;
const texts = readBenchTexts(path.resolve(root, config.sharedDir), config, P);
const sets = { short: texts.short, long: texts.long };

async function main(): Promise<void> {
  const started = new Date();
  const loadBefore = os.loadavg();
  log(
    `lanes: ${texts.short.length} short + ${texts.long.length} long reviews, model ${modelDir}, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const inproc = await measureInProcess(modelDir, config, sets, {
    rounds: P.rounds,
    timedSeconds: quick ? 0.5 : 2,
    batchSizes: batchSizes ?? (quick ? [32, 128] : [16, 32, 64, 128]),
    ...(config.inference.threads > 1
      ? { layout: { sessions: config.inference.threads, intraOpThreads: config.inference.intraOpThreads } }
      : {}),
  });
  const tokens = tokenLengths(modelDir, config, sets);
  const redis = await startLocalRedis();
  let lanes;
  try {
    lanes = await measureLanes(redis, modelDir, config, sets, tokens, inproc, P);
  } finally {
    await redis.stop();
  }
  const results = {
    date: started.toISOString(),
    mode: quick ? 'quick' : 'full',
    durationS: (Date.now() - started.getTime()) / 1000,
    machine: {
      cores: os.availableParallelism(),
      cpu: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAvgBefore: loadBefore,
      loadAvgAfter: os.loadavg(),
    },
    model: path.relative(root, path.resolve(root, modelDir)),
    params: P,
    ...lanes,
  };
  const dir = path.join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `lanes-${results.date.replace(/:/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  for (const line of lanesSummary(lanes)) console.log(line);
  console.log(
    `load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAverage()}; wrote ${path.relative(root, file)}`,
  );
}

try {
  await main();
  process.exit(0);
} catch (err) {
  console.error(err);
  process.exit(1);
}
