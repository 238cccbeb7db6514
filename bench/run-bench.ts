/**
 * The benchmark suite (issue 6): the fleet against its ceilings and its peer, side by side, in
 * one run, on the same machine, texts and thread budget. Writes bench/results/<ISO date>.json and
 * regenerates docs/benchmarks.md (+ docs/benchmarks.svg).
 *
 *   npm run bench                    # full run: default model, transformer-sized model fp32 + int8
 *   npm run bench -- --quick         # short run (< 5 min): default model only
 *   npm run bench -- --no-transformer
 *
 * MODEL_DIR, SHARED_DIR … are read from the environment as usual (loadConfig).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/load-config.ts';
import { reviewModelText } from '../src/tokenize/review-text.ts';
import { startLocalRedis, type LocalRedis } from '../src/dev/local-redis.ts';
import { readBenchTexts, type BenchReview } from './bench-texts.ts';
import { keepNotes, modelDirLabel } from './benchmarks-doc.ts';
import { fleetThroughput, interleavedThroughput, openLoop, startFleet, type Fleet } from './fleet-driver.ts';
import { measureInProcess, tokenLengths } from './in-process.ts';
import { log } from './measure-stats.ts';
import { openPeer, peerResults, type Peer } from './peer.ts';
import { measureQueueCeiling } from './queue-ceiling.ts';
import { lanesSummary, measureLanes } from './lanes-measure.ts';
import {
  renderReport,
  type BenchResults,
  type FleetRun,
  type FleetSet,
  type PeerResults,
  type ProfileResults,
} from './report.ts';

const root = path.resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const withTransformer = !quick && !argv.includes('--no-transformer');
const cores = os.availableParallelism();
const baseConfig = loadConfig(process.env);

const P = quick
  ? {
      shortCount: 4000,
      longCount: 1500,
      rounds: 5,
      closedSeconds: 2,
      openSeconds: 5,
      timedSeconds: 0.5,
      queueJobs: 8000,
      scalingRounds: 3,
      backfill: 30_000,
    }
  : {
      shortCount: Infinity,
      longCount: Infinity,
      rounds: 5,
      closedSeconds: 6,
      openSeconds: 15,
      timedSeconds: 2,
      queueJobs: 30000,
      scalingRounds: 5,
      backfill: 100_000,
    };
const texts = readBenchTexts(path.resolve(root, baseConfig.sharedDir), baseConfig, P);
const sets: Record<string, { label: string; reviews: BenchReview[] }> = {
  short: { label: 'Flipkart (short)', reviews: texts.short },
  long: { label: 'Amazon multi-domain dev (long)', reviews: texts.long },
};
const setReviews = Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, v.reviews]));

/** Reviews per array call of the peer (its best case). */
const PEER_ARRAY_BATCH = 32;

/** The fleet variants compared side by side: the default (token-budget) policy, the fixed policy, batch size 1. */
const VARIANTS: Record<string, { description: string; env: Record<string, string> }> = {
  'token-budget': { description: 'BATCH_POLICY=token-budget (default)', env: { BATCH_POLICY: 'token-budget' } },
  fixed: {
    description: `BATCH_POLICY=fixed, BATCH_MAX_SIZE=${baseConfig.batching.maxSize}, BATCH_MAX_WAIT_MS=${baseConfig.batching.maxWaitMs}`,
    env: { BATCH_POLICY: 'fixed' },
  },
  batch1: {
    description: 'BATCH_MAX_SIZE=1 (no batching)',
    env: { BATCH_POLICY: 'fixed', BATCH_MAX_SIZE: '1', BATCH_MAX_WAIT_MS: '0' },
  },
};

interface ProfileSpec {
  name: string;
  title: string;
  modelDir: string;
  variants: string[];
  /** Open-loop latency for the token-budget (default) variant. */
  latency: boolean;
  peer: boolean;
  queue: boolean;
  scaling: boolean;
  /** The live and bulk lanes side by side, and live latency while a backfill drains (issue 19). */
  lanes?: boolean;
  /** Worker settings of the lanes' fleet (operating.md's layout for the model). */
  lanesEnv?: Record<string, string>;
  batchSizes: number[];
  /** Reviews in the warm-up round that sizes the timed rounds (small for slow models). */
  warmup: number;
  /**
   * Longer rounds than P's (full runs): a slow model completes few calls in a 1 s round, and the
   * best batch size is picked from medians whose noise would otherwise favour a lucky one.
   */
  timing?: { timedSeconds: number; closedSeconds: number };
}

