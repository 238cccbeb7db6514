/**
 * The benchmark suite (issue 6): the fleet against its ceilings, side by side, in one run, on
 * the same machine, texts and thread budget. Writes bench/results/<ISO date>.json and
 * regenerates docs/benchmarks.md (+ docs/benchmarks.svg).
 *
 *   npm run bench                    # full run, default model
 *   npm run bench -- --quick         # short run (< 5 min)
 *   npm run bench -- --transformer   # full run, plus the transformer-sized bench model
 *
 * MODEL_DIR, SHARED_DIR … are read from the environment as usual (loadConfig).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import ort from 'onnxruntime-node';
import { groupByLength, paddingStats } from '../src/batching/length-groups.ts';
import { loadConfig, type Config } from '../src/config/load-config.ts';
import { startLocalRedis, type LocalRedis } from '../src/dev/local-redis.ts';
import { readModelSpec } from '../src/inference/model-dir.ts';
import { createReviewProducer } from '../src/ingest/review-producer.ts';
import { createLogger } from '../src/logging/logger.ts';
import { createEncoder, padBatch } from '../src/tokenize/encoder.ts';
import { reviewModelText } from '../src/tokenize/review-text.ts';
import { renderReport, type BenchResults, type Measure, type ProfileResults, type TextSetResults } from './report.ts';

const root = path.resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const withTransformer = argv.includes('--transformer') && !quick;
const cores = os.availableParallelism();
const logger = createLogger({ level: 'warn', format: 'json' });
const baseConfig = loadConfig(process.env);
const sharedDir = path.resolve(root, baseConfig.sharedDir);

const P = quick
  ? { shortCount: 4000, longCount: 1500, rounds: 5, closedSeconds: 2, openSeconds: 5, timedSeconds: 0.5, queueJobs: 8000, latencyLong: true, bs1Long: true }
  : { shortCount: Infinity, longCount: Infinity, rounds: 5, closedSeconds: 6, openSeconds: 15, timedSeconds: 2, queueJobs: 30000, latencyLong: true, bs1Long: true };

interface BenchReview { id: string; title?: string; text: string }
const log = (msg: string): void => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Texts
function readJsonl(file: string): BenchReview[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => {
    const o = JSON.parse(l) as { id: string; title?: string; text: string };
    return o.title ? { id: o.id, title: o.title, text: o.text } : { id: o.id, text: o.text };
  }).filter((r) => r.text.trim() !== '' && r.text.length <= baseConfig.reviews.maxTextChars && (r.title ?? '').length <= baseConfig.reviews.maxTextChars);
}
const flipkartFile = path.join(sharedDir, 'data', 'flipkart-reviews.jsonl');
const amazonFiles = ['books', 'dvd', 'electronics', 'kitchen'].map((d) => path.join(sharedDir, 'data', 'amazon-multidomain', `${d}-dev.jsonl`));
const missing = [flipkartFile, ...amazonFiles].filter((f) => !existsSync(f));
if (missing.length > 0) {
  console.error(`bench: the shared data sets are missing (SHARED_DIR=${baseConfig.sharedDir} → ${sharedDir}):\n  ${missing.join('\n  ')}\nSet SHARED_DIR to the directory that holds data/flipkart-reviews.jsonl and data/amazon-multidomain/.`);
  process.exit(2);
}
const short = readJsonl(flipkartFile).slice(0, P.shortCount);
// Interleave the four domains so that a prefix of the set is a mix of all of them.
const perDomain = amazonFiles.map(readJsonl);
const longAll: BenchReview[] = [];
for (let i = 0; perDomain.some((d) => i < d.length); i++) for (const d of perDomain) if (i < d.length) longAll.push(d[i]!);
const long = longAll.slice(0, P.longCount);
const textSets = { short: { label: 'Flipkart (short)', reviews: short }, long: { label: 'Amazon multi-domain dev (long)', reviews: long } } as const;
type SetName = keyof typeof textSets;

// ---------------------------------------------------------------------------------------------
// Statistics
function summarize(values: number[], unit: string): Measure {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  return { median, min, max, spreadPct: median > 0 ? ((max - min) / median) * 100 : 0, rounds: values.length, unit, values };
}
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

// ---------------------------------------------------------------------------------------------
// 1, 2, 7: tokenizer, compute ceiling, padding (in process)
async function measureInProcess(modelDir: string, config: Config) {
  const spec = readModelSpec(path.resolve(root, modelDir));
  const tokenizer = new Tokenizer(spec.tokenizerJson, spec.tokenizerConfig);
  const maxTokens = Math.min(config.model.maxTokens ?? spec.maxLength, spec.maxLength);
  const encoder = createEncoder(tokenizer, { maxTokens, truncation: config.model.truncation });
  const padToken = typeof spec.tokenizerConfig.pad_token === 'string' ? spec.tokenizerConfig.pad_token : '[PAD]';
  const padId = tokenizer.token_to_id(padToken) ?? 0;
  const session = await ort.InferenceSession.create(spec.modelFile, {
    intraOpNumThreads: cores, // the whole thread budget, as INFERENCE_THREADS × INTRA_OP_THREADS in the fleet
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const wantsTokenTypes = session.inputNames.includes('token_type_ids');
  const out: Record<string, { tokenizer: TextSetResults['tokenizer']; compute: TextSetResults['compute']; padding: TextSetResults['padding']; avgTokens: number; reviews: number }> = {};
  for (const name of Object.keys(textSets) as SetName[]) {
    const texts = textSets[name].reviews.map(reviewModelText);
    // 2. Tokenizer alone, one thread (this one), timed rounds over the same texts.
    const encoded = texts.map((t) => encoder.encode(t).ids);
    const tokens = encoded.reduce((s, e) => s + e.length, 0);
    const tokRounds: number[] = [];
    const revRounds: number[] = [];
    for (let r = 0; r < P.rounds; r++) {
      let done = 0;
      let toks = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < P.timedSeconds * 1000) {
        const ids = encoder.encode(texts[done % texts.length]!).ids;
        toks += ids.length;
        done++;
      }
      const s = (performance.now() - t0) / 1000;
      tokRounds.push(toks / s);
      revRounds.push(done / s);
    }
    // 7. Padding share, batches of BATCH_MAX_SIZE in arrival order: one padded batch vs length groups.
    const lengths = encoded.map((e) => e.length);
    let plain = { computed: 0, real: 0 };
    let grouped = { computed: 0, real: 0 };
    for (let i = 0; i < lengths.length; i += config.batching.maxSize) {
      const chunk = lengths.slice(i, i + config.batching.maxSize);
      const p = paddingStats(chunk, [chunk.map((_, j) => j)]);
      const g = paddingStats(chunk, groupByLength(chunk, { maxTokens: config.batching.maxTokens, maxPadding: config.batching.maxPadding }));
      plain = { computed: plain.computed + p.computed, real: plain.real + p.real };
      grouped = { computed: grouped.computed + g.computed, real: grouped.real + g.real };
    }
    // 1. Compute ceiling: session.run alone on pre-built tensors, at several batch sizes, both
    // as one padded batch per batch and length-grouped (the fleet's policy); the best counts.
    const sizes = quick ? [1, 8, 32, 128] : [1, 4, 8, 16, 32, 64, 128];
    const byBatch: { batchSize: number; grouped: boolean; reviewsPerS: Measure; tokensPerS: number; paddingShare: number }[] = [];
    for (const bs of sizes) {
      for (const useGroups of bs === 1 ? [false] : [false, true]) {
        const feeds: { feed: Record<string, ort.Tensor>; rows: number; real: number; computed: number }[] = [];
        for (let i = 0; i < encoded.length && feeds.length < 400; i += bs) {
          const batch = encoded.slice(i, i + bs);
          const groups = useGroups ? groupByLength(batch.map((b) => b.length), { maxTokens: config.batching.maxTokens, maxPadding: config.batching.maxPadding }) : [batch.map((_, j) => j)];
          for (const g of groups) {
            const rows = g.map((j) => batch[j]!);
            const { inputIds, attentionMask, length } = padBatch(rows, padId);
            const dims = [rows.length, length];
            const feed: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', inputIds, dims), attention_mask: new ort.Tensor('int64', attentionMask, dims) };
            if (wantsTokenTypes) feed.token_type_ids = new ort.Tensor('int64', new BigInt64Array(inputIds.length), dims);
            feeds.push({ feed, rows: rows.length, real: rows.reduce((s, x) => s + x.length, 0), computed: rows.length * length });
          }
        }
        await session.run(feeds[0]!.feed, ['logits']); // warm-up
        const rounds: number[] = [];
        let realTok = 0;
        let computedTok = 0;
        let secs = 0;
        for (let r = 0; r < P.rounds; r++) {
          let n = 0;
          let k = 0;
          const t0 = performance.now();
          while (performance.now() - t0 < (P.timedSeconds * 1000) / 2) {
            const f = feeds[k++ % feeds.length]!;
            await session.run(f.feed, ['logits']);
            n += f.rows;
            realTok += f.real;
            computedTok += f.computed;
          }
          const s = (performance.now() - t0) / 1000;
          secs += s;
          rounds.push(n / s);
        }
        byBatch.push({ batchSize: bs, grouped: useGroups, reviewsPerS: summarize(rounds, 'reviews/s'), tokensPerS: realTok / secs, paddingShare: 1 - realTok / computedTok });
      }
    }
    const best = byBatch.reduce((a, b) => (b.reviewsPerS.median > a.reviewsPerS.median ? b : a));
    out[name] = {
      reviews: texts.length,
      avgTokens: tokens / texts.length,
      tokenizer: { tokensPerSPerThread: summarize(tokRounds, 'tokens/s'), reviewsPerSPerThread: summarize(revRounds, 'reviews/s'), threadsInBudget: cores },
      compute: { best: { batchSize: best.batchSize, grouped: best.grouped, reviewsPerS: best.reviewsPerS, tokensPerS: best.tokensPerS }, byBatch, intraOpThreads: cores },
      padding: { batchSize: config.batching.maxSize, withoutGrouping: 1 - plain.real / plain.computed, withGrouping: 1 - grouped.real / grouped.computed },
    };
    log(`${name}: tokenizer ${Math.round(out[name].tokenizer.tokensPerSPerThread.median)} tok/s/thread; compute ceiling ${Math.round(best.reviewsPerS.median)} reviews/s at batch ${best.batchSize}${best.grouped ? ' (grouped)' : ''}`);
  }
  await session.release();
  return out;
}

// ---------------------------------------------------------------------------------------------
// 3. Queue ceiling: BullMQ no-op processor, the fleet's concurrency, same Redis
async function measureQueueCeiling(redis: LocalRedis, config: Config, payloads: BenchReview[]) {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const prefix = 'benchq';
  const rounds: number[] = [];
  const enqueueRounds: number[] = [];
  for (let r = 0; r < P.rounds; r++) {
    const name = `noop-${r}`;
    const queue = new Queue(name, { connection, prefix, defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: true } });
    const n = P.queueJobs;
    const e0 = performance.now();
    for (let i = 0; i < n; i += 500) {
      await queue.addBulk(Array.from({ length: Math.min(500, n - i) }, (_, j) => ({ name: 'review', data: { ...payloads[(i + j) % payloads.length]!, id: `q${r}-${i + j}` }, opts: { jobId: `q${r}-${i + j}` } })));
    }
    enqueueRounds.push(n / ((performance.now() - e0) / 1000));
    let completed = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((res) => (resolveDone = res));
    const t0 = performance.now();
    const worker = new Worker(name, async () => undefined, { connection: new Redis(redis.url, { maxRetriesPerRequest: null }), prefix, concurrency: config.worker.concurrency });
    worker.on('completed', () => { if (++completed >= n) resolveDone(); });
    await Promise.race([done, sleep(120_000)]);
    rounds.push(completed / ((performance.now() - t0) / 1000));
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
  await connection.quit();
  return { jobsPerS: summarize(rounds, 'jobs/s'), addBulkJobsPerS: summarize(enqueueRounds, 'jobs/s'), concurrency: config.worker.concurrency, jobsPerRound: P.queueJobs };
}

// ---------------------------------------------------------------------------------------------
// 4, 5, 8: the fleet (workers/inference-worker.ts → createWorkerApp) end to end
interface Fleet { child: ChildProcess; config: Config; connection: Redis; producer: ReturnType<typeof createReviewProducer>; results: Queue; stop(): Promise<{ vmHwmKb: number; vmRssKb: number }> }
let fleetSeq = 0;
async function startFleet(redis: LocalRedis, modelDir: string, extra: Record<string, string>): Promise<Fleet> {
  const env = { ...process.env, REDIS_URL: redis.url, QUEUE_PREFIX: `bench${++fleetSeq}`, LOG_FORMAT: 'json', LOG_LEVEL: 'warn', KEEP_COMPLETED_COUNT: '1000', MODEL_DIR: modelDir, ...extra };
  const config = loadConfig(env);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'workers/inference-worker.ts')], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('worker not ready within 120 s')), 120_000);
    child.on('message', (m: { type?: string }) => { if (m.type === 'ready') { clearTimeout(timer); resolve(); } });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`worker exited with ${code}`)); });
  });
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const producer = createReviewProducer({ config, connection, logger });
  const results = new Queue(config.queues.results, { connection, prefix: config.redis.prefix });
  return {
    child, config, connection, producer, results,
    async stop() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
      const mem = { vmHwmKb: kb('VmHWM'), vmRssKb: kb('VmRSS') };
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await producer.close();
      await results.close();
      await connection.quit();
      return mem;
    },
  };
}

let runSeq = 0;
async function waitResults(fleet: Fleet, n: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let got = 0;
  while (Date.now() < deadline) {
    got = await fleet.results.getWaitingCount();
    if (got >= n) return got;
    await sleep(10);
  }
  return got;
}

/** Closed loop: enqueue n reviews (producer, in ENQUEUE_CHUNK_SIZE addBulk calls), time until all n results are in the results queue. */
async function closedLoop(fleet: Fleet, reviews: BenchReview[], n: number): Promise<number> {
  await fleet.results.drain();
  const tag = `c${++runSeq}`;
  const batch = Array.from({ length: n }, (_, i) => ({ ...reviews[i % reviews.length]!, id: `${tag}-${i}` }));
  const t0 = performance.now();
  const enqueued = (async () => { for (let i = 0; i < n; i += 2000) await fleet.producer.enqueueMany(batch.slice(i, i + 2000)); })();
  const got = await waitResults(fleet, n, 120_000);
  await enqueued;
  const s = (performance.now() - t0) / 1000;
  await fleet.results.drain();
  return got / s;
}

