// Types of bench/results/*.json and the docs/benchmarks.md renderer (the chart is in report-chart.ts).
import { modelDirLabel } from './benchmarks-doc.ts';
import { renderChart } from './report-chart.ts';
import type { LanesResults } from './lanes-measure.ts';

export interface Measure {
  median: number;
  min: number;
  max: number;
  spreadPct: number;
  rounds: number;
  unit: string;
  values: number[];
}
export interface CpuShares {
  workers: number;
  redis: number;
  benchProcess: number;
}
export interface LatencyRun {
  load: number;
  ratePerS: number;
  /** The measured window (after the warm-up). */
  seconds: number;
  /** Seconds of load at the same rate before the measured window (absent in runs before 2026-12-01, which had none). */
  warmupSeconds?: number;
  offered: number;
  completed: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** p99 of the warm-up's reviews. */
  warmupP99Ms?: number;
  maxEnqueueLagMs: number;
  meanBatchSize: number;
}

export interface InProcessSet {
  label: string;
  reviews: number;
  avgTokens: number;
  tokenizer: { tokensPerSPerThread: Measure; reviewsPerSPerThread: Measure; threadsInBudget: number };
  compute: {
    /** The ceiling; `sessions` × `intraOpThreads` is its thread layout (several sessions run in parallel worker threads). Older reports: 1 × the byBatch table's. */
    best: {
      batchSize: number;
      grouped: boolean;
      reviewsPerS: Measure;
      tokensPerS: number;
      sessions?: number;
      intraOpThreads?: number;
    };
    byBatch: { batchSize: number; grouped: boolean; reviewsPerS: Measure; tokensPerS: number; paddingShare: number }[];
    intraOpThreads: number;
  };
  padding: { batchSize: number; withoutGrouping: number; withGrouping: number };
}
export interface FleetSet {
  reviewsPerS: Measure;
  /** Tokens the model saw per second (each review's token count with the model's tokenizer); absent in runs before it was measured. */ tokensPerS?: Measure;
  reviewsPerRound: number;
  cpu?: CpuShares;
  latency: LatencyRun[];
}
export interface FleetRun {
  variant: string;
  description: string;
  env: Record<string, string>;
  workers: number;
  sets: Record<string, FleetSet>;
  memory: { vmHwmMb: number; vmRssMb: number }[];
  /** What the worker's ready line says. rowsPerCall, calibrationMs: the adaptive policy (before issue 18), the rows chosen for rows of each calibrated length ('all': as many as BATCH_MAX_TOKENS allows). Runs before 2026-11-30T20:30 logged tokensPerCall instead. */
  batchPolicy?: {
    policy: string;
    maxTokens?: number;
    maxSize?: number;
    rowsPerCall?: string | Record<string, number | string>;
    tokensPerCall?: number | Record<string, number>;
    calibrationMs?: number;
  };
}
export interface QueueCeiling {
  jobsPerS: Measure;
  flowJobsPerS: Measure;
  addBulkJobsPerS: Measure;
  concurrency: number;
  jobsPerRound: number;
}
export type PeerResults =
  | {
      status: 'measured';
      version: string;
      intraOpThreads: number;
      note?: string;
      sets: Record<string, { perReviewPerS: Measure; arraysPerS: Measure; arrayBatch: number }>;
    }
  | { status: 'missing' | 'failed'; reason: string };
export interface ProfileResults {
  name: string;
  title: string;
  modelDir: string;
  fleetConfig: {
    batchMaxSize: number;
    batchMaxWaitMs: number;
    batchMaxTokens: number;
    inferenceThreads: number;
    intraOpThreads: number;
    concurrency: number;
  };
  queue?: QueueCeiling;
  sets: Record<string, InProcessSet>;
  fleets: FleetRun[];
  peer?: PeerResults;
  scaling?: { workers: number; reviewsPerS: Measure; cpu?: CpuShares; memoryMb: number[] }[];
  /** The live and bulk lanes side by side (issue 19; bench/lanes-measure.ts). */
  lanes?: LanesResults;
}
export interface BenchResults {
  date: string;
  mode: 'quick' | 'full';
  durationS: number;
  machine: {
    cores: number;
    cpu: string;
    node: string;
    platform: string;
    loadAvgBefore: number[];
    loadAvgAfter: number[];
  };
  texts: { short: { file: string; count: number }; long: { files: string[]; count: number } };
  params: Record<string, number>;
  profiles: ProfileResults[];
  skipped: string[];
}

