/**
 * BULK_CHUNK_SIZE side by side: one fleet per chunk size, their bulk-lane closed loops interleaved
 * on the same reviews (as bench:compare does for fleet settings). Prints each size's median and
 * its ratio to the first.
 *
 *   node --import tsx bench/bulk-chunk-sizes.ts [--sizes 64,256,1024] [--set short|long] [--rounds 3] [--n 20000]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load-config.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { readBenchTexts } from './bench-texts.ts';
import { bulkClosedLoop, closeBulk } from './bulk-driver.ts';
import { startFleet, type Fleet } from './fleet-driver.ts';
import { loadAverage, log, summarize } from './measure-stats.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '64,256,1024' },
    set: { type: 'string', default: 'short' },
    rounds: { type: 'string', default: '3' },
    n: { type: 'string', default: '20000' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const config = loadConfig(process.env);
const texts = readBenchTexts(path.resolve(root, config.sharedDir), config, {
  shortCount: Infinity,
  longCount: Infinity,
});
const reviews = values.set === 'long' ? texts.long : texts.short;
const n = Number(values.n);
const redis = await startLocalRedis();
const fleets: Fleet[] = [];
const rounds: number[][] = sizes.map(() => []);
log(`chunk sizes ${sizes.join(', ')}, ${values.set} set, ${n} reviews per round, load average ${loadAverage()}`);
try {
  for (const size of sizes) fleets.push(await startFleet(redis, config.model.dir, { BULK_CHUNK_SIZE: String(size) }));
  for (const f of fleets) await bulkClosedLoop(f, reviews, Math.min(n, 4000), undefined, 0);
  for (let r = 0; r < Number(values.rounds); r++) {
    const start = (r * n) % reviews.length;
    // A different size goes first each round.
    for (let k = 0; k < fleets.length; k++) {
      const i = (k + r) % fleets.length;
      rounds[i]!.push((await bulkClosedLoop(fleets[i]!, reviews, n, undefined, start)).reviewsPerS);
    }
    log(`round ${r + 1}: ${sizes.map((s, i) => `${s}: ${Math.round(rounds[i]!.at(-1)!)}`).join(', ')} reviews/s`);
  }
} finally {
  for (const f of fleets) {
    await closeBulk(f);
    await f.stop();
  }
  await redis.stop();
}
const base = summarize(rounds[0]!, 'reviews/s').median;
for (const [i, size] of sizes.entries()) {
  const s = summarize(rounds[i]!, 'reviews/s');
  console.log(
    `BULK_CHUNK_SIZE=${String(size).padEnd(5)} ${Math.round(s.median)} reviews/s (${Math.round(s.min)}–${Math.round(s.max)})  ×${(s.median / base).toFixed(2)}`,
  );
}
console.log(`load average after ${loadAverage()}`);
process.exit(0);
