/**
 * The two lanes side by side (issue 19), in one run on the same machine, texts and thread budget:
 * the live lane (one job per review) and the bulk lane (one job per chunk) of one fleet, the
 * in-process peer one by one and in arrays, the compute ceiling and the no-op queue loop; then
 * live reviews in an open loop at 50% of the live lane's capacity while a backfill drains in the
 * bulk lane. Writes bench/results/lanes-<ISO date>.json and prints the table.
 *
 *   npm run bench:lanes                 # default model, short and long sets
 *   npm run bench:lanes -- --quick      # smaller sets, 3 rounds, a 30,000-review backfill
 *   npm run bench:lanes -- --model DIR --backfill 100000
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load-config.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { reviewModelText } from '../src/tokenize/review-text.ts';
import { readBenchTexts } from './bench-texts.ts';
import { backfillWhileLive, bulkClosedLoop, closeBulk } from './bulk-driver.ts';
import { closedLoop, startFleet } from './fleet-driver.ts';
import { measureInProcess, tokenLengths } from './in-process.ts';
import { log, summarize } from './measure-stats.ts';
import { openPeer } from './peer.ts';
import { measureQueueCeiling } from './queue-ceiling.ts';

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
};
const config = loadConfig({ ...process.env, ...(values.model ? { MODEL_DIR: values.model } : {}) });
const modelDir = config.model.dir;
const texts = readBenchTexts(path.resolve(root, config.sharedDir), config, P);
const sets = { short: texts.short, long: texts.long };
const fmt = (x: number): string => (x >= 100 ? String(Math.round(x)) : x.toPrecision(3));

async function main(): Promise<void> {
  const started = new Date();
  const loadBefore = os.loadavg();
  log(`lanes: ${texts.short.length} short + ${texts.long.length} long reviews, model ${modelDir}, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  const inproc = await measureInProcess(modelDir, config, sets, {
    rounds: P.rounds,
    timedSeconds: quick ? 0.5 : 2,
    batchSizes: quick ? [32, 128] : [16, 32, 64, 128],
    ...(config.inference.threads > 1 ? { layout: { sessions: config.inference.threads, intraOpThreads: config.inference.intraOpThreads } } : {}),
  });
  const tokens = tokenLengths(modelDir, config, sets);
  const redis = await startLocalRedis();
  const out: Record<string, Record<string, unknown>> = {};
  let backfill: Awaited<ReturnType<typeof backfillWhileLive>> | undefined;
  let queue: Awaited<ReturnType<typeof measureQueueCeiling>> | undefined;
  const peer = values['no-peer'] ? undefined : await openPeer(modelDir);
  try {
    queue = await measureQueueCeiling(redis, config, texts.short, { rounds: P.rounds, jobs: P.queueJobs });
    log(`no-op queue loop: ${Math.round(queue.jobsPerS.median)} jobs/s`);
    const fleet = await startFleet(redis, modelDir, {});
    try {
      for (const [name, reviews] of Object.entries(sets)) {
        const peerTexts = reviews.map(reviewModelText);
        const warm = await closedLoop(fleet, reviews, 1000, tokens[name], 0);
        const n = Math.max(200, Math.min(reviews.length * 4, Math.round(warm.reviewsPerS * P.seconds)));
        const live: number[] = [];
        const bulk: number[] = [];
        const bulkTokens: number[] = [];
        const single: number[] = [];
        const arrays: number[] = [];
        await bulkClosedLoop(fleet, reviews, Math.min(n, 2000), tokens[name], 0); // warm-up
        for (let r = 0; r < P.rounds; r++) {
          const start = (r * n) % reviews.length;
          // Alternate which lane goes first, so that neither always runs right after the other.
          const pair = r % 2 === 0 ? ['live', 'bulk'] : ['bulk', 'live'];
          for (const lane of pair) {
            if (lane === 'live') live.push((await closedLoop(fleet, reviews, n, tokens[name], start)).reviewsPerS);
            else {
              const b = await bulkClosedLoop(fleet, reviews, n, tokens[name], start);
              bulk.push(b.reviewsPerS);
              bulkTokens.push(b.tokensPerS);
            }
          }
          if (peer?.ok) {
            const pr = await peer.peer.round(peerTexts, start, Math.min(n, 3000), quick ? 0.5 : 2, 32);
            single.push(pr.single);
            arrays.push(pr.arrays);
          }
          log(`${name} round ${r + 1}: live ${fmt(live.at(-1)!)}, bulk ${fmt(bulk.at(-1)!)}${peer?.ok ? `, peer ${fmt(single.at(-1)!)} one by one, ${fmt(arrays.at(-1)!)} arrays` : ''} reviews/s`);
        }
        const ceiling = inproc[name]!.compute.best;
        out[name] = {
          reviewsPerRound: n,
          live: summarize(live, 'reviews/s'),
          bulk: summarize(bulk, 'reviews/s'),
          bulkTokensPerS: summarize(bulkTokens, 'tokens/s'),
          ...(single.length > 0 ? { peerSingle: summarize(single, 'reviews/s'), peerArrays: summarize(arrays, 'reviews/s') } : {}),
          ceiling: { reviewsPerS: ceiling.reviewsPerS.median, tokensPerS: ceiling.tokensPerS, batchSize: ceiling.batchSize },
        };
      }
      const liveCapacity = (out.short!.live as { median: number }).median;
      log(`backfill of ${P.backfill} in the bulk lane while live runs at 50% of ${Math.round(liveCapacity)} reviews/s for ${P.openSeconds} s`);
      backfill = await backfillWhileLive(fleet, texts.short, { backfill: P.backfill, liveRate: liveCapacity * 0.5, seconds: P.openSeconds });
    } finally {
      await closeBulk(fleet);
      await fleet.stop();
    }
  } finally {
    await redis.stop();
    if (peer?.ok) await peer.peer.close();
  }
  const results = {
    date: started.toISOString(),
    mode: quick ? 'quick' : 'full',
    durationS: (Date.now() - started.getTime()) / 1000,
    machine: { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadAvgBefore: loadBefore, loadAvgAfter: os.loadavg() },
    model: path.relative(root, path.resolve(root, modelDir)),
    settings: { bulkChunkSize: config.bulk.chunkSize, bulkConcurrency: config.bulk.concurrency, batchMaxSize: config.batching.maxSize, inferenceThreads: config.inference.threads },
    params: P,
    queueNoOpJobsPerS: queue?.jobsPerS,
    sets: out,
    backfill,
  };
  const dir = path.join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `lanes-${results.date.replace(/:/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  for (const [name, s] of Object.entries(out)) {
    const m = (k: string) => (s[k] as { median: number } | undefined)?.median ?? NaN;
    const ceiling = (s.ceiling as { reviewsPerS: number }).reviewsPerS;
    console.log(`${name}: live ${fmt(m('live'))}, bulk ${fmt(m('bulk'))} reviews/s (×${(m('bulk') / m('live')).toFixed(2)} live, ×${(m('bulk') / m('peerSingle')).toFixed(2)} peer one by one, ×${(m('bulk') / m('peerArrays')).toFixed(2)} peer arrays, ×${(m('bulk') / ceiling).toFixed(2)} ceiling ${fmt(ceiling)}); peer ${fmt(m('peerSingle'))} / ${fmt(m('peerArrays'))}`);
  }
  if (queue) console.log(`no-op queue loop: ${fmt(queue.jobsPerS.median)} jobs/s`);
  if (backfill) {
    const l = backfill.live;
    const solo = (out.short!.bulk as { median: number }).median;
    const o = backfill.liveSolo;
    console.log(`live at ${fmt(o.ratePerS)}/s alone: p50/p95/p99 ${fmt(o.p50Ms)}/${fmt(o.p95Ms)}/${fmt(o.p99Ms)} ms`);
    console.log(`live at ${fmt(l.ratePerS)}/s during a ${backfill.backfill}-review backfill: p50/p95/p99 ${fmt(l.p50Ms)}/${fmt(l.p95Ms)}/${fmt(l.p99Ms)} ms (${l.completed}/${l.offered}); backfill ${fmt(backfill.backfillReviewsPerS)} reviews/s = ×${(backfill.backfillReviewsPerS / solo).toFixed(2)} of its solo rate${backfill.drainedDuringLive ? ' (drained before the live window ended: a lower bound)' : ''}`);
  }
  console.log(`load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; wrote ${path.relative(root, file)}`);
}

try {
  await main();
  process.exit(0);
} catch (err) {
  console.error(err);
  process.exit(1);
}
