// The result sink's own HTTP port (SINK_HTTP_PORT): /readyz follows the database (down: 503
// naming it; back: 200), /metrics counts rows, commits, database errors and the pause.
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { createSinkApp } from '../../src/app/sink-app.ts';
import { defaultConfig } from '../helpers/config.ts';
import { RESULT_BATCH_JOB_NAME } from '../../src/contracts/result-contract.ts';
import { silentLogger } from '../helpers/fleet.ts';
import { createTestDatabase, redactedAdminUrl } from '../helpers/postgres.ts';
import { uniqueName, useTestRedis } from '../helpers/redis.ts';
import { makeResult, pollUntil } from '../helpers/results.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

const database = await createTestDatabase();
const redis = useTestRedis(() => database?.drop());

/** The value of an unlabelled series (or the first with labels) in a text exposition. */
function metric(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe.skipIf(!database)(
  `sink probes and metrics on PostgreSQL${database ? '' : ` (skipped: no server at ${redactedAdminUrl()})`}`,
  () => {
    const cleanup: (() => Promise<unknown>)[] = [];
    afterAll(async () => {
      for (const c of cleanup.reverse()) await c();
    });

    it('readyz is 503 while the database is down and 200 once it is back; metrics follow', async () => {
      const target = new URL(database!.url);
      const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
      cleanup.push(() => proxy.close());
      const url = new URL(database!.url);
      url.host = `127.0.0.1:${proxy.port}`;
      const config = defaultConfig({
        REDIS_URL: redis.current.url,
        QUEUE_PREFIX: `{${uniqueName('sfo')}}`,
        DATABASE_URL: url.toString(),
        SINK_HTTP_PORT: '0',
        LOG_LEVEL: 'silent',
        SINK_BATCH_MAX_WAIT_MS: '5',
      });
      const app = await createSinkApp(config, silentLogger);
      cleanup.push(() => app.close());
      const base = app.url!;
      const queue = new Queue(config.queues.results, {
        connection: { url: redis.current.url },
        prefix: config.redis.prefix,
      });
      cleanup.push(() => queue.close());
      const scrape = async () => (await fetch(`${base}/metrics`)).text();

      const up = await fetch(`${base}/readyz`);
      expect(up.status).toBe(200);
      expect(await up.json()).toEqual({ status: 'ready', database: 'ok', redis: 'ok', consuming: true, paused: false });
      expect((await fetch(`${base}/healthz`)).status).toBe(200);

      const prefix = uniqueName('obs');
      await queue.add(
        RESULT_BATCH_JOB_NAME,
        { results: [makeResult(`${prefix}-0`), makeResult(`${prefix}-1`)] },
        { jobId: `${prefix}-a` },
      );
      await pollUntil(async () => metric(await scrape(), 'sf_sink_rows_upserted_total') === 2, 10_000, scrape);
      const before = await scrape();
      expect(metric(before, 'sf_sink_commit_duration_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(metric(before, 'sf_sink_paused')).toBe(0);
      expect(metric(before, 'sf_sink_database_errors_total')).toBe(0);

      await proxy.down();
      const down = await fetch(`${base}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: 'not ready', database: 'unreachable', redis: 'ok' });
      await queue.add(RESULT_BATCH_JOB_NAME, { results: [makeResult(`${prefix}-2`)] }, { jobId: `${prefix}-b` });
      await pollUntil(async () => metric(await scrape(), 'sf_sink_paused') === 1, 15_000, scrape);
      expect(metric(await scrape(), 'sf_sink_database_errors_total')).toBeGreaterThanOrEqual(1);

      await proxy.up();
      await pollUntil(
        async () => (await fetch(`${base}/readyz`)).status === 200,
        15_000,
        async () => JSON.stringify(await (await fetch(`${base}/readyz`)).json()),
      );
      await pollUntil(async () => metric(await scrape(), 'sf_sink_rows_upserted_total') === 3, 40_000, scrape);
      const after = await scrape();
      expect(metric(after, 'sf_sink_paused')).toBe(0);
      expect(after).toMatch(/^sf_http_requests_total\{method="GET",route="\/readyz",status="503"\} [1-9]/m);
      expect(after).toContain('process_cpu_seconds_total');
    }, 90_000);
  },
);
