import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { buildIngestApp } from '../../src/app/ingest-http-app.ts';
import { buildStatsApp } from '../../src/stats/stats-app.ts';
import { Registry } from 'prom-client';
import { silentLogger } from '../helpers/fleet.ts';

// Slow and idle clients are cut off by the configured timeouts (short ones here); each test
// awaits the socket's close, bounded by the timeout plus a margin, with no sleeps.

const TIMEOUTS = {
  HTTP_HEADERS_TIMEOUT_MS: '300',
  HTTP_REQUEST_TIMEOUT_MS: '600',
  HTTP_CONNECTION_TIMEOUT_MS: '1000',
  HTTP_KEEP_ALIVE_TIMEOUT_MS: '500',
};
const MARGIN_MS = 3000;

interface Closed {
  ms: number;
  received: string;
}

/** Connects, writes `parts` (then nothing), resolves when the server closes the socket. */
async function heldOpen(port: number, parts: string[]): Promise<Closed> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const started = performance.now();
  let received = '';
  socket.on('data', (d) => (received += d.toString()));
  socket.on('error', () => undefined);
  for (const part of parts) socket.write(part);
  const closed = once(socket, 'close');
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error('the server kept the socket open')), 1000 + MARGIN_MS)),
  );
  try {
    await Promise.race([closed, limit]);
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
  return { ms: performance.now() - started, received };
}

for (const service of ['ingest', 'stats'] as const) {
  describe(`${service} HTTP timeouts`, () => {
    const config = defaultConfig({ LOG_LEVEL: 'silent', ...TIMEOUTS });
    const never = () => new Promise<never>(() => undefined); // a dependency that never answers
    const app =
      service === 'ingest'
        ? buildIngestApp({ config, producer: { backlog: never, enqueueReviews: never }, logger: silentLogger })
        : buildStatsApp({ collector: { collect: never }, registry: new Registry(), logger: silentLogger, config });
    const hanging =
      service === 'ingest'
        ? 'POST /v1/reviews HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 23\r\n\r\n{"id":"a","text":"ok!"}'
        : 'GET /v1/stats HTTP/1.1\r\nHost: x\r\n\r\n';
    let port = 0;
    beforeAll(async () => {
      await app.listen({ host: '127.0.0.1', port: 0 });
      port = (app.server.address() as net.AddressInfo).port;
    });
    afterAll(() => app.close());

    it('closes a connection that sends nothing (headers timeout)', async () => {
      const closed = await heldOpen(port, []);
      expect(closed.ms).toBeGreaterThanOrEqual(250);
    });

    it('closes a slow-loris connection whose headers never end', async () => {
      const closed = await heldOpen(port, ['POST /v1/reviews HTTP/1.1\r\n', 'Host: x\r\n', 'X-Slow: 1\r\n']);
      expect(closed.ms).toBeGreaterThanOrEqual(250);
    });

    it('answers 408 and closes when the body stops coming (request timeout)', async () => {
      const closed = await heldOpen(port, [
        'POST /v1/reviews HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n',
        '[{"id":',
      ]);
      expect(closed.ms).toBeGreaterThanOrEqual(550);
      expect(closed.received).toMatch(/^HTTP\/1\.1 408/);
      // The registered code, like every error answer (src/http/error-replies.ts).
      expect(JSON.parse(closed.received.split('\r\n\r\n')[1]!)).toEqual({
        error: { code: 'SF_ERR_TIMEOUT', message: 'the request did not arrive in time' },
      });
    });

    it('closes a connection whose answer never comes (connection timeout)', async () => {
      const closed = await heldOpen(port, [hanging]);
      expect(closed.ms).toBeGreaterThanOrEqual(950);
      expect(closed.received).toBe('');
    });

    it('closes an idle keep-alive connection after a request (keep-alive timeout)', async () => {
      const closed = await heldOpen(port, ['GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n']);
      expect(closed.received).toMatch(/^HTTP\/1\.1 200/);
      expect(closed.ms).toBeGreaterThanOrEqual(450);
    });
  });
}
