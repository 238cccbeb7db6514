/**
 * The two lanes side by side (issue 19), in one run on the same machine, texts and thread budget:
 * the live lane (one job per review) and the bulk lane (one job per chunk) of one fleet, the
 * in-process peer one by one and in arrays, the compute ceiling and the no-op queue loop; then
 * live reviews in an open loop at 50% of the live lane's capacity, alone and while a backfill
 * drains in the bulk lane. Used by `npm run bench` (the default profile) and `npm run bench:lanes`.
 */
import { loadConfig, type Config } from '../src/config/load-config.ts';
import type { LocalRedis } from '../src/dev/local-redis.ts';
import { reviewModelText } from '../src/tokenize/review-text.ts';
import type { BenchReview } from './bench-texts.ts';
import { backfillWhileLive, bulkClosedLoop, closeBulk } from './bulk-driver.ts';
import { closedLoop, startFleet } from './fleet-driver.ts';
import type { InProcessResults } from './in-process.ts';
import { log, summarize } from './measure-stats.ts';
import { openPeer } from './peer.ts';
import { measureQueueCeiling } from './queue-ceiling.ts';
import type { Measure } from './report.ts';

export interface LanesParams {
  rounds: number;
  /** Seconds per closed-loop round (sized from a warm-up round of the live lane). */
  seconds: number;
  openSeconds: number;
  backfill: number;
  queueJobs: number;
  /** Seconds of the peer's array rounds. */
  peerSeconds: number;
  peer: boolean;
  /** Reviews of the warm-up round that sizes the rounds (small for slow models). */
  warmup: number;
  /** Worker settings of the fleet (on top of the environment's), e.g. a transformer's layout. */
  env?: Record<string, string>;
}

export interface LanesSet {
  reviewsPerRound: number;
  live: Measure;
  bulk: Measure;
  bulkTokensPerS: Measure;
  peerSingle?: Measure;
  peerArrays?: Measure;
  ceiling: { reviewsPerS: number; tokensPerS: number; batchSize: number };
}

export interface LanesResults {
  settings: {
    bulkChunkSize: number;
    bulkConcurrency: number;
    batchMaxSize: number;
    inferenceThreads: number;
    /** Absent in reports before 2026-12-03. */
    bulkThreads?: number;
    bulkIntraOpThreads?: number;
  };
  queueNoOpJobsPerS: Measure;
  sets: Record<string, LanesSet>;
  /** Absent when the run asked for no backfill (a slow model: `backfill: 0`). */
  backfill?: Awaited<ReturnType<typeof backfillWhileLive>>;
}

const settingsOf = (config: Config): LanesResults['settings'] => ({
  bulkChunkSize: config.bulk.chunkSize,
  bulkConcurrency: config.bulk.concurrency,
  batchMaxSize: config.batching.maxSize,
  inferenceThreads: config.inference.threads,
  bulkThreads: config.bulk.threads,
  bulkIntraOpThreads: config.bulk.intraOpThreads,
});

const fmt = (x: number): string => (x >= 100 ? String(Math.round(x)) : x.toPrecision(3));

