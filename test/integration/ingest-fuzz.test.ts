import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { isErrorCode } from '../../src/contracts/error-codes.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import { createReviewProducer } from '../../src/queue/review-producer.ts';
import { reviewIdToJobId } from '../../src/contracts/job-id.ts';
import { closeRedisConnection, createRedisConnection } from '../../src/queue/redis-connection.ts';
import { silentLogger } from '../helpers/fleet.ts';
import { generateCases, type FuzzCase } from '../../fuzz/ingest-grammar.ts';
import { formatSummary, runFuzz } from '../../fuzz/fuzz-runner.ts';
import { uniqueName, useTestRedis } from '../helpers/redis.ts';

// The fuzz generator of `npm run fuzz` (fuzz/), seeded, with fewer cases: here through
// app.inject, comparing every accepted job with what was sent; then through the runner itself
// (live service, real sockets, hostile shapes).
const SEED = 20_261_122;
const RANDOM_CASES = 600;
const RUNNER_CASES = 240;
const REQUEST_TIMEOUT_MS = 10_000;
const redis = useTestRedis();

type App = ReturnType<typeof buildIngestApp>;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) =>
      (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (hung request)`)), ms)),
  );
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const bodyOf = (c: FuzzCase): string | Buffer => (typeof c.body === 'function' ? c.body() : c.body);

function send(app: App, c: FuzzCase) {
  const headers: Record<string, string> = {};
  const contentType = c.contentType === undefined ? 'application/json' : c.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  return withTimeout(
    app.inject({ method: 'POST', url: '/v1/reviews', headers, payload: bodyOf(c) }),
    REQUEST_TIMEOUT_MS,
    c.name,
  );
}

/** What the server parsed from a JSON body, as a list of items; undefined when the body is not JSON. */
function sentItems(c: FuzzCase): unknown[] | undefined {
  try {
    const body = bodyOf(c);
    const parsed: unknown = JSON.parse(
      (typeof body === 'string' ? body : body.toString('utf8')).replace(/^\ufeff/, ''),
    );
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return undefined;
  }
}

describe('POST /v1/reviews under fuzzed input', () => {
  it('answers every payload with a 4xx naming the problem or a 202 whose jobs hold exactly what was sent', async () => {
    const config = defaultConfig({
      REDIS_URL: redis.current.url,
      QUEUE_PREFIX: `{${uniqueName('sfz')}}`,
      LOG_LEVEL: 'silent',
    });
    const connection = createRedisConnection(config.redis.url!, 'producer', silentLogger);
    const producer = createReviewProducer({ config, connection, logger: silentLogger });
    await producer.queue.waitUntilReady();
    const app = buildIngestApp({ config, producer, logger: silentLogger });
    const byStatus = new Map<number, number>();
    let accepted = 0;
    const limits = {
      bodyLimitBytes: config.http.bodyLimitBytes,
      maxReviewsPerRequest: config.http.maxReviewsPerRequest,
      maxTextChars: config.reviews.maxTextChars,
    };
    const cases = [...generateCases({ seed: SEED, count: RANDOM_CASES, limits })];
    try {
      for (const c of cases) {
        const res = await send(app, c);
        byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1);
        const where = `${c.name}: ${res.statusCode} ${res.body.slice(0, 300)}`;
        expect([202, 400, 413, 415], where).toContain(res.statusCode);
        if (c.expect) expect(res.statusCode, where).toBe(c.expect.status);
        const body = res.json() as {
          error?: { code: string; message: string; problems?: unknown[] };
          ids?: string[];
          duplicates?: string[];
        };
        if (res.statusCode !== 202) {
          expect(isErrorCode(body.error?.code), where).toBe(true);
          expect(body.error?.message.length, where).toBeGreaterThan(5);
          expect(body.error?.message, where).not.toMatch(/internal error|at .*\.ts:\d+/);
          if (c.expect?.mentions) expect(JSON.stringify(body.error), where).toMatch(c.expect.mentions);
          continue;
        }
        // Accepted: every review is a job whose data is what was sent, field for field.
        const items = sentItems(c);
        expect(items, where).toBeDefined();
        const ids = items!.map((i) => (i as { id: string }).id);
        expect([...body.ids!, ...body.duplicates!].sort(), where).toEqual([...ids].sort());
        for (const id of body.ids!) {
          const job = await producer.queue.getJob(reviewIdToJobId(id));
          expect(job?.data, `${where}: job ${JSON.stringify(id)}`).toEqual(
            items!.find((i) => (i as { id: string }).id === id),
          );
        }
        accepted += body.ids!.length;
      }
      // The app still answers after all of it.
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      const refused = [...byStatus]
        .filter(([s]) => s !== 202)
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}: ${n}`)
        .join(', ');
      console.log(
        `ingest fuzz: ${cases.length} cases, ${byStatus.get(202) ?? 0} accepted (${accepted} reviews), ${[...byStatus].filter(([s]) => s !== 202).reduce((n, [, k]) => n + k, 0)} refused (${refused})`,
      );
      await app.close();
      await producer.queue.obliterate({ force: true }).catch(() => undefined);
      await producer.close();
      await closeRedisConnection(connection);
    }
  }, 120_000);

  it('npm run fuzz, short: no 5xx, no hang, no event-loop stall over 100 ms, hostile shapes included', async () => {
    const summary = await runFuzz({ cases: RUNNER_CASES, seed: SEED, hostileEvery: 20 });
    console.log(formatSummary(summary));
    expect(summary.cases).toBeGreaterThan(RUNNER_CASES);
    expect(summary.serverErrors).toEqual([]);
    expect(summary.hangs).toEqual([]);
    expect(summary.resets).toEqual([]);
    expect(summary.unexpected).toEqual([]);
    expect(summary.stalls).toEqual([]);
  }, 300_000);
});