export const n0 = (x: number | undefined): string =>
  x !== undefined && Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—';
const n1 = (x: number | undefined): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(1) : '—');
const n2 = (x: number | undefined): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(2) : '—');
const pct = (x: number | undefined): string =>
  x !== undefined && Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '—';
const m = (x: Measure | undefined): string =>
  x ? `${n0(x.median)} (${n0(x.min)}–${n0(x.max)}, ±${(x.spreadPct / 2).toFixed(0)}%)` : '—';
const mark = (ok: boolean | undefined): string => (ok === undefined ? '— not measured' : ok ? '✓' : '✗');
export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export const fleetOf = (p: ProfileResults | undefined, variant: string): FleetRun | undefined =>
  p?.fleets.find((f) => f.variant === variant);
/** The default policy's fleet variant: `token-budget`, `adaptive` in runs before issue 18. */
export const mainVariant = (p: ProfileResults | undefined): string =>
  p?.fleets.some((f) => f.variant === 'adaptive') ? 'adaptive' : 'token-budget';
export const rate = (p: ProfileResults | undefined, variant: string, set: string): number | undefined =>
  fleetOf(p, variant)?.sets[set]?.reviewsPerS.median;
const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
const times = (x: number | undefined): string => (x === undefined ? '—' : `${n2(x)}×`);