const timedSeconds = (spec: ProfileSpec): number =>
  quick ? P.timedSeconds : (spec.timing?.timedSeconds ?? P.timedSeconds);
const closedSeconds = (spec: ProfileSpec): number =>
  quick ? P.closedSeconds : (spec.timing?.closedSeconds ?? P.closedSeconds);

/**
 * The profile's fleet variants (and the peer, when asked) side by side: every variant's fleet
 * runs at once on its own queue prefix (idle while another's round runs), and each set's rounds
 * interleave: round r of every variant, then the peer's round r, all from the same place in the
 * set, on the same reviews. Then the open-loop latency of the token-budget (default) variant.
 */
async function runFleets(
  redis: LocalRedis,
  spec: ProfileSpec,
  tokens: Record<string, number[]>,
): Promise<{ fleets: FleetRun[]; peer?: PeerResults }> {
  const started: Fleet[] = [];
  let peer: Awaited<ReturnType<typeof openPeer>> | undefined;
  try {
    for (const variant of spec.variants) {
      log(`${spec.name}: fleet ${variant} (${VARIANTS[variant]!.description})`);
      started.push(await startFleet(redis, spec.modelDir, VARIANTS[variant]!.env));
    }
    if (spec.peer) {
      log(`profile ${spec.name}: peer (@huggingface/transformers text-classification)`);
      peer = await openPeer(spec.modelDir);
    }
    const out: Record<string, FleetSet>[] = spec.variants.map(() => ({}));
    const peerRounds: Record<string, { single: number; arrays: number }[]> = {};
    let peerFailure: string | undefined; // a peer that fails mid-run is reported as failed; the fleets go on
    for (const [name, set] of Object.entries(sets)) {
      const texts = set.reviews.map(reviewModelText);
      const rounds: { single: number; arrays: number }[] = (peerRounds[name] = []);
      const timedPeer: Peer | undefined = peer?.ok ? peer.peer : undefined;
      const peerRound = timedPeer
        ? async (start: number, n: number): Promise<void> => {
            if (peerFailure !== undefined) return;
            try {
              rounds.push(await timedPeer.round(texts, start, n, timedSeconds(spec), PEER_ARRAY_BATCH));
            } catch (err) {
              peerFailure = (err as Error).message;
            }
          }
        : undefined;
      const results = await interleavedThroughput(
        started,
        set.reviews,
        { rounds: P.rounds, seconds: closedSeconds(spec), warmup: spec.warmup },
        tokens[name],
        peerRound,
      );
      for (const [i, variant] of spec.variants.entries()) {
        const t = results[i]!;
        log(
          `${spec.name} ${variant} ${name}: ${Math.round(t.reviewsPerS.median)} reviews/s (spread ±${(t.reviewsPerS.spreadPct / 2).toFixed(0)}%)`,
        );
        out[i]![name] = {
          reviewsPerS: t.reviewsPerS,
          tokensPerS: t.tokensPerS,
          reviewsPerRound: t.reviewsPerRound,
          cpu: t.cpu,
          latency: [],
        };
      }
      if (rounds.length > 0)
        log(`peer ${name}: ${rounds.map((r) => Math.round(r.single)).join(', ')} reviews/s one by one`);
      const a = spec.variants.indexOf('token-budget');
      if (spec.latency && a >= 0) {
        for (const load of [0.5, 0.8]) {
          const res = await openLoop(started[a]!, set.reviews, results[a]!.reviewsPerS.median * load, P.openSeconds);
          log(
            `${spec.name} token-budget ${name} open loop ${load * 100}%: p50 ${res.p50Ms} p95 ${res.p95Ms} p99 ${res.p99Ms} ms, mean batch ${res.meanBatchSize.toFixed(1)}`,
          );
          out[a]![name]!.latency.push({ ...res, load });
        }
      }
    }
    const fleets: FleetRun[] = [];
    for (const [i, variant] of spec.variants.entries()) {
      const fleet = started[i]!;
      const memory = await fleet.stop();
      const policy = fleet.ready[0]?.batchPolicy;
      const v = VARIANTS[variant]!;
      fleets.push({
        variant,
        description: v.description,
        env: v.env,
        workers: 1,
        sets: out[i]!,
        memory: memory.map((m) => ({ vmHwmMb: m.vmHwmKb / 1024, vmRssMb: m.vmRssKb / 1024 })),
        ...(policy ? { batchPolicy: policy } : {}),
      });
    }
    started.length = 0;
    const peerOut: PeerResults | undefined =
      peer === undefined
        ? undefined
        : !peer.ok
          ? peer.results
          : peerFailure !== undefined
            ? { status: 'failed', reason: peerFailure }
            : peerResults(peer.peer, peerRounds, PEER_ARRAY_BATCH);
    return { fleets, ...(peerOut ? { peer: peerOut } : {}) };
  } finally {
    for (const fleet of started) await fleet.stop();
    if (peer?.ok) await peer.peer.close();
  }
}