async function fleetThroughput(fleet: Fleet, reviews: BenchReview[]) {
  const estimate = await closedLoop(fleet, reviews, 1000); // warm-up and size estimate
  const n = Math.max(500, Math.min(60_000, Math.round(estimate * P.closedSeconds)));
  const rounds: number[] = [];
  for (let r = 0; r < P.rounds; r++) rounds.push(await closedLoop(fleet, reviews, n));
  return { reviewsPerS: summarize(rounds, 'reviews/s'), reviewsPerRound: n };
}

/** Open loop: arrivals on a fixed schedule (review i due at t0 + i/rate), latency = result job timestamp − scheduled arrival. */
async function openLoop(fleet: Fleet, reviews: BenchReview[], rate: number, seconds: number) {
  await fleet.results.drain();
  const tag = `o${++runSeq}`;
  const total = Math.max(1, Math.round(rate * seconds));
  const t0 = Date.now() + 50;
  const due = (i: number): number => t0 + (i * 1000) / rate;
  let sent = 0;
  let maxLagMs = 0;
  while (sent < total) {
    const now = Date.now();
    const upTo = Math.min(total, Math.floor(((now - t0) * rate) / 1000) + 1);
    if (upTo > sent) {
      maxLagMs = Math.max(maxLagMs, now - due(sent));
      const chunk = Array.from({ length: upTo - sent }, (_, j) => ({ ...reviews[(sent + j) % reviews.length]!, id: `${tag}-${sent + j}` }));
      sent = upTo;
      await fleet.producer.enqueueMany(chunk);
    }
    await sleep(Math.max(0, Math.min(5, due(sent) - Date.now())));
  }
  const got = await waitResults(fleet, total, 60_000);
  const jobs = await fleet.results.getJobs(['waiting'], 0, -1);
  const latencies = jobs.flatMap((j) => {
    const id = (j.data as { reviewId?: string }).reviewId ?? '';
    if (!id.startsWith(`${tag}-`)) return [];
    return [j.timestamp - due(Number(id.slice(tag.length + 1)))];
  }).sort((a, b) => a - b);
  await fleet.results.drain();
  return { ratePerS: rate, seconds, offered: total, completed: got, p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95), p99Ms: percentile(latencies, 99), maxMs: latencies.at(-1) ?? NaN, maxEnqueueLagMs: maxLagMs };
}