function targets(r: BenchResults): string[] {
  const d = r.profiles.find((p) => p.name === 'default')!;
  const t = r.profiles.find((p) => p.name === 'transformer');
  const q = r.profiles.find((p) => p.name === 'transformer-int8');
  const short = rate(d, mainVariant(d), 'short');
  const lat50 = fleetOf(d, mainVariant(d))?.sets.short?.latency.find((x) => x.load === 0.5);
  const tokCeil = (p: ProfileResults, set: string): number =>
    p.sets[set]!.tokenizer.reviewsPerSPerThread.median * p.sets[set]!.tokenizer.threadsInBudget;
  const rss = Math.max(...(fleetOf(d, mainVariant(d))?.memory.map((x) => x.vmHwmMb) ?? [NaN]));
  // The fleet scales out: the machine's throughput is its best replica count (the scaling runs).
  const best = d.scaling?.reduce((a, b) => (b.reviewsPerS.median > a.reviewsPerS.median ? b : a));
  const top = short === undefined ? undefined : Math.max(short, best?.reviewsPerS.median ?? 0);
  const rows: string[] = [
    '| target | measured | holds |',
    '| --- | --- | --- |',
    `| default model, Flipkart: ≥ 2,500 reviews/s end to end | ${n0(short)} reviews/s, one worker process${best ? `; ${n0(best.reviewsPerS.median)} with ${best.workers} (the best of the worker-process runs)` : ''} | ${mark(top === undefined ? undefined : top >= 2500)}${top !== undefined && top >= 2500 && !(short! >= 2500) ? ` (${best!.workers} worker processes)` : ''} |`,
  ];
  if (d.queue) {
    const drain = ratio(short, d.queue.jobsPerS.median);
    const flow = ratio(short, d.queue.flowJobsPerS.median);
    rows.push(
      `| default model, Flipkart: ≥ 0.6 × queue ceiling — drain of a pre-filled queue | ${n2(drain)} × ${n0(d.queue.jobsPerS.median)} jobs/s | ${mark(drain === undefined ? undefined : drain >= 0.6)} |`,
      `| default model, Flipkart: ≥ 0.6 × queue ceiling — enqueue and drain at once, as the fleet is measured | ${n2(flow)} × ${n0(d.queue.flowJobsPerS.median)} jobs/s | ${mark(flow === undefined ? undefined : flow >= 0.6)} |`,
    );
  }
  rows.push(
    `| default model, Flipkart: p99 at 50% load ≤ 100 ms | ${lat50 ? `${n0(lat50.p99Ms)} ms` : '—'} | ${mark(lat50 ? lat50.p99Ms <= 100 : undefined)} |`,
    `| default model, Amazon: reviews/s as a share of the tokenizer-alone ceiling (report only) | ${pct(ratio(rate(d, mainVariant(d), 'long'), tokCeil(d, 'long')))} of ${n0(tokCeil(d, 'long'))} reviews/s | report |`,
    `| worker RSS ≤ 300 MB (default model) | ${n0(rss)} MB | ${mark(Number.isFinite(rss) ? rss <= 300 : undefined)} |`,
  );
  for (const p of [d, t].filter((x): x is ProfileResults => x !== undefined)) {
    const cells = Object.keys(p.sets).map((s) => ({
      s,
      a: rate(p, mainVariant(p), s),
      b: rate(p, 'batch1', s),
      spread:
        Math.max(
          fleetOf(p, mainVariant(p))?.sets[s]?.reviewsPerS.spreadPct ?? 0,
          fleetOf(p, 'batch1')?.sets[s]?.reviewsPerS.spreadPct ?? 0,
        ) / 2,
    }));
    const ok = cells.every((c) => c.a !== undefined && c.b !== undefined)
      ? cells.every((c) => c.a! >= c.b!)
      : undefined;
    // A loss smaller than the rounds' spread is not shown to be a loss; it still does not count as holding.
    const noise = ok === false && cells.every((c) => c.a! >= c.b! || (1 - c.a! / c.b!) * 100 < c.spread);
    rows.push(
      `| ${p.title}: ${mainVariant(p)} batching never loses to batch size 1 | ${cells.map((c) => `${times(ratio(c.a, c.b))} on ${c.s}`).join(', ')} | ${mark(ok)}${noise ? ' (within the rounds’ spread)' : ''} |`,
    );
  }
  if (t) {
    for (const s of Object.keys(t.sets)) {
      // Compared in real tokens/s: rounds of a slow model see a stretch of the set, not all of it.
      const fleetTok = fleetOf(t, mainVariant(t))?.sets[s]?.tokensPerS?.median;
      const ceilTok = t.sets[s]!.compute.best.tokensPerS;
      const x = ratio(fleetTok, ceilTok);
      const xr = ratio(rate(t, mainVariant(t), s), t.sets[s]!.compute.best.reviewsPerS.median);
      rows.push(
        `| transformer: fleet ≥ 0.9 × compute ceiling (${s}), in real tokens/s | ${n2(x)} × ${n0(ceilTok)} tokens/s (in reviews/s: ${n2(xr)} × ${n1(t.sets[s]!.compute.best.reviewsPerS.median)}) | ${mark(x === undefined ? undefined : x >= 0.9)} |`,
      );
    }
    for (const s of Object.keys(t.sets)) {
      const peer = t.peer?.status === 'measured' ? t.peer.sets[s]?.perReviewPerS.median : undefined;
      const x = ratio(rate(t, mainVariant(t), s), peer);
      rows.push(
        `| transformer: fleet ≥ the peer’s per-review throughput (${s}) | ${n1(rate(t, mainVariant(t), s))} vs ${n1(peer)} reviews/s (${times(x)}) | ${mark(x === undefined ? undefined : x >= 1)} |`,
      );
    }
    const pad = t.sets.long?.padding.withGrouping;
    rows.push(
      `| transformer: padding ≤ 10% of computed tokens on Amazon | ${pct(pad)} | ${mark(pad === undefined ? undefined : pad <= 0.1)} |`,
    );
    for (const s of Object.keys(t.sets)) {
      const x = ratio(rate(q, mainVariant(q), s), rate(t, mainVariant(t), s));
      rows.push(
        `| transformer: int8 fleet ≥ 2 × fp32 fleet (${s}) | ${n1(rate(q, mainVariant(q), s))} vs ${n1(rate(t, mainVariant(t), s))} reviews/s (${times(x)}) | ${mark(x === undefined ? undefined : x >= 2)} |`,
      );
    }
  } else {
    rows.push(
      `| transformer: fleet ≥ 0.9 × compute ceiling, ≥ peer, padding ≤ 10%, int8 ≥ 2 × fp32 | not measured in a ${r.mode} run | — not measured |`,
    );
  }
  rows.push(...laneTargets(d, t));
  return rows;
}

