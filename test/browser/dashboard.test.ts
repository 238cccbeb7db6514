// The dashboard against a real stack: Redis, an inference worker (the default model), the result
// sink (PGlite) and the stats service with the dashboard and bull-board; the page is loaded in
// Chromium (playwright-core driving /usr/bin/chromium; skipped with a message when absent).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSinkApp } from '../../src/app/sink-app.ts';
import { createStatsServer } from '../../src/app/stats-server.ts';
import type { Config } from '../../src/config/load-config.ts';
import { defaultConfig } from '../helpers/config.ts';
import { openDashboard, registerDashboard } from '../../src/stats/dashboard-routes.ts';
import { toBatchStatsInput } from '../../src/stats/batch-stats-recorder.ts';
import { encodeBatchEntry, statsStreamKey } from '../../src/stats/stats-stream.ts';
import type { HistoryPoint } from '../../src/stats/history-point.ts';
import { openQueues, PROJECT_ROOT, silentLogger, startWorker, testEnv, type TestQueues } from '../helpers/fleet.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis.ts';
import { missingBackend } from '../helpers/backends.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const noChromium = missingBackend(
  existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install chromium)`,
);

const DEFAULT_MODEL = path.join(PROJECT_ROOT, 'models/review-sentiment-en');
const SCREENSHOT = path.join(PROJECT_ROOT, 'test-output/dashboard.png');
/** `UPDATE_DOCS_SCREENSHOT=1 npx vitest run test/browser` also refreshes docs/dashboard.png (README, docs/dashboard.md). */
const DOCS_SCREENSHOT = path.join(PROJECT_ROOT, 'docs/dashboard.png');

const GOOD = [
  'Battery lasts two days, love it.',
  'Works perfectly, great value for the price.',
  'Excellent build quality, highly recommend.',
  'Fast delivery and it does exactly what I wanted.',
];
const BAD = [
  'Stopped charging after a week. Waste of money.',
  'Terrible, it broke after two days.',
  'Cheap plastic, the lid cracked. Returned it.',
  'Does not work at all, very disappointed.',
];

/**
 * `n` reviews over products p1–p4; `negativeShare` of them negative. Star ratings mostly match the
 * text (1–2 or 4–5 stars), some do not (a 5-star complaint), some are 3 stars or missing.
 */
function wave(name: string, n: number, negativeShare: number) {
  return Array.from({ length: n }, (_, i) => {
    const negative = (i * 7919) % 100 < negativeShare * 100;
    const texts = negative ? BAD : GOOD;
    const rating =
      i % 10 === 3 ? undefined : i % 9 === 0 ? 3 : negative ? (i % 5 === 0 ? 5 : 1 + (i % 2)) : 4 + (i % 2);
    return {
      id: `${name}-${i}`,
      productId: `p${(i % 4) + 1}`,
      text: `${texts[i % texts.length]} (order ${i})`,
      ...(rating === undefined ? {} : { rating }),
    };
  });
}

/** "87.5% of 120", computed from the stored rows: 1–2 stars expect `negative`, 4–5 `positive`. */
function agreementOf(rows: { label: string; rating: number | null }[]): string {
  const rated = rows.filter((r) => r.rating !== null && (r.rating <= 2 || r.rating >= 4));
  const agreeing = rated.filter((r) => r.label === (r.rating! <= 2 ? 'negative' : 'positive'));
  return `${((agreeing.length / rated.length) * 100).toFixed(1)}% of ${rated.length.toLocaleString('en-US')}`;
}

/**
 * What a worker with MODEL_ROUTES writes to the stats stream: batches of German, French and Spanish
 * reviews, each scored by its language's model (`m`), every review with its language (`lang`).
 * 30 de (60 % negative), 20 fr (25 %), 10 es (10 %).
 */
async function writeRoutedBatches(): Promise<void> {
  const now = Date.now();
  const routed = [
    { language: 'de', n: 30, negative: 18 },
    { language: 'fr', n: 20, negative: 5 },
    { language: 'es', n: 10, negative: 1 },
  ];
  for (const r of routed) {
    const items = Array.from({ length: r.n }, (_, i) => ({
      enqueuedAt: now - 40,
      label: i < r.negative ? 'negative' : 'positive',
      score: 0.9,
      tokens: 12,
      truncated: false,
      language: r.language,
    }));
    const input = toBatchStatsInput(`routed-host/1/review-sentiment-en@1`, {
      processedAt: now,
      size: r.n,
      inferenceMs: 5,
      labels: ['negative', 'positive'],
      items,
      model: `review-sentiment-${r.language}@1`,
    });
    await queues.connection.xadd(statsStreamKey(config.redis.prefix), '*', ...encodeBatchEntry(input));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How many times the page has rendered a stats document. */
const pollCount = (page: Page) => page.evaluate(() => Number(document.body.dataset.polls ?? 0));

let redis: TestRedis;
let config: Config;
let queues: TestQueues;
let dataDir: string;
let worker: Awaited<ReturnType<typeof startWorker>>;
let sink: Awaited<ReturnType<typeof createSinkApp>>;
let stats: Awaited<ReturnType<typeof createStatsServer>>;

beforeAll(async () => {
  redis = await startTestRedis();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'sf-dashboard-db-'));
  const env = testEnv(redis.url, DEFAULT_MODEL, {
    STATS_HTTP_PORT: '0',
    SINK_DATA_DIR: dataDir,
    // Short drift windows, so that two waves of reviews a few seconds apart are compared.
    DRIFT_RECENT_S: '14',
    DRIFT_REFERENCE_S: '600',
    DRIFT_MIN_COUNT: '30',
    BATCH_MAX_SIZE: '16',
    // A history point every second, so that the reload below finds dozens of them.
    STATS_HISTORY_INTERVAL_S: '1',
  });
  config = defaultConfig(env);
  worker = await startWorker(env);
  sink = await createSinkApp(config, silentLogger);
  queues = await openQueues(config);
  // Wired as the stats service wires it: built assets as staticDir, bull-board via register.
  const dashboard = await openDashboard({ config, connection: queues.connection, logger: silentLogger });
  stats = await createStatsServer(config, silentLogger, {
    queries: sink.queries,
    staticDir: dashboard.staticDir,
    register: dashboard.register,
  });
}, 120_000);

afterAll(async () => {
  await stats?.close();
  await worker?.close();
  await sink?.close();
  await queues?.close();
  await redis?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('dashboard routes', () => {
  it('serves the built dashboard at / and a read-only bull-board at /admin/queues', async () => {
    const page = await fetch(`${stats.url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<script type="module" src="main.js">');
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/); // no CDN, no external fonts
    const js = await fetch(`${stats.url}/main.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await js.text()).length).toBeGreaterThan(20_000); // uPlot is bundled in
    expect((await fetch(`${stats.url}/main.css`)).status).toBe(200);

    const board = await fetch(`${stats.url}/admin/queues`);
    expect(board.status).toBe(200);
    expect(await board.text()).toContain('sentiment-fleet');
    const api = await fetch(`${stats.url}/admin/queues/api/queues`);
    expect(api.status).toBe(200);
    const body = (await api.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(
      [config.queues.results, config.queues.reviews, config.queues.bulk].sort(),
    );
    expect(body.queues.every((q) => q.readOnlyMode)).toBe(true);
    const pause = await fetch(`${stats.url}/admin/queues/api/queues/${config.queues.reviews}/pause`, { method: 'PUT' });
    expect(pause.status).toBe(405);
    expect(await queues.reviews.isPaused()).toBe(false);
    // The app's own 404s are untouched by the static files.
    expect((await fetch(`${stats.url}/nope`)).status).toBe(404);
  });

  it('with allowRetries, lets bull-board retry failed jobs and nothing else', async () => {
    const app = Fastify();
    await registerDashboard(app, { queues: [queues.reviews, queues.results], allowRetries: true });
    try {
      expect((await app.inject('/')).statusCode).toBe(200);
      const list = (await app.inject('/admin/queues/api/queues')).json() as {
        queues: { name: string; readOnlyMode: boolean; allowRetries: boolean }[];
      };
      expect(list.queues.every((q) => !q.readOnlyMode && q.allowRetries)).toBe(true);
      const base = `/admin/queues/api/queues/${config.queues.results}`;
      expect((await app.inject({ method: 'PUT', url: `${base}/pause` })).statusCode).toBe(405);
      expect((await app.inject({ method: 'PUT', url: `${base}/obliterate` })).statusCode).toBe(405);
      expect((await app.inject({ method: 'PUT', url: `${base}/clean/completed` })).statusCode).toBe(405);
      expect((await app.inject({ method: 'PUT', url: `${base}/retry/completed` })).statusCode).toBe(405);
      expect((await app.inject({ method: 'PUT', url: `${base}/retry/failed` })).statusCode).toBeLessThan(300);
    } finally {
      await app.close();
    }
  });
});

describe.skipIf(noChromium)(`dashboard in Chromium${noChromium ? ` (skipped: ${CHROMIUM} missing)` : ''}`, () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it('renders live charts, the worker, drift and a product from a running fleet', async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1 });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    let reloading = false;
    page.on('requestfailed', (r) => {
      // A reload cuts the poll in flight: that one is expected.
      if (!(reloading && r.failure()?.errorText === 'net::ERR_ABORTED'))
        problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
    });
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(stats.url) && !r.url().startsWith('data:')) external.push(r.url());
    });

    await page.goto(`${stats.url}/`);
    await page.waitForFunction(() => Number(document.body.dataset.polls ?? 0) >= 1);
    // Nothing scored yet: drift is neither OK nor alerting.
    const driftKpi = page.locator('.kpi', { hasText: 'Drift' });
    expect(await driftKpi.locator('.kpi-value').textContent()).toBe('not enough data');
    expect(await driftKpi.locator('.kpi-note').textContent()).toBe('0 of 30 recent, 0 of 30 reference');
    expect(await page.locator('#drift-rows .badge').allTextContents()).toEqual([
      'not enough data',
      'not enough data',
      'not enough data',
    ]);
    expect(await page.locator('#drift-notice').isVisible()).toBe(true);
    // The worker runs without MODEL_ROUTES: the languages panel says routing is off, no empty table.
    expect(await page.locator('#language-notice').textContent()).toMatch(/^Routing off/);
    expect(await page.locator('#language-table').isVisible()).toBe(false);
    expect(await page.locator('#chart-languages').isVisible()).toBe(false);

    // Two mostly positive waves, then a mostly negative one: the charts fill and drift alerts.
    const waves = [wave('a', 120, 0.15), wave('b', 120, 0.15), wave('c', 600, 0.8)];
    await queues.producer.enqueueMany(waves[0]!);
    await sleep(1500);
    await queues.producer.enqueueMany(waves[1]!);
    await queues.settled(240);
    await sleep(8_000); // by the end, the first waves are out of the recent drift window (14 s)
    // The third wave waits while the worker is paused: the dashboard shows the backlog.
    await worker.worker.worker.pause();
    await queues.producer.enqueueMany(waves[2]!);
    const before = await pollCount(page);
    await page.waitForFunction((n) => Number(document.body.dataset.polls) >= n + 2, before);
    expect(await page.locator('.kpi').first().textContent()).toContain('600');
    // The bulk lane beside it: nothing in it here (its own series and figure, dashboard/src/bulk-view.ts).
    expect(await page.locator('.kpi', { hasText: 'Bulk backlog' }).locator('.kpi-value').textContent()).toBe('0');
    worker.worker.worker.resume();
    await queues.settled(840);
    // A job another producer wrote with a bad shape fails alone; the page names its code.
    await queues.reviews.add('review', { id: 'foreign-1', body: 'not our shape' }, { jobId: 'foreign-1' });
    await queues.settled(841);
    while ((await sink.queries.count()) < 840) await sleep(100);
    await page.fill('#product-id', 'p1');
    await page.click('#product-form button');
    // Three more polls after everything is stored.
    const polls = await pollCount(page);
    await page.waitForFunction((n) => Number(document.body.dataset.polls) >= n + 3, polls, { timeout: 20_000 });

    // Every chart drew a canvas with data points.
    const charts = await page.$$eval('.chart:not(#chart-languages)', (nodes) =>
      nodes.map((n) => ({
        id: n.id,
        points: Number((n as HTMLElement).dataset.points ?? 0),
        canvas: n.querySelector('canvas')?.width ?? 0,
      })),
    );
    expect(charts.map((c) => c.id).sort()).toEqual([
      'chart-batches',
      'chart-labels',
      'chart-latency',
      'chart-queues',
      'chart-rate',
      'chart-throughput',
    ]);
    for (const c of charts) {
      expect(c.canvas, c.id).toBeGreaterThan(0);
      expect(c.points, c.id).toBeGreaterThan(0);
    }
    // The canvases are not blank: some pixels differ from the first one.
    const inked = await page.$$eval('.chart:not(#chart-languages) canvas', (canvases) =>
      canvases.map((c) => {
        const { data } = (c as HTMLCanvasElement)
          .getContext('2d')!
          .getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height);
        let differing = 0;
        for (let i = 4; i < data.length; i += 4) if (data[i + 3] !== data[3] || data[i] !== data[0]) differing++;
        return differing;
      }),
    );
    for (const n of inked) expect(n).toBeGreaterThan(500);

    const workers = await page.locator('#worker-rows tr').allTextContents();
    expect(workers).toHaveLength(1);
    expect(workers[0]).toContain('review-sentiment-en');
    expect(workers[0]).toContain(String(process.pid));
    expect(await page.locator('#worker-scaling').textContent()).toMatch(/^scaling signal: \d+ recommended/);
    // Label shares per model version (one version here): its row names the model and the labels.
    const versions = await page.locator('#version-rows tr').allTextContents();
    expect(versions).toHaveLength(1);
    expect(versions[0]).toContain('review-sentiment-en');
    expect(versions[0]).toMatch(/negative \d+\.\d%/);
    expect(await page.locator('#version-rows .share-bar span').count()).toBe(2);
    const queueRows = await page.locator('#queue-rows th').allTextContents();
    expect(queueRows).toEqual(expect.arrayContaining([config.queues.reviews, config.queues.results]));
    expect(await page.locator('#drift-rows tr').count()).toBe(3);
    expect(await page.locator('#failure-reasons li').allTextContents()).toEqual([
      expect.stringMatching(new RegExp(`^SF_ERR_BAD_JOB × 1 in ${config.queues.reviews} \\(last `)),
    ]);
    expect(await page.locator('#failure-reasons').textContent()).not.toContain('not our shape');
    // 15 % negative in the reference window, 80 % in the recent one: the label shares drifted.
    expect(await page.locator('#drift-alerts li').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^psi /)]),
    );
    expect(await page.locator('.kpi.alert').count()).toBe(1);
    expect(await page.locator('.kpi').count()).toBeGreaterThanOrEqual(6);
    await page.waitForSelector('.product-figures');
    const p1 = waves.flat().filter((r) => r.productId === 'p1').length;
    expect(await page.locator('#product-summary').textContent()).toMatch(
      new RegExp(`Results \\(24 h\\)\\s*${p1}(?!\\d)`),
    );
    // Rating agreement: of the fleet over the stats window (every review here), per version, and of p1.
    const stored = (
      await sink.db.query<{ label: string; rating: number | null; product_id: string }>(
        'SELECT label, rating, product_id FROM sentiment_results',
      )
    ).rows;
    const fleet = agreementOf(stored);
    const agreementKpi = page.locator('.kpi', { hasText: 'Rating agreement' });
    expect(await agreementKpi.locator('.kpi-value').textContent()).toBe(fleet.split(' of ')[0]);
    expect(await agreementKpi.locator('.kpi-note').textContent()).toMatch(
      new RegExp(`^of ${fleet.split(' of ')[1]} rated in `),
    );
    expect(versions[0]).toContain(fleet);
    const [share, rated] = agreementOf(stored.filter((r) => r.product_id === 'p1')).split(' of ');
    expect(await page.locator('#product-summary .rating-agreement').textContent()).toBe(share);
    expect(await page.locator('#product-summary').textContent()).toContain(`of ${rated} rated`);
    expect(await page.locator('#negative-rows tr').count()).toBe(10);
    expect(await page.locator('#status').textContent()).toMatch(/^live/);
    // Rate now and its 5-minute average, side by side.
    const kpiLabels = await page.locator('.kpi-label').allTextContents();
    expect(kpiLabels.indexOf('Rate, 5-min avg')).toBe(kpiLabels.indexOf('Rate now') + 1);
    expect(await page.locator('.kpi', { hasText: 'Rate, 5-min avg' }).locator('.kpi-value').textContent()).toMatch(
      /^[1-9][\d.]*\/s$/,
    );

    // A freshly opened page (a reload) draws the history the stats service recorded before it opened.
    const openedAt = Date.now() / 1000;
    reloading = true;
    await page.reload();
    reloading = false;
    await page.waitForFunction(() => Number(document.body.dataset.polls ?? 0) >= 3);
    // One point a second since the service started (a tick is skipped while a slow collect runs).
    expect(Number(await page.evaluate(() => document.body.dataset.historyPoints))).toBeGreaterThanOrEqual(10);
    const reloaded = await page.$$eval('#chart-queues, #chart-latency, #chart-rate', (nodes) =>
      nodes.map((n) => ({
        id: n.id,
        points: Number((n as HTMLElement).dataset.points),
        first: Number((n as HTMLElement).dataset.first),
      })),
    );
    for (const c of reloaded) {
      expect(c.points, c.id).toBeGreaterThanOrEqual(10);
      expect(c.first, c.id).toBeLessThan(openedAt - 10);
    }
    // The product ranking: p1–p4 with 210 results each, none before the last 24 h.
    await page.waitForSelector('#ranking-negative-rows button');
    const ranked = await page.locator('#ranking-negative-rows tr').allTextContents();
    expect(ranked).toHaveLength(4);
    expect(ranked.map((r) => r.slice(0, 2)).sort()).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(await page.locator('#ranking-change-rows').textContent()).toContain(
      'no product with 10+ results in both 24 h windows',
    );
    expect(await page.locator('#ranking-status').textContent()).toMatch(/^4 product\(s\) with results/);
    // A click on a ranked product shows it in the product view (the hash kept p1 across the reload).
    await page.waitForSelector('.product-figures');
    const second = (await page.locator('#ranking-negative-rows button').nth(1).textContent())!;
    await page.locator('#ranking-negative-rows button').nth(1).click();
    await page.waitForFunction((id) => location.hash === `#product=${id}`, second);
    await page.waitForFunction(
      (id) =>
        document.querySelector('#product-id') instanceof HTMLInputElement &&
        (document.querySelector('#product-id') as HTMLInputElement).value === id,
      second,
    );
    await page.waitForSelector('.product-figures');

    // Reviews routed by language (as a worker with MODEL_ROUTES records them): the panel splits them.
    expect(await page.locator('#language-notice').isVisible()).toBe(true);
    await writeRoutedBatches();
    await page.waitForSelector('#language-rows tr');
    expect(await page.locator('#language-notice').isVisible()).toBe(false);
    expect(
      await page
        .locator('#language-rows tr')
        .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.language)),
    ).toEqual(['de', 'fr', 'es']);
    const de = page.locator('#language-rows tr[data-language="de"] td');
    expect(await de.allTextContents()).toEqual([
      '50.0%30 reviews',
      '60.0%',
      'positive 40.0%',
      'review-sentiment-de@1',
      '90.0%',
    ]);
    expect(await page.locator('#language-rows tr[data-language="fr"] td.negative').textContent()).toBe('25.0%');
    expect(await page.locator('#language-rows tr[data-language="es"] td.model').textContent()).toBe(
      'review-sentiment-es@1',
    );
    expect(await page.locator('#language-rows tr[data-language="de"] td.negative').getAttribute('class')).toContain(
      'bad',
    );
    expect(await page.locator('#language-rows .share-bar').first().locator('span').count()).toBe(2);
    // The service's history records the negative share per language (a point every second here).
    let languagePoint: HistoryPoint | undefined;
    while (!languagePoint) {
      const { history } = (await (await fetch(`${stats.url}/v1/stats/history`)).json()) as { history: HistoryPoint[] };
      languagePoint = [...history].reverse().find((p) => p.values['language.de.negative'] !== undefined);
      if (!languagePoint) await sleep(200);
    }
    expect(languagePoint.values).toMatchObject({
      'language.de.negative': 0.6,
      'language.fr.negative': 0.25,
      'language.es.negative': 0.1,
    });
    await page.waitForFunction(
      () => Number((document.querySelector('#chart-languages') as HTMLElement | null)?.dataset.points ?? 0) > 0,
    );
    expect(await page.locator('#chart-languages canvas').isVisible()).toBe(true);

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') copyFileSync(SCREENSHOT, DOCS_SCREENSHOT);

    expect(problems).toEqual([]);
    expect(external).toEqual([]);

    // Without the storage routes (a stats service started without the sink's queries), and
    // while /v1/stats fails, the page says so and keeps polling.
    await page.route('**/v1/products/**', (route) =>
      route.fulfill({ status: 404, json: { error: { code: 'SF_ERR_NOT_FOUND', message: 'no route' } } }),
    );
    await page.fill('#product-id', 'p2');
    await page.click('#product-form button');
    await page.getByText('storage not connected').waitFor();
    await page.route('**/v1/stats', (route) =>
      route.fulfill({ status: 503, json: { error: { code: 'SF_ERR_REDIS', message: 'down' } } }),
    );
    await page.getByText(/^stats unavailable/).waitFor();
    await page.unroute('**/v1/stats');
    await page.getByText(/^live/).waitFor();

    // bull-board's own UI renders the two queues.
    await page.goto(`${stats.url}/admin/queues`);
    await page.getByText(config.queues.reviews, { exact: true }).first().waitFor();
    await page.getByText(config.queues.results, { exact: true }).first().waitFor();
  }, 120_000);
});
