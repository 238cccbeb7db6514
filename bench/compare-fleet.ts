/**
 * Before/after of a fleet setting, side by side: the fleet's closed-loop throughput for each
 * variant (worker settings), with interleaved rounds on the same texts so that a machine whose
 * speed drifts during the run cannot favour one variant. Prints the medians and each variant's
 * ratio to the first.
 *
 *   npm run bench:compare -- --variant base: --variant nospin:INTRA_OP_SPINNING=false \
 *     [--set short|long] [--model DIR] [--cycles 3] [--rounds 3] [--seconds 3] [--peer]
 *     [--latency 0.5] [--open-seconds 15] [--out FILE.json]
 *
 * --out writes the rounds (every variant's reviews/s, in order), the settings and the host as JSON.
 * --latency 0.5 adds, every cycle, an open loop per variant at that share of the first variant's
 * median throughput (the same arrival rate for all, --open-seconds each) and prints p50/p95/p99.
 * --peer adds @huggingface/transformers' pipeline, one review per call, after each round on the
 * same reviews (as `npm run bench` does), as a last row.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load-config.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { readBenchTexts } from './bench-texts.ts';
import { interleavedThroughput, openLoop, startFleet, type Fleet } from './fleet-driver.ts';
import { log, summarize } from './measure-stats.ts';
import { openPeer, type Peer } from './peer.ts';
import { reviewModelText } from '../src/tokenize/review-text.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true, default: [] },
    set: { type: 'string', default: 'short' },
    model: { type: 'string' },
    cycles: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1000' },
    peer: { type: 'boolean', default: false },
    latency: { type: 'string' },
    'open-seconds': { type: 'string', default: '15' },
    out: { type: 'string' },
  },
});
/** `name:KEY=V,KEY=V` (an empty list is the defaults). */
const variants = values.variant.map((v) => {
  const [name, list = ''] = [v.slice(0, v.indexOf(':') < 0 ? v.length : v.indexOf(':')), v.slice(v.indexOf(':') + 1)];
  const env = Object.fromEntries(
    list
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  return { name, env };
});
if (variants.length < 2) {
  console.error('bench:compare needs at least two --variant name:KEY=V,... (the first is the baseline)');
  process.exit(2);
}
const config = loadConfig(process.env);
const texts = readBenchTexts(path.resolve(root, config.sharedDir), config, {
  shortCount: Infinity,
  longCount: Infinity,
});
const reviews = values.set === 'long' ? texts.long : texts.short;
const modelDir = values.model ?? config.model.dir;
const rounds: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
const latencies: Record<string, { p50Ms: number; p95Ms: number; p99Ms: number }[]> = Object.fromEntries(
  variants.map((v) => [v.name, []]),
);
let peer: Peer | undefined;
if (values.peer) {
  const opened = await openPeer(modelDir);
  if (!opened.ok) {
    console.error(
      `bench:compare --peer: ${'reason' in opened.results ? opened.results.reason : opened.results.status}`,
    );
    process.exit(2);
  }
  peer = opened.peer;
  rounds.peer = [];
}
const peerTexts = reviews.map(reviewModelText);
const startedAt = new Date().toISOString();
const loadBefore = os.loadavg();
const redis = await startLocalRedis();
try {
  for (let c = 0; c < Number(values.cycles); c++) {
    // Fresh fleets every cycle (their start-up and calibration vary too); within a cycle the
    // variants' rounds interleave, each round starting every variant at the same review.
    const fleets: Fleet[] = [];
    const peerRound = peer
      ? async (start: number, n: number) =>
          void rounds.peer!.push((await peer.round(peerTexts, start, n, 0.5, 8)).single)
      : undefined;
    for (const v of variants) fleets.push(await startFleet(redis, modelDir, v.env));
    // A different variant goes first in each cycle's rounds, so that none always follows the same one.
    const order = variants.map((_, k) => (k + c) % variants.length);
    const rotated = await interleavedThroughput(
      order.map((i) => fleets[i]!),
      reviews,
      { rounds: Number(values.rounds), seconds: Number(values.seconds), warmup: Number(values.warmup) },
      undefined,
      peerRound,
    );
    const results = variants.map((_, i) => rotated[order.indexOf(i)]!);
    if (values.latency !== undefined) {
      const rate = Number(values.latency) * results[0]!.reviewsPerS.median;
      // A different variant goes first each cycle, so that none always runs right after the closed loop.
      for (let k = 0; k < variants.length; k++) {
        const i = (k + c) % variants.length;
        const v = variants[i]!;
        const res = await openLoop(fleets[i]!, reviews, rate, Number(values['open-seconds']));
        latencies[v.name]!.push(res);
        log(
          `cycle ${c + 1} ${v.name} open loop at ${Math.round(rate)}/s: p50/p95/p99 ${ms(res.p50Ms)}/${ms(res.p95Ms)}/${ms(res.p99Ms)} ms, mean batch ${res.meanBatchSize.toFixed(1)}, producer lag ≤ ${ms(res.maxEnqueueLagMs)} ms`,
        );
      }
    }
    for (const [i, v] of variants.entries()) {
      const t = results[i]!;
      const [memory] = await fleets[i]!.stop();
      rounds[v.name]!.push(...t.reviewsPerS.values);
      log(
        `cycle ${c + 1} ${v.name}: ${t.reviewsPerS.values.map(fmt).join(', ')} reviews/s; CPU worker ${t.cpu.workers.toFixed(2)}, redis ${t.cpu.redis.toFixed(2)}, producer ${t.cpu.benchProcess.toFixed(2)}; worker peak RSS ${Math.round((memory?.vmHwmKb ?? NaN) / 1024)} MB`,
      );
    }
  }
  if (peer) log(`peer, one review per call: ${rounds.peer!.map(fmt).join(', ')} reviews/s`);
} finally {
  await redis.stop();
  await peer?.close();
}
/** Whole numbers from 100 up, three significant digits below (a transformer's 8–10 reviews/s). */
function ms(x: number): string {
  return String(Math.round(x));
}
function fmt(x: number): string {
  return x >= 100 ? String(Math.round(x)) : x.toPrecision(3);
}

if (values.out) {
  mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
  const host = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadBefore,
    loadAfter: os.loadavg(),
  };
  const settings = {
    set: values.set,
    model: path.relative(root, modelDir) || modelDir,
    cycles: Number(values.cycles),
    rounds: Number(values.rounds),
    seconds: Number(values.seconds),
  };
  const out = Object.fromEntries(
    Object.entries(rounds).map(([name, values]) => [
      name,
      { env: variants.find((v) => v.name === name)?.env ?? {}, ...summarize(values, 'reviews/s') },
    ]),
  );
  writeFileSync(
    values.out,
    `${JSON.stringify({ startedAt, finishedAt: new Date().toISOString(), host, settings, variants: out }, null, 2)}\n`,
  );
}
const base = summarize(rounds[variants[0]!.name]!, 'reviews/s').median;
for (const v of [...variants, ...(peer ? [{ name: 'peer', env: {} }] : [])]) {
  const s = summarize(rounds[v.name]!, 'reviews/s');
  const lat = latencies[v.name] ?? [];
  const p = (k: 'p50Ms' | 'p95Ms' | 'p99Ms'): string =>
    ms(
      summarize(
        lat.map((x) => x[k]),
        'ms',
      ).median,
    );
  const latency =
    lat.length > 0
      ? `  latency p50/p95/p99 ${p('p50Ms')}/${p('p95Ms')}/${p('p99Ms')} ms (median of ${lat.length}; p99s ${lat.map((x) => ms(x.p99Ms)).join(', ')})`
      : '';
  console.log(
    `${v.name.padEnd(16)} ${fmt(s.median).padStart(6)} reviews/s (${fmt(s.min)}–${fmt(s.max)}, ${s.rounds} rounds)  ×${(s.median / base).toFixed(2)}${latency}  ${JSON.stringify(v.env)}`,
  );
}
process.exit(0);