/** The issue 19 targets, when the run measured the lanes. */
function laneTargets(d: ProfileResults, t: ProfileResults | undefined): string[] {
  const l = d.lanes;
  if (!l) return [];
  const short = l.sets.short;
  const long = l.sets.long;
  const b = l.backfill;
  const x = (a: number | undefined, c: number | undefined): string => times(ratio(a, c));
  const vsLive = ratio(short?.bulk.median, short?.live.median);
  const vsPeer = ratio(short?.bulk.median, short?.peerSingle?.median);
  const vsCeil = ratio(long?.bulk.median, long?.ceiling.reviewsPerS);
  const share = b ? ratio(b.backfillReviewsPerS, short?.bulk.median) : undefined;
  return [
    `| bulk lane, default model, Flipkart: ≥ 3 × the live lane | ${x(short?.bulk.median, short?.live.median)} (${n0(short?.bulk.median)} vs ${n0(short?.live.median)} reviews/s) | ${mark(vsLive === undefined ? undefined : vsLive >= 3)} |`,
    `| bulk lane, default model, Flipkart: ≥ 2 × the peer one by one | ${x(short?.bulk.median, short?.peerSingle?.median)} (peer ${n0(short?.peerSingle?.median)} reviews/s) | ${mark(vsPeer === undefined ? undefined : vsPeer >= 2)} |`,
    `| bulk lane, default model, Amazon: ≥ 0.5 × the compute ceiling | ${x(long?.bulk.median, long?.ceiling.reviewsPerS)} (ceiling ${n0(long?.ceiling.reviewsPerS)} reviews/s) | ${mark(vsCeil === undefined ? undefined : vsCeil >= 0.5)} |`,
    `| live p99 ≤ 100 ms at 50% live load while a ${n0(b?.backfill)}-review backfill drains | ${n0(b?.live.p99Ms)} ms (alone: ${n0(b?.liveSolo.p99Ms)} ms) | ${mark(b ? b.live.p99Ms <= 100 : undefined)} |`,
    `| the backfill meanwhile ≥ 50% of its solo rate | ${pct(share)} (${n0(b?.backfillReviewsPerS)} of ${n0(short?.bulk.median)} reviews/s) | ${mark(share === undefined ? undefined : share >= 0.5)} |`,
    `| transformer-sized model: bulk lane ≥ 0.95 × the compute ceiling in tokens/s | ${t?.lanes ? x(t.lanes.sets.long?.bulkTokensPerS.median, t.lanes.sets.long?.ceiling.tokensPerS) : '—'} | ${mark(t?.lanes ? (ratio(t.lanes.sets.long?.bulkTokensPerS.median, t.lanes.sets.long?.ceiling.tokensPerS) ?? 0) >= 0.95 : undefined)} |`,
  ];
}

