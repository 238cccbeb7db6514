import { afterAll, beforeAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { findFreePort, startLocalRedis } from '../../src/dev/local-redis.ts';

/** A Redis for integration tests: a redis:7 container when Docker is reachable, else a local redis-server. */
export interface TestRedis {
  readonly url: string;
  readonly kind: 'container' | 'local';
  /** Stops and cleans up. Safe to call twice. */
  stop(): Promise<void>;
  /** Sends `signal` (default SIGKILL) to the server and waits for it to exit. */
  kill?(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port; resolves once it accepts connections. */
  restart?(): Promise<void>;
  /** Freezes the server: connections stay open but nothing is answered. */
  pause?(): Promise<void>;
  resume?(): Promise<void>;
}

const PING_TIMEOUT_MS = 1_000;
const RUNTIME_CLIENT_TIMEOUT_MS = 5_000;

/** Unique per process and call, for queue names and key prefixes. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

type Endpoint = { socketPath: string } | { host: string; port: number };

function dockerEndpoints(): Endpoint[] {
  const dockerHost = process.env.DOCKER_HOST;
  if (dockerHost) {
    if (dockerHost.startsWith('unix://')) return [{ socketPath: dockerHost.slice('unix://'.length) }];
    const tcp = /^tcp:\/\/([^:/]+):(\d+)/.exec(dockerHost);
    return tcp?.[1] && tcp[2] ? [{ host: tcp[1], port: Number(tcp[2]) }] : [];
  }
  const home = os.homedir();
  const candidates = [
    '/var/run/docker.sock',
    process.env.XDG_RUNTIME_DIR ? path.join(process.env.XDG_RUNTIME_DIR, 'docker.sock') : '',
    path.join(home, '.docker', 'run', 'docker.sock'),
    path.join(home, '.docker', 'desktop', 'docker.sock'),
  ];
  return candidates.filter((p) => p !== '' && existsSync(p)).map((socketPath) => ({ socketPath }));
}

function answersPing(endpoint: Endpoint): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ ...endpoint, path: '/_ping', timeout: PING_TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.once('error', () => resolve(false));
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function probeDocker(): Promise<boolean> {
  const endpoints = dockerEndpoints();
  // TLS endpoints can't be pinged over plain HTTP: let testcontainers decide for them.
  const pinged = (await Promise.all(endpoints.map(answersPing))).some(Boolean);
  if (!pinged && !process.env.DOCKER_TLS_VERIFY) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await withTimeout(getContainerRuntimeClient(), RUNTIME_CLIENT_TIMEOUT_MS);
    return true;
  } catch {
    return false;
  }
}

let dockerAvailable: Promise<boolean> | undefined;

/** Whether a Docker engine answers; probed once per process. */
export function isDockerAvailable(): Promise<boolean> {
  dockerAvailable ??= probeDocker();
  return dockerAvailable;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => (result ??= fn());
}

async function startContainerRedis(): Promise<TestRedis> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  // A fixed host port keeps the URL valid across restart().
  const hostPort = await findFreePort();
  const started = await new GenericContainer('redis:7')
    .withCommand(['redis-server', '--maxmemory-policy', 'noeviction', '--save', ''])
    .withExposedPorts({ container: 6379, host: hostPort })
    .withWaitStrategy(Wait.forAll([Wait.forListeningPorts(), Wait.forLogMessage(/Ready to accept connections/)]))
    .start();
  const docker = async () => (await getContainerRuntimeClient()).container.getById(started.getId());
  return {
    url: `redis://${started.getHost()}:${started.getMappedPort(6379)}`,
    kind: 'container',
    stop: once(async () => {
      await started.stop();
    }),
    async kill(signal = 'SIGKILL') {
      const container = await docker();
      await container.kill({ signal });
      await container.wait();
    },
    restart: () => started.restart(),
    pause: async () => {
      await (await docker()).pause();
    },
    resume: async () => {
      await (await docker()).unpause();
    },
  };
}

async function startLocalTestRedis(): Promise<TestRedis> {
  const local = await startLocalRedis();
  return {
    url: local.url,
    kind: 'local',
    stop: () => local.stop(),
    kill: (signal) => local.kill(signal),
    restart: () => local.restart(),
    pause: async () => local.pause(),
    resume: async () => local.resume(),
  };
}

export async function startTestRedis(): Promise<TestRedis> {
  return (await isDockerAvailable()) ? startContainerRedis() : startLocalTestRedis();
}

/**
 * For a test file's top level: starts a test Redis before its tests and stops it after them
 * (then runs `after`, e.g. dropping a database). Read `.current` inside tests and hooks.
 */
export function useTestRedis(after?: () => Promise<void> | void): { readonly current: TestRedis } {
  let redis: TestRedis | undefined;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.stop();
    await after?.();
  });
  return {
    get current(): TestRedis {
      if (!redis) throw new Error('useTestRedis: Redis is not started yet (read .current inside a test)');
      return redis;
    },
  };
}
