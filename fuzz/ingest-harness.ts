import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { startLocalRedis } from '../src/dev/local-redis.ts';
import type { ShapeLimits } from './hostile-shapes.ts';

/** A running ingest service in a child process, with its own redis-server unless given one. */
export interface IngestHarness {
  url: string;
  redisUrl: string;
  limits: ShapeLimits;
  /**
   * Since the last call: the child's largest event-loop delay (ms), the largest stretch its event
   * loop was busy (CPU-backed, ms: see ingest-child.ts), and its RSS (MB).
   */
  takeDelay(): Promise<Delay>;
  close(): Promise<void>;
}

export interface Delay {
  maxMs: number;
  busyMs: number;
  rssMb: number;
}

export interface HarnessOptions {
  /** Environment of the service (settings); REDIS_URL, HTTP_PORT and LOG_LEVEL are set here. */
  env?: Record<string, string>;
  redisUrl?: string;
  /** Another checkout whose src/ the child runs (bench "before" runs). */
  srcRoot?: string;
}

export async function startIngestHarness(options: HarnessOptions = {}): Promise<IngestHarness> {
  const redis = options.redisUrl ? undefined : await startLocalRedis();
  const redisUrl = options.redisUrl ?? redis!.url;
  const child: ChildProcess = fork(path.join(import.meta.dirname, 'ingest-child.ts'), [], {
    execArgv: ['--import', 'tsx', ...(process.env.SF_CHILD_NODE_ARGS ? process.env.SF_CHILD_NODE_ARGS.split(' ') : [])],
    env: {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'silent',
      QUEUE_PREFIX: 'sfz',
      BACKLOG_HIGH_WATER: '1000000000',
      ...options.env,
      REDIS_URL: redisUrl,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      ...(options.srcRoot ? { SF_SRC_ROOT: options.srcRoot } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ url: string; limits: ShapeLimits }>((resolve, reject) => {
    child.once('message', (m: { type: string; url: string; limits: ShapeLimits }) =>
      m.type === 'ready' ? resolve(m) : reject(new Error(`unexpected ${m.type}`)),
    );
    void exited.then((code) => reject(new Error(`the ingest child exited with ${code} before it was ready`)));
  });
  let next = 0;
  return {
    url: ready.url,
    redisUrl,
    limits: ready.limits,
    takeDelay() {
      const id = ++next;
      return new Promise((resolve) => {
        const onMessage = (m: Delay & { type: string; id: number }) => {
          if (m.type !== 'delay' || m.id !== id) return;
          child.off('message', onMessage);
          resolve({ maxMs: m.maxMs, busyMs: m.busyMs, rssMb: m.rssMb });
        };
        child.on('message', onMessage);
        child.send({ type: 'take', id });
      });
    },
    async close() {
      if (child.exitCode === null && child.connected) child.send({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      await redis?.stop();
    },
  };
}

export interface Answer {
  /** HTTP status, or 0 when the connection ended without one. */
  status: number;
  body: string;
  ms: number;
  /** The connection failed (reset) or the answer took longer than the timeout (hang). */
  failure?: 'reset' | 'hang';
  error?: string;
}

/** Most of an answer's body kept (a 400 lists at most 100 problems: well under this). */
const KEPT_BYTES = 1024 * 1024;

/** POST `body` on a fresh connection; the answer's first MiB is kept. */
export function post(url: string, body: Buffer, contentType: string | null, timeoutMs: number): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: Omit<Answer, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...answer, ms: performance.now() - started });
    };
    const headers: Record<string, string | number> = { 'content-length': body.length };
    if (contentType !== null) headers['content-type'] = contentType;
    const request = http.request(`${url}/v1/reviews`, { method: 'POST', headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size < KEPT_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      response.on('end', () =>
        finish({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', () =>
        finish({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    const timer = setTimeout(() => {
      finish({ status: 0, body: '', failure: 'hang' });
      request.destroy();
    }, timeoutMs);
    request.on('error', (err) =>
      finish({ status: 0, body: '', failure: 'reset', error: (err as NodeJS.ErrnoException).code ?? err.message }),
    );
    request.end(body);
  });
}