export async function measureLanes(
  redis: LocalRedis,
  modelDir: string,
  config: Config,
  sets: Record<string, readonly BenchReview[]>,
  tokens: Record<string, number[]>,
  inproc: Record<string, InProcessResults>,
  P: LanesParams,
): Promise<LanesResults> {
  const peer = P.peer ? await openPeer(modelDir) : undefined;
  const out: Record<string, LanesSet> = {};
  try {
    const queue = await measureQueueCeiling(redis, config, sets.short!, { rounds: P.rounds, jobs: P.queueJobs });
    log(`lanes: no-op queue loop ${Math.round(queue.jobsPerS.median)} jobs/s`);
    const fleet = await startFleet(redis, modelDir, P.env ?? {});
    const settings = settingsOf(loadConfig({ ...process.env, ...P.env }));
    try {
      for (const [name, reviews] of Object.entries(sets)) {
        const peerTexts = reviews.map(reviewModelText);
        const warm = await closedLoop(fleet, reviews, P.warmup, tokens[name], 0);
        const n = Math.max(20, Math.min(reviews.length * 4, Math.round(warm.reviewsPerS * P.seconds)));
        const live: number[] = [];
        const bulk: number[] = [];
        const bulkTokens: number[] = [];
        const single: number[] = [];
        const arrays: number[] = [];
        await bulkClosedLoop(fleet, reviews, Math.min(n, P.warmup), tokens[name], 0); // warm-up
        for (let r = 0; r < P.rounds; r++) {
          const start = (r * n) % reviews.length;
          // Alternate which lane goes first, so that neither always runs right after the other.
          for (const lane of r % 2 === 0 ? ['live', 'bulk'] : ['bulk', 'live']) {
            if (lane === 'live') live.push((await closedLoop(fleet, reviews, n, tokens[name], start)).reviewsPerS);
            else {
              const b = await bulkClosedLoop(fleet, reviews, n, tokens[name], start);
              bulk.push(b.reviewsPerS);
              bulkTokens.push(b.tokensPerS);
            }
          }
          if (peer?.ok) {
            const pr = await peer.peer.round(peerTexts, start, Math.min(n, 3000), P.peerSeconds, 32);
            single.push(pr.single);
            arrays.push(pr.arrays);
          }
          log(
            `lanes ${name} round ${r + 1}: live ${fmt(live.at(-1)!)}, bulk ${fmt(bulk.at(-1)!)}${peer?.ok ? `, peer ${fmt(single.at(-1)!)} one by one, ${fmt(arrays.at(-1)!)} arrays` : ''} reviews/s`,
          );
        }
        const best = inproc[name]!.compute.best;
        out[name] = {
          reviewsPerRound: n,
          live: summarize(live, 'reviews/s'),
          bulk: summarize(bulk, 'reviews/s'),
          bulkTokensPerS: summarize(bulkTokens, 'tokens/s'),
          ...(single.length > 0
            ? { peerSingle: summarize(single, 'reviews/s'), peerArrays: summarize(arrays, 'reviews/s') }
            : {}),
          ceiling: { reviewsPerS: best.reviewsPerS.median, tokensPerS: best.tokensPerS, batchSize: best.batchSize },
        };
      }
      const liveCapacity = out.short!.live.median;
      if (P.backfill <= 0) return { settings, queueNoOpJobsPerS: queue.jobsPerS, sets: out };
      log(
        `lanes: live at 50% of ${Math.round(liveCapacity)} reviews/s for ${P.openSeconds} s, alone, then while a ${P.backfill}-review backfill drains in the bulk lane`,
      );
      const backfill = await backfillWhileLive(fleet, sets.short!, {
        backfill: P.backfill,
        liveRate: liveCapacity * 0.5,
        seconds: P.openSeconds,
      });
      return {
        settings,
        queueNoOpJobsPerS: queue.jobsPerS,
        sets: out,
        backfill,
      };
    } finally {
      await closeBulk(fleet);
      await fleet.stop();
    }
  } finally {
    if (peer?.ok) await peer.peer.close();
  }
}

/** The lanes' figures as lines of text (bench:lanes prints them). */
export function lanesSummary(r: LanesResults): string[] {
  const lines: string[] = [];
  for (const [name, s] of Object.entries(r.sets)) {
    const bulk = s.bulk.median;
    const x = (m: Measure | undefined) => (m ? (bulk / m.median).toFixed(2) : '—');
    lines.push(
      `${name}: live ${fmt(s.live.median)}, bulk ${fmt(bulk)} reviews/s (×${x(s.live)} live, ×${x(s.peerSingle)} peer one by one, ×${x(s.peerArrays)} peer arrays, ×${(bulk / s.ceiling.reviewsPerS).toFixed(2)} ceiling ${fmt(s.ceiling.reviewsPerS)}); peer ${s.peerSingle ? fmt(s.peerSingle.median) : '—'} / ${s.peerArrays ? fmt(s.peerArrays.median) : '—'}`,
    );
  }
  lines.push(`no-op queue loop: ${fmt(r.queueNoOpJobsPerS.median)} jobs/s`);
  const b = r.backfill;
  if (!b) return lines;
  const o = b.liveSolo;
  const l = b.live;
  lines.push(`live at ${fmt(o.ratePerS)}/s alone: p50/p95/p99 ${fmt(o.p50Ms)}/${fmt(o.p95Ms)}/${fmt(o.p99Ms)} ms`);
  lines.push(
    `live at ${fmt(l.ratePerS)}/s during a ${b.backfill}-review backfill: p50/p95/p99 ${fmt(l.p50Ms)}/${fmt(l.p95Ms)}/${fmt(l.p99Ms)} ms (${l.completed}/${l.offered}); backfill ${fmt(b.backfillReviewsPerS)} reviews/s = ×${(b.backfillReviewsPerS / r.sets.short!.bulk.median).toFixed(2)} of its solo rate${b.drainedDuringLive ? ' (drained within the live window: its rate over the time it took)' : ''}`,
  );
  return lines;
}