// ---------------------------------------------------------------------------------------------
async function runProfile(redis: LocalRedis, name: string, modelDir: string): Promise<ProfileResults> {
  const config = loadConfig({ ...process.env, MODEL_DIR: modelDir });
  log(`profile ${name} (${modelDir}): in-process measures`);
  const inproc = await measureInProcess(modelDir, config);
  log(`profile ${name}: queue ceiling (no-op processor, concurrency ${config.worker.concurrency})`);
  const queue = await measureQueueCeiling(redis, config, short);
  log(`queue ceiling ${Math.round(queue.jobsPerS.median)} jobs/s`);

  const sets: Record<string, TextSetResults> = {};
  log(`profile ${name}: fleet (BATCH_MAX_SIZE=${config.batching.maxSize})`);
  const fleet = await startFleet(redis, modelDir, {});
  const fleetRuns: Record<string, { throughput: Awaited<ReturnType<typeof fleetThroughput>>; latency: Awaited<ReturnType<typeof openLoop>>[] }> = {};
  for (const s of Object.keys(textSets) as SetName[]) {
    const throughput = await fleetThroughput(fleet, textSets[s].reviews);
    log(`fleet ${s}: ${Math.round(throughput.reviewsPerS.median)} reviews/s (spread ${throughput.reviewsPerS.spreadPct.toFixed(0)}%)`);
    const latency = [];
    if (s === 'short' || P.latencyLong) {
      for (const load of [0.5, 0.8]) {
        const res = await openLoop(fleet, textSets[s].reviews, throughput.reviewsPerS.median * load, P.openSeconds);
        log(`fleet ${s} open loop ${load * 100}%: p50 ${res.p50Ms} p95 ${res.p95Ms} p99 ${res.p99Ms} ms`);
        latency.push({ ...res, load });
      }
    }
    fleetRuns[s] = { throughput, latency };
  }
  const memory = await fleet.stop();
  log(`worker VmHWM ${(memory.vmHwmKb / 1024).toFixed(0)} MB`);

  log(`profile ${name}: fleet with BATCH_MAX_SIZE=1`);
  const fleet1 = await startFleet(redis, modelDir, { BATCH_MAX_SIZE: '1' });
  const bs1: Record<string, Awaited<ReturnType<typeof fleetThroughput>>> = {};
  for (const s of Object.keys(textSets) as SetName[]) {
    if (s === 'long' && !P.bs1Long) continue;
    bs1[s] = await fleetThroughput(fleet1, textSets[s].reviews);
    log(`fleet batch 1 ${s}: ${Math.round(bs1[s].reviewsPerS.median)} reviews/s`);
  }
  const memory1 = await fleet1.stop();

  for (const s of Object.keys(textSets) as SetName[]) {
    const ip = inproc[s]!;
    sets[s] = {
      label: textSets[s].label,
      reviews: ip.reviews,
      avgTokens: ip.avgTokens,
      tokenizer: ip.tokenizer,
      compute: ip.compute,
      padding: ip.padding,
      fleet: { ...fleetRuns[s]!.throughput, latency: fleetRuns[s]!.latency as TextSetResults['fleet']['latency'] },
      fleetBatch1: bs1[s],
    };
  }
  return {
    name, modelDir,
    fleetConfig: { batchMaxSize: config.batching.maxSize, batchMaxWaitMs: config.batching.maxWaitMs, inferenceThreads: config.inference.threads, intraOpThreads: config.inference.intraOpThreads, concurrency: config.worker.concurrency },
    queue, sets,
    memory: { workerVmHwmMb: memory.vmHwmKb / 1024, workerVmRssMb: memory.vmRssKb / 1024, workerBatch1VmHwmMb: memory1.vmHwmKb / 1024 },
  };
}

