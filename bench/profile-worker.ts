/**
 * Profiles a worker process under load with node's own profiler (`--cpu-prof`): starts a local
 * redis-server, one worker (workers/inference-worker.ts) with --cpu-prof, pushes N Flipkart
 * reviews through it (closed loop), stops it with SIGTERM (which writes the profile) and prints
 * where the main thread's time went: self time by package and the top functions.
 *
 *   npm run bench:profile [-- --reviews 60000] [-- --env KEY=VALUE ...] [-- --lane bulk] [-- --long]
 *
 * The .cpuprofile lands in bench/profiles/ (open it in Chrome DevTools → Performance).
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load-config.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { readBenchTexts } from './bench-texts.ts';
import { bulkClosedLoop, closeBulk } from './bulk-driver.ts';
import { closedLoop, startFleet } from './fleet-driver.ts';
import { summarizeCpuProfile } from './cpu-profile.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    reviews: { type: 'string', default: '60000' },
    env: { type: 'string', multiple: true, default: [] },
    lane: { type: 'string', default: 'live' },
    long: { type: 'boolean', default: false },
  },
});
const extra = Object.fromEntries(values.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const config = loadConfig(process.env);
const texts = readBenchTexts(path.resolve(root, config.sharedDir), config, {
  shortCount: values.long ? 0 : Infinity,
  longCount: values.long ? Infinity : 0,
});
const set = values.long ? texts.long : texts.short;
const loop = values.lane === 'bulk' ? bulkClosedLoop : closedLoop;
const dir = path.join(root, 'bench', 'profiles');
mkdirSync(dir, { recursive: true });
const before = new Set(readdirSync(dir));
const redis = await startLocalRedis();
try {
  const fleet = await startFleet(redis, config.model.dir, extra, { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
  const n = Number(values.reviews);
  await loop(fleet, set, 2000);
  const t0 = performance.now();
  const { reviewsPerS: rate, cpu } = await loop(fleet, set, n);
  console.log(`${n} reviews in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${Math.round(rate)} reviews/s`);
  console.log(
    `CPU (cores busy): worker process ${cpu.workers.toFixed(2)}, redis-server ${cpu.redis.toFixed(2)}, bench process (producer) ${cpu.benchProcess.toFixed(2)}`,
  );
  if (values.lane === 'bulk') await closeBulk(fleet);
  await fleet.stop();
} finally {
  await redis.stop();
}
// One profile per thread; the main thread's is the one numbered .0.
const file = readdirSync(dir).find((f) => /\.0\.\d+\.cpuprofile$/.test(f) && !before.has(f));
if (!file) throw new Error('the worker wrote no .cpuprofile');
console.log(`profile: bench/profiles/${file}`);
const summary = summarizeCpuProfile(JSON.parse(readFileSync(path.join(dir, file), 'utf8')), root);
console.log(`\nself time by package (main thread, ${(summary.totalMs / 1000).toFixed(1)} s sampled):`);
for (const p of summary.byPackage.slice(0, 15)) console.log(`  ${p.share.toFixed(1).padStart(5)}%  ${p.name}`);
console.log('\ntop functions by self time:');
for (const f of summary.byFunction.slice(0, 25))
  console.log(`  ${f.share.toFixed(1).padStart(5)}%  ${f.name}  (${f.where})`);
