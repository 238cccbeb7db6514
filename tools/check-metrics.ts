/**
 * `npm run check:metrics`: the metrics and alert rules as Prometheus reads them. Starts a small
 * fleet in this process (a local redis-server, one inference worker on the default model, the
 * result sink on a temporary PGlite database, the ingest API and the stats service, each on a
 * free port with its /metrics), scores some reviews through the ingest API so that every
 * histogram has samples, then:
 * - `promtool check metrics` on a live scrape of each service (ingest, stats, worker, sink);
 * - `promtool check rules` on deploy/prometheus/alerts.yml and on the PrometheusRule in
 *   deploy/k8s (the same groups), and `promtool test rules` on deploy/prometheus/alerts.test.yml;
 * - every sf_ metric an alert rule names is exported by one of the services.
 * Exits 1 on any finding. Needs promtool (Debian: apt-get install prometheus) and redis-server.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { createIngestServer } from '../src/app/ingest-server.ts';
import { createSinkApp } from '../src/app/sink-app.ts';
import { createStatsServer } from '../src/app/stats-server.ts';
import { createWorkerApp } from '../src/app/worker-app.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import { createLogger } from '../src/logging/logger.ts';

const root = path.resolve(import.meta.dirname, '..');
const REVIEWS = 300;
const logger = createLogger({ level: 'error', format: 'json' });

function promtool(args: string[], input?: string): { ok: boolean; output: string } {
  const run = spawnSync('promtool', args, { input, encoding: 'utf8', cwd: root });
  if (run.error) throw new Error(`promtool: ${run.error.message} (install it: apt-get install prometheus)`);
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() };
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const findings: string[] = [];
const scraped = new Map<string, string>();
const dir = mkdtempSync(path.join(os.tmpdir(), 'sf-check-metrics-'));
const redis = await startLocalRedis();
const closers: (() => Promise<void>)[] = [() => redis.stop()];
try {
  const config = loadConfig({
    REDIS_URL: redis.url,
    QUEUE_PREFIX: '{check}',
    SINK_DATA_DIR: path.join(dir, 'pglite'),
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    STATS_HTTP_PORT: '0',
    WORKER_HTTP_PORT: '0',
    SINK_HTTP_PORT: '0',
    INFERENCE_THREADS: '1',
    INTRA_OP_THREADS: '1',
    DRIFT_MIN_COUNT: '10',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
  });
  const worker = await createWorkerApp(config, logger);
  closers.unshift(worker.close);
  const sink = await createSinkApp(config, logger);
  closers.unshift(sink.close);
  const ingest = await createIngestServer(config, logger, { queries: sink.queries });
  closers.unshift(ingest.close);
  const stats = await createStatsServer(config, logger, { queries: sink.queries, dashboard: false });
  closers.unshift(stats.close);

  const reviews = Array.from({ length: REVIEWS }, (_, i) => ({
    id: `check-${i}`,
    productId: `p${i % 3}`,
    rating: (i % 5) + 1,
    text: i % 2 ? 'Great battery, love it.' : 'Broke after a week, awful.',
  }));
  const posted = await fetch(`${ingest.url}/v1/reviews`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(reviews),
  });
  if (posted.status !== 202) throw new Error(`POST /v1/reviews answered ${posted.status}: ${await posted.text()}`);
  await until(() => sink.sink.stored >= REVIEWS, `${REVIEWS} stored results`);
  // Some answers of every kind, so the HTTP series have samples with 2xx and 4xx labels.
  for (const base of [ingest.url, stats.url, worker.url!, sink.url!]) {
    await fetch(`${base}/readyz`);
    await fetch(`${base}/no-such-route`);
  }
  await fetch(`${ingest.url}/v1/results/check-1`);
  await until(
    async () =>
      ((await (await fetch(`${stats.url}/v1/stats`)).json()) as { throughput: { totals: { completed: number } } })
        .throughput.totals.completed >= REVIEWS,
    'the stats to count every review',
  );

  for (const [name, base] of [
    ['ingest', ingest.url],
    ['stats', stats.url],
    ['worker', worker.url!],
    ['sink', sink.url!],
  ] as const) {
    const res = await fetch(`${base}/metrics`);
    const text = await res.text();
    if (res.status !== 200) findings.push(`${name} /metrics answered ${res.status}`);
    scraped.set(name, text);
    const lint = promtool(['check', 'metrics'], text);
    console.log(
      `promtool check metrics (${name}, ${text.split('\n').filter((l) => l && !l.startsWith('#')).length} samples): ${lint.ok ? 'ok' : 'FAILED'}`,
    );
    if (!lint.ok) findings.push(`${name}: promtool check metrics:\n${lint.output}`);
  }
} finally {
  for (const close of closers) await close().catch((err: unknown) => console.error(err));
  rmSync(dir, { recursive: true, force: true });
}

// The alert rules: the file, the PrometheusRule's groups, and their unit tests.
const rulesFile = path.join(root, 'deploy/prometheus/alerts.yml');
const prometheusRule = parseAllDocuments(readFileSync(path.join(root, 'deploy/k8s/prometheus-rule.yaml'), 'utf8'))
  .map((d) => d.toJS() as { kind?: string; spec?: unknown })
  .find((d) => d?.kind === 'PrometheusRule');
if (!prometheusRule?.spec) findings.push('deploy/k8s/prometheus-rule.yaml holds no PrometheusRule');
const fromK8s = path.join(os.tmpdir(), `sf-prometheus-rule-${process.pid}.yml`);
writeFileSync(fromK8s, JSON.stringify(prometheusRule?.spec ?? {}));
try {
  for (const [what, args] of [
    ['check rules deploy/prometheus/alerts.yml', ['check', 'rules', rulesFile]],
    ['check rules (PrometheusRule in deploy/k8s)', ['check', 'rules', fromK8s]],
    [
      'test rules deploy/prometheus/alerts.test.yml',
      ['test', 'rules', path.join(root, 'deploy/prometheus/alerts.test.yml')],
    ],
  ] as const) {
    const run = promtool([...args]);
    console.log(`promtool ${what}: ${run.ok ? 'ok' : 'FAILED'}`);
    if (!run.ok) findings.push(`promtool ${what}:\n${run.output}`);
  }
} finally {
  rmSync(fromK8s, { force: true });
}

// Every sf_ metric the rules use is one a service exports.
const exported = new Set([...scraped.values()].flatMap((t) => [...t.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!)));
const used = new Set(
  [...readFileSync(rulesFile, 'utf8').matchAll(/\bsf_[a-z0-9_]+[a-z]/g)].map((m) =>
    m[0].replace(/_(bucket|sum|count)$/, ''),
  ),
);
const unknown = [...used].filter((n) => !exported.has(n));
if (unknown.length > 0) findings.push(`alerts.yml uses metrics no service exports: ${unknown.join(', ')}`);

if (findings.length > 0) {
  console.error(`\ncheck:metrics: ${findings.length} finding(s):\n\n${findings.join('\n\n')}`);
  process.exit(1);
}
console.log(`check:metrics: ok (${scraped.size} services scraped, ${used.size} metrics used by the alert rules)`);
process.exit(0);
