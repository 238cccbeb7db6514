/**
 * Bulk-lane settings side by side (BULK_THREADS, BULK_NICE, ...): one fleet per variant, each running the backfill scenario
 * (live reviews at 50% of the first fleet's live capacity while a backfill drains in the bulk
 * lane) in alternating order, plus each fleet's live capacity and solo bulk rate. Prints live p50/p95/p99 and the
 * backfill's share of its solo rate per fleet and cycle.
 *
 *   node --import tsx bench/bulk-variants.ts [--variants 'BULK_THREADS=0;BULK_THREADS=1,BULK_NICE=0'] [--cycles 2] [--backfill 30000] [--seconds 5] [--long]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load-config.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { readBenchTexts } from './bench-texts.ts';
import { backfillWhileLive, bulkClosedLoop, closeBulk } from './bulk-driver.ts';
import { closedLoop, startFleet, type Fleet } from './fleet-driver.ts';
import { loadAverage, log } from './measure-stats.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    variants: { type: 'string', default: 'BULK_THREADS=0;BULK_THREADS=1' },
    cycles: { type: 'string', default: '2' },
    backfill: { type: 'string', default: '30000' },
    seconds: { type: 'string', default: '5' },
    long: { type: 'boolean', default: false },
  },
});
// A variant: KEY=VALUE settings joined by ','; variants joined by ';'.
const variants = values.variants.split(';');
const envOf = (variant: string) =>
  Object.fromEntries(variant.split(',').map((kv) => kv.split('=') as [string, string]));
const config = loadConfig(process.env);
const all = readBenchTexts(path.resolve(root, config.sharedDir), config, { shortCount: 4000, longCount: 4000 });
// --long: the long set (Amazon multi-domain) for every measure instead of the short one.
const texts = { short: values.long ? all.long : all.short };
const redis = await startLocalRedis();
const fleets: Fleet[] = [];
const rows: string[] = [];
log(`variants ${variants.join(', ')}, load average ${loadAverage()}`);
try {
  for (const variant of variants) fleets.push(await startFleet(redis, config.model.dir, envOf(variant)));
  await closedLoop(fleets[0]!, texts.short, 1000, undefined, 0);
  const capacity = (await closedLoop(fleets[0]!, texts.short, 4000, undefined, 0)).reviewsPerS;
  const rate = capacity * 0.5;
  log(`live capacity ${Math.round(capacity)} reviews/s; live at ${Math.round(rate)}/s`);
  for (let c = 0; c < Number(values.cycles); c++) {
    for (let k = 0; k < fleets.length; k++) {
      const i = (k + c) % fleets.length;
      const live = (await closedLoop(fleets[i]!, texts.short, 4000, undefined, 0)).reviewsPerS;
      const solo = (await bulkClosedLoop(fleets[i]!, texts.short, 15_000, undefined, 0)).reviewsPerS;
      const b = await backfillWhileLive(fleets[i]!, texts.short, {
        backfill: Number(values.backfill),
        liveRate: rate,
        seconds: Number(values.seconds),
      });
      const row = `cycle ${c + 1} ${variants[i]}: live capacity ${Math.round(live)} reviews/s; live alone p50/p95/p99 ${Math.round(b.liveSolo.p50Ms)}/${Math.round(b.liveSolo.p95Ms)}/${Math.round(b.liveSolo.p99Ms)} ms, during backfill ${Math.round(b.live.p50Ms)}/${Math.round(b.live.p95Ms)}/${Math.round(b.live.p99Ms)} ms; backfill ${Math.round(b.backfillReviewsPerS)} of solo ${Math.round(solo)} reviews/s = ${(b.backfillReviewsPerS / solo).toFixed(2)}${b.drainedDuringLive ? ' (drained within the window)' : ''}`;
      log(row);
      rows.push(row);
    }
  }
} finally {
  for (const f of fleets) {
    await closeBulk(f);
    await f.stop();
  }
  await redis.stop();
}
for (const r of rows) console.log(r);
console.log(`load average after ${loadAverage()}`);
process.exit(0);