/** The lanes table of a profile that measured them. */
function lanesSection(p: ProfileResults): string[] {
  const l = p.lanes;
  if (!l) return [];
  const names = Object.keys(l.sets);
  const out = [
    '### Lanes side by side (issue 19)',
    '',
    `One worker process serving both lanes (BULK_CHUNK_SIZE=${l.settings.bulkChunkSize}, BULK_CONCURRENCY=${l.settings.bulkConcurrency}${l.settings.bulkThreads === undefined ? '' : `, BULK_THREADS=${l.settings.bulkThreads}, BULK_INTRA_OP_THREADS=${l.settings.bulkIntraOpThreads}`}); live and bulk rounds alternate on the same reviews, then the peer's round on them. Both lanes end at the results queue (a chunk job completes after its results job is added). No-op queue loop: ${m(l.queueNoOpJobsPerS)} jobs/s.`,
    '',
    `| reviews/s | ${names.join(' | ')} |`,
    `| --- |${names.map(() => ' --- |').join('')}`,
  ];
  const row = (label: string, f: (s: LanesResults['sets'][string]) => string): void =>
    void out.push(`| ${label} | ${names.map((n) => f(l.sets[n]!)).join(' | ')} |`);
  row('live lane (a job per review)', (s) => m(s.live));
  row('bulk lane (a job per chunk)', (s) => `${m(s.bulk)} (×${n2(ratio(s.bulk.median, s.live.median))} live)`);
  row('peer, one review per call', (s) => m(s.peerSingle));
  row('peer, arrays of 32', (s) => m(s.peerArrays));
  row(
    'compute ceiling',
    (s) =>
      `${n0(s.ceiling.reviewsPerS)} (batch ${s.ceiling.batchSize}; bulk ×${n2(ratio(s.bulk.median, s.ceiling.reviewsPerS))})`,
  );
  const b = l.backfill;
  if (b)
    out.push(
      '',
      `Live reviews in an open loop at ${n0(b.live.ratePerS)}/s (50% of the live lane's median): alone p50/p95/p99 ${n0(b.liveSolo.p50Ms)}/${n0(b.liveSolo.p95Ms)}/${n0(b.liveSolo.p99Ms)} ms; while a ${n0(b.backfill)}-review backfill drains in the bulk lane ${n0(b.live.p50Ms)}/${n0(b.live.p95Ms)}/${n0(b.live.p99Ms)} ms, the backfill at ${n0(b.backfillReviewsPerS)} reviews/s${b.drainedDuringLive ? ' (it drained within the window: its rate over the time it took)' : ''}.`,
    );
  out.push('');
  return out;
}

