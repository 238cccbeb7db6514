// Every HTTP service answers every error — its routes', fastify's router's, Node's parser's — with
// {"error": {"code", "message"}}, a registered code and that code's registered status
// (src/http/error-replies.ts), never fastify's own body or code (FST_ERR_*).
import { once } from 'node:events';
import net from 'node:net';
import type { InjectOptions } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import { defaultConfig } from '../helpers/config.ts';
import { errorCodes, isErrorCode } from '../../src/contracts/error-codes.ts';
import { buildProbeServer } from '../../src/http/probe-server.ts';
import { buildStatsApp } from '../../src/stats/stats-app.ts';
import { createWorkerMetrics } from '../../src/stats/worker-metrics.ts';
import type { ResultQueries } from '../../src/storage/result-queries.ts';
import { silentLogger } from '../helpers/fleet.ts';
import type { AnyFastifyInstance } from '../../src/http/fastify-instance.ts';

const config = defaultConfig({ LOG_LEVEL: 'silent' });
const noResults = { byReviewId: async () => [], latestByReviewIds: async () => new Map() } as unknown as ResultQueries;

const apps: Record<string, () => AnyFastifyInstance> = {
  ingest: () =>
    buildIngestApp({
      config,
      logger: silentLogger,
      producer: { backlog: async () => 0, enqueueReviews: async () => ({ accepted: [], duplicates: [] }) },
      queries: noResults,
    }),
  stats: () =>
    buildStatsApp({
      config,
      logger: silentLogger,
      collector: { collect: async () => ({}) as never },
      registry: new Registry(),
      queries: noResults,
    }),
  worker: () =>
    buildProbeServer({
      config,
      logger: silentLogger,
      component: 'worker-http',
      registry: createWorkerMetrics({ model: 'm', version: 'v' }).registry,
      readiness: async () => ({ ready: true }),
    }),
};

/** The status and body of an error answer: a registered code answered with its registered status. */
function expectRegistered(status: number, text: string, where: string): string {
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
  const code = body.error?.code;
  expect(isErrorCode(code), `${where}: ${text.slice(0, 200)}`).toBe(true);
  expect(status, where).toBe(errorCodes[code as keyof typeof errorCodes].http);
  expect(typeof body.error?.message, where).toBe('string');
  return code as string;
}

const json = { 'content-type': 'application/json' };
/** Requests any service may get, and the code each must be answered with, per service. */
const CASES: { name: string; request: InjectOptions; code: Record<string, string> }[] = [
  {
    name: 'an unknown route',
    request: { method: 'GET', url: '/nope' },
    code: { ingest: 'SF_ERR_NOT_FOUND', stats: 'SF_ERR_NOT_FOUND', worker: 'SF_ERR_NOT_FOUND' },
  },
  {
    name: 'a body that is not JSON',
    request: { method: 'POST', url: '/v1/reviews/status', headers: json, payload: '{"ids": [' },
    // The stats service parses a body before it finds no route; a worker reads no body at all.
    code: { ingest: 'SF_ERR_VALIDATION', stats: 'SF_ERR_VALIDATION', worker: 'SF_ERR_NOT_FOUND' },
  },
  {
    name: 'an empty JSON body',
    request: { method: 'POST', url: '/v1/reviews', headers: json, payload: '' },
    code: { ingest: 'SF_ERR_VALIDATION', stats: 'SF_ERR_VALIDATION', worker: 'SF_ERR_NOT_FOUND' },
  },
  {
    name: 'another content type',
    request: { method: 'POST', url: '/v1/reviews', headers: { 'content-type': 'text/plain' }, payload: 'hello' },
    code: { ingest: 'SF_ERR_UNSUPPORTED_MEDIA_TYPE', stats: 'SF_ERR_NOT_FOUND', worker: 'SF_ERR_NOT_FOUND' },
  },
  {
    name: 'a URL that does not decode',
    request: { method: 'GET', url: '/v1/results/%zz' },
    code: { ingest: 'SF_ERR_VALIDATION', stats: 'SF_ERR_VALIDATION', worker: 'SF_ERR_VALIDATION' },
  },
  {
    name: 'a path parameter over the limit',
    request: { method: 'GET', url: `/v1/results/${'a'.repeat(3000)}` },
    code: { ingest: 'SF_ERR_URI_TOO_LONG', stats: 'SF_ERR_URI_TOO_LONG', worker: 'SF_ERR_NOT_FOUND' },
  },
  {
    // 128 characters, the longest review id: 1,152 percent-encoded (the stats service answered 414).
    name: 'the longest review id, percent-encoded',
    request: { method: 'GET', url: `/v1/results/${encodeURIComponent('é'.repeat(128))}` },
    code: { ingest: 'SF_ERR_NOT_FOUND', stats: 'SF_ERR_NOT_FOUND', worker: 'SF_ERR_NOT_FOUND' },
  },
];

/** Sends raw bytes, resolves with what the server wrote before it closed the connection. */
async function raw(port: number, bytes: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (d) => (received += d.toString()));
  socket.on('error', () => undefined);
  socket.end(bytes);
  await once(socket, 'close');
  return received;
}

/** Status and body of a raw HTTP/1.1 answer. */
function parseAnswer(text: string): { status: number; body: string } {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), body };
}

for (const [service, build] of Object.entries(apps)) {
  describe(`${service}: error answers`, () => {
    const app = build();
    let port = 0;
    beforeAll(async () => {
      await app.listen({ host: '127.0.0.1', port: 0 });
      port = (app.server.address() as net.AddressInfo).port;
    });
    afterAll(() => app.close());

    for (const c of CASES) {
      it(`${c.name}: ${c.code[service]}`, async () => {
        const res = await app.inject(c.request);
        expect(expectRegistered(res.statusCode, res.body, c.name)).toBe(c.code[service]);
      });
    }

    it('a request Node cannot parse: 400 SF_ERR_VALIDATION', async () => {
      const { status, body } = parseAnswer(await raw(port, 'NOT HTTP AT ALL\r\n\r\n'));
      expect(expectRegistered(status, body, 'malformed')).toBe('SF_ERR_VALIDATION');
    });

    it('headers over the limit: 431 SF_ERR_HEADERS_TOO_LARGE', async () => {
      const { status, body } = parseAnswer(
        await raw(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`),
      );
      expect(expectRegistered(status, body, 'header overflow')).toBe('SF_ERR_HEADERS_TOO_LARGE');
    });
  });
}
