// The API reference page (/docs, swagger-ui) in Chromium (playwright-core driving
// /usr/bin/chromium, as the dashboard test): it renders every operation of the ingest API's
// document and loads nothing from anywhere but the service (no CDN, no online validator).
// Under CI a missing Chromium fails the test; elsewhere it is skipped with a message.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describedApps } from '../../src/app/openapi-docs.ts';
import { hashApiKey } from '../../src/auth/api-keys.ts';
import { defaultConfig } from '../helpers/config.ts';
import { PROJECT_ROOT } from '../helpers/fleet.ts';
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

const KEY = 'sfk_docs-browser-key-0123456789';
const apps = describedApps(defaultConfig({ API_KEYS: `docs:read:${hashApiKey(KEY)}`, LOG_LEVEL: 'silent' }));
let url: string;
let browser: Browser | undefined;

beforeAll(async () => {
  url = await apps.ingest.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([apps.ingest.close(), apps.stats.close()]);
});

describe.skipIf(noChromium)('the API reference page in Chromium', () => {
  it('renders every operation of the document, with the key given as Basic credentials, from local assets only', async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    // What a browser does after its Basic prompt: the key as the password, on every request of the page.
    const context = await browser.newContext({
      httpCredentials: { username: 'shop', password: KEY },
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));

    const res = await page.goto(`${url}/docs`);
    expect(res?.status()).toBe(200);
    await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
    const document = (await (
      await fetch(`${url}/openapi.json`, { headers: { authorization: `Bearer ${KEY}` } })
    ).json()) as { paths: Record<string, object> };
    const shown = await page.$$eval('.opblock-summary-path', (nodes) => nodes.map((n) => n.getAttribute('data-path')));
    expect(shown.sort()).toEqual(
      Object.entries(document.paths)
        .flatMap(([p, ops]) => Object.keys(ops).map(() => p))
        .sort(),
    );
    expect(await page.textContent('.info .title')).toContain('sentiment-fleet ingest API');

    expect(requested.length).toBeGreaterThan(4);
    expect(requested.filter((r) => !r.startsWith(`${url}/`) && !r.startsWith('data:'))).toEqual([]);
    expect(problems).toEqual([]);
    mkdirSync(path.join(PROJECT_ROOT, 'test-output'), { recursive: true });
    await page.screenshot({ path: path.join(PROJECT_ROOT, 'test-output/api-docs.png') });
  });
});