function profileSection(p: ProfileResults): string[] {
  const names = Object.keys(p.sets);
  const out: string[] = [
    `## Profile \`${p.name}\`: ${p.title} (${modelDirLabel(p.modelDir)})`,
    '',
    `Fleet: one worker process (compiled: dist/workers/inference-worker.js), ${p.fleetConfig.inferenceThreads} inference thread(s) × ${p.fleetConfig.intraOpThreads} intra-op thread(s), BullMQ concurrency ${p.fleetConfig.concurrency}, BATCH_MAX_SIZE=${p.fleetConfig.batchMaxSize}, BATCH_MAX_TOKENS=${p.fleetConfig.batchMaxTokens}; ` +
      "the producer (createReviewProducer, in the bench process) and Redis share the same cores. Compute ceiling: one onnxruntime session in process with intra-op threads = cores, on pre-encoded, pre-padded tensors; the best batch size is picked from the table below and then measured again in fresh rounds (the best of several noisy medians overstates itself). When the fleet runs several inference threads, that batch size is also measured with as many sessions running at once in worker threads (the fleet's layout), and the faster of the two layouts is the ceiling.",
    '',
    `| measure | ${names.map((s) => p.sets[s]!.label).join(' | ')} |`,
    `| --- |${names.map(() => ' --- |').join('')}`,
  ];
  const row = (label: string, f: (s: string) => string): void =>
    void out.push(`| ${label} | ${names.map(f).join(' | ')} |`);
  row('tokens per review (model tokenizer, after truncation)', (s) => n1(p.sets[s]!.avgTokens));
  row('1. compute ceiling, reviews/s (best batch)', (s) => {
    const b = p.sets[s]!.compute.best;
    return `${m(b.reviewsPerS)} at batch ${b.batchSize}${b.grouped ? ', grouped' : ''}${b.sessions !== undefined && b.sessions > 1 ? `, ${b.sessions} sessions × ${b.intraOpThreads} intra-op thread(s) in parallel` : ''}`;
  });
  row('1. compute ceiling, real tokens/s', (s) => n0(p.sets[s]!.compute.best.tokensPerS));
  row('2. tokenizer alone, tokens/s per thread', (s) => m(p.sets[s]!.tokenizer.tokensPerSPerThread));
  row('2. tokenizer alone, reviews/s per thread', (s) => m(p.sets[s]!.tokenizer.reviewsPerSPerThread));
  if (p.queue) {
    row('3. queue ceiling, jobs/s: drain of a pre-filled queue', () => m(p.queue!.jobsPerS));
    row('3. queue ceiling, jobs/s: enqueue and drain at once', () => m(p.queue!.flowJobsPerS));
  }
  for (const f of p.fleets) {
    row(`4. fleet ${f.variant}, reviews/s (${f.description})`, (s) =>
      f.sets[s]
        ? `${m(f.sets[s].reviewsPerS)}, ${n0(f.sets[s].reviewsPerRound)} per round${f.sets[s].tokensPerS ? `; ${n0(f.sets[s].tokensPerS.median)} tokens/s` : ''}`
        : '—',
    );
  }
  const main = fleetOf(p, mainVariant(p));
  for (const load of [0.5, 0.8]) {
    if (!main || !Object.values(main.sets).some((s) => s.latency.length > 0)) break;
    row(`4. latency at ${load * 100}% load (open loop), p50 / p95 / p99 ms`, (s) => {
      const lr = main.sets[s]?.latency.find((y) => y.load === load);
      return lr
        ? `${n0(lr.p50Ms)} / ${n0(lr.p95Ms)} / ${n0(lr.p99Ms)} (${n0(lr.ratePerS)}/s for ${lr.seconds} s${lr.warmupSeconds ? ` after ${lr.warmupSeconds} s of warm-up, whose p99 was ${n0(lr.warmupP99Ms ?? NaN)}` : ''}, ${n0(lr.completed)}/${n0(lr.offered)} done, mean batch ${n1(lr.meanBatchSize)})`
        : '—';
    });
  }
  if (main)
    row(`4. CPU while the ${main.variant} fleet runs: worker / redis-server / producer (cores)`, (s) => {
      const c = main.sets[s]?.cpu;
      return c ? `${n2(c.workers)} / ${n2(c.redis)} / ${n2(c.benchProcess)}` : '—';
    });
  if (p.peer?.status === 'measured') {
    const peer = p.peer;
    row(`6. peer, one review per call, reviews/s`, (s) => m(peer.sets[s]?.perReviewPerS));
    row(`6. peer, arrays of ${Object.values(peer.sets)[0]?.arrayBatch ?? '—'}, reviews/s`, (s) =>
      m(peer.sets[s]?.arraysPerS),
    );
    row(`6. fleet ${mainVariant(p)} / peer one by one`, (s) =>
      times(ratio(rate(p, mainVariant(p), s), peer.sets[s]?.perReviewPerS.median)),
    );
  }
  row(
    `7. padding share, batches of ${p.fleetConfig.batchMaxSize}: one padded batch → length groups`,
    (s) => `${pct(p.sets[s]!.padding.withoutGrouping)} → ${pct(p.sets[s]!.padding.withGrouping)}`,
  );
  out.push('');
  if (p.peer) {
    out.push(
      p.peer.status === 'measured'
        ? `6. Peer: @huggingface/transformers ${p.peer.version} \`pipeline('text-classification')\` on the same model.onnx (symlinked into its layout), local files only, dtype fp32, ${p.peer.intraOpThreads} intra-op threads (the same thread budget). One review per awaited call is what an HTTP handler does; arrays are its best case.${p.peer.note ? ` Note: ${p.peer.note}.` : ''}`
        : `6. Peer: ${p.peer.status} — ${p.peer.reason}`,
      '',
    );
  }
  const mem = p.fleets.map((f) => `${f.variant} ${f.memory.map((x) => `${n0(x.vmHwmMb)} MB`).join(', ')}`).join('; ');
  out.push(`8. Memory, worker peak RSS (VmHWM): ${mem}.`);
  // Runs before issue 18: what the adaptive policy's start-up calibration chose.
  if (main?.batchPolicy?.calibrationMs !== undefined) {
    const { rowsPerCall, tokensPerCall } = main.batchPolicy;
    const chosen =
      rowsPerCall !== undefined
        ? `rows per model call of ${
            typeof rowsPerCall === 'string'
              ? rowsPerCall
              : Object.entries(rowsPerCall)
                  .map(([len, rows]) => `${rows} for rows of ~${len} tokens`)
                  .join(', ')
          } ('all': as many as BATCH_MAX_TOKENS allows)`
        : `a token budget per model call of ${typeof tokensPerCall === 'number' ? n0(tokensPerCall) : JSON.stringify(tokensPerCall)} tokens`;
    out.push(
      `Adaptive policy: the calibration (${n0(main.batchPolicy.calibrationMs)} ms at start-up) chose ${chosen} (BATCH_MAX_TOKENS ${n0(p.fleetConfig.batchMaxTokens)}, BATCH_MAX_SIZE ${n0(p.fleetConfig.batchMaxSize)}).`,
    );
  }
  out.push('', 'Compute ceiling by batch size (reviews/s, median of rounds; padding share of computed tokens):', '');
  out.push(
    `| batch | ${names.map((s) => `${p.sets[s]!.label}: one padded batch | length groups`).join(' | ')} |`,
    `| --- |${names.map(() => ' --- | --- |').join('')}`,
  );
  for (const bs of [...new Set(p.sets[names[0]!]!.compute.byBatch.map((b) => b.batchSize))]) {
    const cells = names.flatMap((s) =>
      [false, true].map((g) => {
        const b = p.sets[s]!.compute.byBatch.find((y) => y.batchSize === bs && y.grouped === g);
        return b ? `${n1(b.reviewsPerS.median)} (${pct(b.paddingShare)} pad)` : '—';
      }),
    );
    out.push(`| ${bs} | ${cells.join(' | ')} |`);
  }
  if (p.scaling) {
    const one = p.scaling[0]!.reviewsPerS.median;
    out.push(
      '',
      `Worker processes on this ${''}machine (short texts, each process with the default settings, ${mainVariant(p)} policy):`,
      '',
      '| worker processes | reviews/s | vs 1 process | CPU: workers / redis-server / producer (cores) | peak RSS per process |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const s of p.scaling)
      out.push(
        `| ${s.workers} | ${m(s.reviewsPerS)} | ${times(s.reviewsPerS.median / one)} | ${s.cpu ? `${n2(s.cpu.workers)} / ${n2(s.cpu.redis)} / ${n2(s.cpu.benchProcess)}` : '—'} | ${s.memoryMb.map((x) => `${n0(x)} MB`).join(', ')} |`,
      );
  }
  out.push('');
  return out;
}

export function renderReport(r: BenchResults, resultsLink: string): { markdown: string; svg: string } {
  const widest = Math.max(
    ...r.profiles.flatMap((p) => p.fleets.flatMap((f) => Object.values(f.sets).map((s) => s.reviewsPerS.spreadPct))),
  );
  const first = r.profiles[0]!;
  const lines = [
    '# Benchmarks',
    '',
    `<!-- generated by \`npm run bench\` (bench/run-bench.ts) down to the notes; edit only below the notes marker -->`,
    '',
    `Last run: **${r.mode}** run of ${r.date}, ${n0(r.durationS)} s, ${r.machine.cores} cores (${esc(r.machine.cpu)}), Node ${r.machine.node}, ${r.machine.platform}. ` +
      `Load average before/after: ${r.machine.loadAvgBefore.map((x) => x.toFixed(2)).join(' ')} / ${r.machine.loadAvgAfter.map((x) => x.toFixed(2)).join(' ')}. Raw figures: [${resultsLink}](${resultsLink}).`,
    '',
    `Texts: ${r.texts.short.count.toLocaleString('en-US')} Flipkart reviews (short, ${n1(first.sets.short?.avgTokens)} tokens on average) and ${r.texts.long.count.toLocaleString('en-US')} Amazon multi-domain dev reviews (title + text, long, ${n1(first.sets.long?.avgTokens)} tokens on average after truncation).`,
    `Every throughput is the **median of ${r.params.rounds} rounds** with the range (min–max) and ± half the range as a share of the median; the widest fleet spread in this run was ±${(widest / 2).toFixed(0)}%. Treat differences within the spread as noise.`,
    ...(r.skipped.length > 0 ? ['', `Not in this run: ${r.skipped.join('; ')}.`] : []),
    '',
    '![throughput and latency](benchmarks.svg)',
    '',
    '## Targets (issue 6)',
    '',
    ...targets(r),
    '',
    ...r.profiles.flatMap((p) => [...profileSection(p), ...lanesSection(p)]),
    '## Method',
    '',
    '- `npm run bench -- --quick` (about 3 minutes): the default model on the first 4,000 Flipkart reviews and the 1,200 Amazon dev reviews, 5 rounds of ~2 s, open-loop runs of 5 s (after 2 s of warm-up). `npm run bench` (full, about 45 minutes on a 2-core AVX2 host): all texts, ~6 s rounds (the transformer-sized profiles: 4 s compute rounds and peer array rounds, 10 s fleet rounds; the peer’s one-by-one round scores the fleets’ reviews of that round), 15 s open-loop runs (after 2 s of warm-up), more batch sizes, and the transformer-sized model (`npm run bench:model`, random weights, DistilBERT-shaped, ~270 MB) in fp32 and int8 (`sentiment-fleet quantize`).',
    '- Fleet variants run side by side on the same Redis (one worker process each, on its own queue prefix, idle while another runs) and their rounds interleave: round *r* of `token-budget` (the default policy: a batch leaves when an inference slot is free, with the queued reviews whose padded tokens fit BATCH_MAX_TOKENS), `fixed` (closes at BATCH_MAX_SIZE or BATCH_MAX_WAIT_MS) and `batch1` (BATCH_MAX_SIZE=1), then the peer’s round *r* (one review per call), all on the very same reviews (a round’s size comes from the median of the parties’ warm-up speeds). The machine’s speed drifts by ±15–30% over minutes here, and a transformer’s cost per token grows with length; interleaving on the same reviews spreads both over every party instead of favouring whichever ran in a fast minute or on a short stretch.',
    '- Texts are shuffled with a fixed seed (the files are ordered: by label, shorter reviews first), and every timed loop — closed-loop rounds of the fleet, compute-ceiling rounds — carries on where the previous round stopped, so a slow model sweeps through the set instead of timing its first reviews again. The transformer’s fleet/ceiling ratio is taken in real tokens/s (each review’s tokens with the model’s own tokenizer, after truncation), which does not depend on which stretch of the set a round saw.',
    '- Closed loop: N reviews enqueued by the producer (addBulk chunks of 2,000) while the worker runs; the clock stops when N review jobs have completed (BullMQ’s completed counter, read every 5% of the time waited, 10–100 ms, as waking up often costs this machine CPU that the fleet would lose; the clock stops at the last job’s `finishedOn`), which a review job does only after its batch’s results are in the results queue (no sink runs). N is sized from a warm-up round.',
    '- Open loop: review *i* is due at t0 + i / rate (50% and 80% of the default policy’s closed-loop median); a timer enqueues what is due; latency = the result job’s timestamp − the review’s *scheduled* arrival, so a late enqueue counts against the fleet (no coordinated omission). Each run starts with 2 s of load at the same rate (OPEN_LOOP_WARMUP_S in bench/fleet-driver.ts) that the percentiles leave out (a fleet idle until then answers its first second or two more slowly; the warm-up’s p99 is shown beside them): runs before 2026-12-01 had no warm-up.',
    '- Queue ceiling: a BullMQ Worker with a no-op processor at the fleet’s concurrency, in the bench process. *Drain*: the queue is filled first, then drained (the pure consumer ceiling). *Enqueue and drain at once*: the fleet’s closed loop with the processor replaced by a no-op — the same producer (createReviewProducer: validation, duplicate check, addBulk) in the same chunks of 2,000, the same job options, while the no-op worker drains. Per review the fleet does more Redis work than a no-op job: it also publishes its results (one result job per batch) and records a stats entry per batch.',
    '- CPU: user + system time of each process from /proc during the timed rounds, per second of wall time (2.00 = both cores).',
    '- Token counts are the model’s tokens (special tokens included, after truncation to the model’s maximum length); the issue’s averages (22 / 116) came from another tokenizer.',
    '',
  ];
  return { markdown: lines.join('\n'), svg: renderChart(r) };
}