async function main(): Promise<void> {
  const started = new Date();
  log(`${quick ? 'quick' : 'full'} run: ${short.length} short + ${long.length} long reviews, ${cores} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const redis = await startLocalRedis();
  const profiles: ProfileResults[] = [];
  const loadBefore = os.loadavg();
  try {
    profiles.push(await runProfile(redis, 'default', baseConfig.model.dir));
    if (withTransformer) {
      const dir = path.join(os.tmpdir(), 'sf-bench-model');
      if (!existsSync(path.join(dir, 'config.json'))) {
        log(`building the transformer-sized bench model in ${dir} (sentiment-fleet bench-model)`);
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bin/sentiment-fleet.ts'), 'bench-model', '--out', dir], { cwd: root, stdio: 'inherit' });
        const code = await new Promise<number | null>((r) => child.once('exit', r));
        if (code !== 0) throw new Error(`bench-model exited with ${code}`);
      }
      profiles.push(await runProfile(redis, 'transformer', dir));
    }
  } finally {
    await redis.stop();
  }
  const results: BenchResults = {
    date: started.toISOString(),
    mode: quick ? 'quick' : 'full',
    durationS: (Date.now() - started.getTime()) / 1000,
    machine: { cores, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${os.platform()} ${os.release()}`, loadAvgBefore: loadBefore, loadAvgAfter: os.loadavg() },
    texts: { short: { file: path.relative(root, flipkartFile), count: short.length }, long: { files: amazonFiles.map((f) => path.relative(root, f)), count: long.length } },
    profiles,
    peer: { status: 'missing', reason: '@huggingface/transformers is not installed (no offline copy); the peer comparison is not measured this round.' },
    transformerProfile: withTransformer ? 'measured' : quick ? 'skipped (--quick)' : 'skipped (pass --transformer)',
  };
  const dir = path.join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${results.date.replace(/:/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  const { markdown, svg } = renderReport(results, path.relative(path.join(root, 'docs'), file));
  writeFileSync(path.join(root, 'docs', 'benchmarks.md'), markdown);
  writeFileSync(path.join(root, 'docs', 'benchmarks.svg'), svg);
  log(`wrote ${path.relative(root, file)}, docs/benchmarks.md, docs/benchmarks.svg in ${results.durationS.toFixed(0)} s`);
}

try {
  await main();
  process.exit(0);
} catch (err) {
  console.error(err);
  process.exit(1);
}
