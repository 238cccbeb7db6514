/**
 * Before/after of a fleet setting, side by side: the fleet's closed-loop throughput for each
 * variant (worker settings), with interleaved rounds on the same texts so that a machine whose
 * speed drifts during the run cannot favour one variant. Prints the medians and each variant's
 * ratio to the first.
 *
 *   npm run bench:compare -- --variant base: --variant nospin:INTRA_OP_SPINNING=false \
 *     [--set short|long] [--model DIR] [--cycles 3] [--rounds 3] [--seconds 3]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load-config.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { readBenchTexts } from './bench-texts.ts';
import { interleavedThroughput, startFleet } from './fleet-driver.ts';
import { log, summarize } from './measure-stats.ts';

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
  },
});
/** `name:KEY=V,KEY=V` (an empty list is the defaults). */
const variants = values.variant.map((v) => {
  const [name, list = ''] = [v.slice(0, v.indexOf(':') < 0 ? v.length : v.indexOf(':')), v.slice(v.indexOf(':') + 1)];
  const env = Object.fromEntries(list.split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return { name, env };
});
if (variants.length < 2) {
  console.error('bench:compare needs at least two --variant name:KEY=V,... (the first is the baseline)');
  process.exit(2);
}
const config = loadConfig(process.env);
const texts = readBenchTexts(path.resolve(root, config.sharedDir), config, { shortCount: Infinity, longCount: Infinity });
const reviews = values.set === 'long' ? texts.long : texts.short;
const modelDir = values.model ?? config.model.dir;
const rounds: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
const redis = await startLocalRedis();
try {
  for (let c = 0; c < Number(values.cycles); c++) {
    // Fresh fleets every cycle (their start-up and calibration vary too); within a cycle the
    // variants' rounds interleave, each round starting every variant at the same review.
    const fleets = [];
    for (const v of variants) fleets.push(await startFleet(redis, modelDir, v.env));
    const results = await interleavedThroughput(fleets, reviews, { rounds: Number(values.rounds), seconds: Number(values.seconds), warmup: Number(values.warmup) });
    for (const [i, v] of variants.entries()) {
      const t = results[i]!;
      const [memory] = await fleets[i]!.stop();
      rounds[v.name]!.push(...t.reviewsPerS.values);
      log(`cycle ${c + 1} ${v.name}: ${t.reviewsPerS.values.map(fmt).join(', ')} reviews/s; CPU worker ${t.cpu.workers.toFixed(2)}, redis ${t.cpu.redis.toFixed(2)}, producer ${t.cpu.benchProcess.toFixed(2)}; worker peak RSS ${Math.round((memory?.vmHwmKb ?? NaN) / 1024)} MB`);
    }
  }
} finally {
  await redis.stop();
}
/** Whole numbers from 100 up, three significant digits below (a transformer's 8–10 reviews/s). */
function fmt(x: number): string {
  return x >= 100 ? String(Math.round(x)) : x.toPrecision(3);
}

const base = summarize(rounds[variants[0]!.name]!, 'reviews/s').median;
for (const v of variants) {
  const s = summarize(rounds[v.name]!, 'reviews/s');
  console.log(`${v.name.padEnd(16)} ${fmt(s.median).padStart(6)} reviews/s (${fmt(s.min)}–${fmt(s.max)}, ${s.rounds} rounds)  ×${(s.median / base).toFixed(2)}  ${JSON.stringify(v.env)}`);
}
process.exit(0);