async function runProfile(redis: LocalRedis, spec: ProfileSpec): Promise<ProfileResults> {
  const config = loadConfig({ ...process.env, MODEL_DIR: spec.modelDir });
  log(`profile ${spec.name} (${spec.modelDir}): in-process measures`);
  const inproc = await measureInProcess(spec.modelDir, config, setReviews, {
    rounds: P.rounds,
    timedSeconds: timedSeconds(spec),
    batchSizes: spec.batchSizes,
    ...(config.inference.threads > 1
      ? { layout: { sessions: config.inference.threads, intraOpThreads: config.inference.intraOpThreads } }
      : {}),
  });
  let queue: ProfileResults['queue'];
  if (spec.queue) {
    log(`profile ${spec.name}: queue ceiling (no-op processor, concurrency ${config.worker.concurrency})`);
    queue = await measureQueueCeiling(redis, config, texts.short, { rounds: P.rounds, jobs: P.queueJobs });
    log(
      `queue ceiling: drain ${Math.round(queue.jobsPerS.median)} jobs/s, flow ${Math.round(queue.flowJobsPerS.median)} jobs/s`,
    );
  }
  const tokens = tokenLengths(spec.modelDir, config, setReviews);
  const { fleets, peer } = await runFleets(redis, spec, tokens);
  if (peer?.status === 'measured')
    for (const [k, v] of Object.entries(peer.sets))
      log(
        `peer ${k}: ${Math.round(v.perReviewPerS.median)} reviews/s one by one, ${Math.round(v.arraysPerS.median)} with arrays of ${v.arrayBatch}`,
      );
  const scaling: ProfileResults['scaling'] = [];
  if (spec.scaling) {
    for (const workers of [1, 2, 3]) {
      log(`profile ${spec.name}: ${workers} worker process(es), short texts`);
      const fleet = await startFleet(redis, spec.modelDir, {}, { workers });
      const t = await fleetThroughput(fleet, texts.short, {
        rounds: P.scalingRounds,
        seconds: P.closedSeconds,
        warmup: spec.warmup,
      });
      const cpu = t.cpu;
      const memory = await fleet.stop();
      log(`${workers} worker(s): ${Math.round(t.reviewsPerS.median)} reviews/s`);
      scaling.push({
        workers,
        reviewsPerS: t.reviewsPerS,
        ...(cpu ? { cpu } : {}),
        memoryMb: memory.map((m) => m.vmHwmKb / 1024),
      });
    }
  }
  let lanes: ProfileResults['lanes'];
  if (spec.lanes) {
    log(`profile ${spec.name}: live and bulk lanes side by side, then a ${P.backfill}-review backfill under live load`);
    lanes = await measureLanes(redis, spec.modelDir, config, setReviews, tokens, inproc, {
      rounds: P.rounds,
      seconds: closedSeconds(spec),
      openSeconds: P.openSeconds,
      backfill: spec.name === 'default' ? P.backfill : 0,
      queueJobs: P.queueJobs,
      peerSeconds: timedSeconds(spec),
      peer: spec.peer,
      warmup: spec.warmup,
      ...(spec.lanesEnv ? { env: spec.lanesEnv } : {}),
    });
    for (const line of lanesSummary(lanes)) log(line);
  }
  return {
    name: spec.name,
    title: spec.title,
    modelDir: modelDirLabel(path.relative(root, path.resolve(root, spec.modelDir)) || spec.modelDir),
    fleetConfig: {
      batchMaxSize: config.batching.maxSize,
      batchMaxWaitMs: config.batching.maxWaitMs,
      batchMaxTokens: config.batching.maxTokens,
      inferenceThreads: config.inference.threads,
      intraOpThreads: config.inference.intraOpThreads,
      concurrency: config.worker.concurrency,
    },
    ...(queue ? { queue } : {}),
    sets: Object.fromEntries(Object.entries(inproc).map(([k, v]) => [k, { ...v, label: sets[k]!.label }])),
    fleets,
    ...(peer ? { peer } : {}),
    ...(scaling.length > 0 ? { scaling } : {}),
    ...(lanes ? { lanes } : {}),
  };
}

/** Runs a command (`bench/write-benchmark-model.ts`, `bin/sentiment-fleet.ts quantize`) unless its output exists. */
async function cli(entry: string, args: string[], out: string): Promise<void> {
  if (existsSync(path.join(out, 'config.json'))) return;
  log(`${entry} ${args.join(' ')}`);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, entry), ...args], {
    cwd: root,
    stdio: 'inherit',
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`${entry} ${args[0]} exited with ${code}`);
}

async function main(): Promise<void> {
  const started = new Date();
  const loadBefore = os.loadavg();
  log(
    `${quick ? 'quick' : 'full'} run: ${texts.short.length} short + ${texts.long.length} long reviews, ${cores} cores, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const redis = await startLocalRedis();
  const profiles: ProfileResults[] = [];
  const skipped: string[] = [];
  const common = { queue: false, scaling: false };
  try {
    profiles.push(
      await runProfile(redis, {
        ...common,
        name: 'default',
        title: 'default model',
        modelDir: baseConfig.model.dir,
        variants: ['token-budget', 'fixed', 'batch1'],
        latency: true,
        peer: true,
        queue: true,
        scaling: true,
        lanes: true,
        batchSizes: quick ? [1, 8, 32, 128] : [1, 4, 8, 16, 32, 64, 128],
        warmup: 1000,
      }),
    );
    if (withTransformer) {
      const fp32 = path.join(os.tmpdir(), 'sf-bench-model');
      const int8 = path.join(os.tmpdir(), 'sf-bench-model-int8');
      await cli('bench/write-benchmark-model.ts', ['--out', fp32], fp32);
      await cli('bin/sentiment-fleet.ts', ['quantize', '--model', fp32, '--out', int8], int8);
      const sizes = [1, 2, 4, 8, 16];
      const timing = { timedSeconds: 4, closedSeconds: 10 };
      profiles.push(
        await runProfile(redis, {
          ...common,
          name: 'transformer',
          title: 'transformer-sized model, fp32',
          modelDir: fp32,
          variants: ['token-budget', 'fixed', 'batch1'],
          latency: true,
          peer: true,
          lanes: true,
          // A transformer's bulk thread runs onnxruntime on every core (operating.md): with one
          // intra-op thread it scored 0.55–0.59 × the live lane's reviews/s, with two 0.98–1.02 ×.
          lanesEnv: { BULK_INTRA_OP_THREADS: String(os.cpus().length) },
          batchSizes: sizes,
          warmup: 40,
          timing,
        }),
      );
      profiles.push(
        await runProfile(redis, {
          ...common,
          name: 'transformer-int8',
          title: 'transformer-sized model, int8 (sentiment-fleet quantize)',
          modelDir: int8,
          variants: ['token-budget'],
          latency: false,
          peer: false,
          batchSizes: sizes,
          warmup: 80,
          timing,
        }),
      );
    } else {
      skipped.push(
        quick
          ? 'the transformer-sized profiles (fp32 and int8): full runs only'
          : 'the transformer-sized profiles (--no-transformer)',
      );
    }
  } finally {
    await redis.stop();
  }
  const results: BenchResults = {
    date: started.toISOString(),
    mode: quick ? 'quick' : 'full',
    durationS: (Date.now() - started.getTime()) / 1000,
    machine: {
      cores,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      loadAvgBefore: loadBefore,
      loadAvgAfter: os.loadavg(),
    },
    texts: {
      short: { file: path.relative(root, texts.files.short), count: texts.short.length },
      long: { files: texts.files.long.map((f) => path.relative(root, f)), count: texts.long.length },
    },
    params: P,
    profiles,
    skipped,
  };
  const dir = path.join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${results.date.replace(/:/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  const { markdown, svg } = renderReport(results, path.relative(path.join(root, 'docs'), file));
  const doc = path.join(root, 'docs', 'benchmarks.md');
  writeFileSync(doc, keepNotes(markdown, existsSync(doc) ? readFileSync(doc, 'utf8') : undefined));
  writeFileSync(path.join(root, 'docs', 'benchmarks.svg'), svg);
  log(
    `wrote ${path.relative(root, file)}, docs/benchmarks.md, docs/benchmarks.svg in ${results.durationS.toFixed(0)} s`,
  );
}

try {
  await main();
  process.exit(0);
} catch (err) {
  console.error(err);
  process.exit(1);
}
