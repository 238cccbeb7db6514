import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  isRedisServerOnPath,
  startLocalRedis,
  type LocalRedis,
  type LocalRedisOptions,
} from '../../src/dev/local-redis.ts';
import { readDirState, startPersistentRedis } from '../../src/dev/persistent-redis.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { missingBackend } from '../helpers/backends.ts';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');
const silentLogger = createLogger({ level: 'silent', format: 'json' });

const noRedisServer = missingBackend(
  (await isRedisServerOnPath()) ? undefined : 'redis-server is not on PATH (apt-get install redis-server)',
);

describe.skipIf(noRedisServer)('startLocalRedis', () => {
  const servers: LocalRedis[] = [];
  const clients: Redis[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  async function start(options?: LocalRedisOptions): Promise<LocalRedis> {
    const server = await startLocalRedis(options);
    servers.push(server);
    return server;
  }

  /** Fails fast while disconnected (no offline queue, no retries) and reconnects every 50 ms. */
  function connect(url: string, extra: RedisOptions = {}): Redis {
    const client = new Redis(url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => 50,
      lazyConnect: true,
      ...extra,
    });
    client.on('error', () => {}); // connection errors are expected while the server is down
    clients.push(client);
    return client;
  }

  async function connected(url: string): Promise<Redis> {
    const client = connect(url);
    await client.connect();
    return client;
  }

  const nextReady = (client: Redis): Promise<void> => new Promise((resolve) => client.once('ready', () => resolve()));

  it('answers PING and SET/GET on 127.0.0.1', async () => {
    const server = await start();
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.pid).toBeTypeOf('number');
    const client = await connected(server.url);
    expect(await client.ping()).toBe('PONG');
    expect(await client.set('k', 'v')).toBe('OK');
    expect(await client.get('k')).toBe('v');
    expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await client.config('GET', 'save')).toEqual(['save', '']);
  });

  it('requires the password when one is set', async () => {
    const server = await start({ password: 'p@ss word' });
    const client = await connected(server.url);
    expect(await client.ping()).toBe('PONG');
    const anonymous = connect(`redis://127.0.0.1:${server.port}`, { retryStrategy: () => null });
    await expect(anonymous.connect()).rejects.toThrow();
  });

  it('fails commands after kill(SIGKILL), and a client reconnects after restart() on the same port', async () => {
    const server = await start();
    const client = await connected(server.url);
    expect(await client.ping()).toBe('PONG');
    const { port, dir } = server;

    await server.kill('SIGKILL');
    expect(server.pid).toBeUndefined();
    await expect(client.ping()).rejects.toThrow();

    const ready = nextReady(client);
    await server.restart();
    expect(server.port).toBe(port);
    expect(server.dir).toBe(dir);
    expect(server.pid).toBeTypeOf('number');
    await ready;
    expect(await client.ping()).toBe('PONG');
  });

  it('stop() is safe to call twice, also concurrently', async () => {
    const server = await start();
    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    expect(server.pid).toBeUndefined();
    const client = connect(server.url, { retryStrategy: () => null });
    await expect(client.connect()).rejects.toThrow();
  });

  it('keeps a key written with appendfsync always across SIGKILL + restart()', async () => {
    const server = await start({ appendonly: true, appendfsync: 'always' });
    const writer = await connected(server.url);
    await writer.set('durable', 'yes');
    await server.kill('SIGKILL');
    await server.restart();
    const reader = await connected(server.url);
    expect(await reader.get('durable')).toBe('yes');
  });

  it('does not answer while paused, and answers after resume()', async () => {
    const server = await start();
    const client = await connected(server.url);
    expect(await client.ping()).toBe('PONG');

    server.pause();
    const reply = client.ping();
    const pending = Symbol('pending');
    const early = await Promise.race([reply, new Promise((r) => setTimeout(() => r(pending), 300))]);
    expect(early).toBe(pending);

    server.resume();
    expect(await reply).toBe('PONG');
  });

  it('stop() terminates a paused server', async () => {
    const server = await start();
    server.pause();
    await server.stop();
    expect(server.pid).toBeUndefined();
  });

  it('rejects with redis-server output when the port is taken', async () => {
    const blocker = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      await expect(startLocalRedis({ port })).rejects.toThrow(/Last output:[\s\S]*Address already in use/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('does not mistake another redis-server holding the port for its own', async () => {
    const squatter = await start();
    await expect(startLocalRedis({ port: squatter.port })).rejects.toThrow(
      /exited during startup[\s\S]*Address already in use/,
    );
  });
});

// npm start's own Redis (issue 16, finding 6): it used to run with `--appendonly no` in a temp dir,
// detached, so a restart lost every queued review and a killed stack left the server orphaned.
describe.skipIf(noRedisServer)('startPersistentRedis (npm start without REDIS_URL)', () => {
  const dirs: string[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function dataDir(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sf-local-redis-'));
    dirs.push(dir);
    return path.join(dir, 'redis'); // created by startPersistentRedis
  }

  const isAlive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  async function startHere(dir: string): Promise<LocalRedis> {
    const { redis } = await startPersistentRedis({ dir, logger: silentLogger });
    cleanups.push(() => redis.stop());
    return redis;
  }

  /** `npm start` as a child process that owns the server; SIGKILL it to kill the stack. */
  async function startOwner(
    dir: string,
    mode?: 'no-launcher',
  ): Promise<{ owner: ChildProcess; port: number; pid: number }> {
    const owner = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(PROJECT_ROOT, 'test/helpers/persistent-redis-owner.ts'),
        dir,
        ...(mode ? [mode] : []),
      ],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    cleanups.push(() => void owner.kill('SIGKILL'));
    const [reply] = (await once(owner, 'message')) as [{ port: number; pid: number }];
    cleanups.push(() => void (isAlive(reply.pid) && process.kill(reply.pid, 'SIGKILL')));
    return { owner, ...reply };
  }

  async function queueAt(port: number): Promise<Queue> {
    const queue = new Queue('reviews', {
      connection: { host: '127.0.0.1', port, maxRetriesPerRequest: 1 },
      prefix: 'sf',
    });
    cleanups.push(() => queue.close());
    await queue.waitUntilReady();
    return queue;
  }

  it("runs with AOF everysec in the data dir, not in the stack's process group, and remembers its port", async () => {
    const dir = dataDir();
    const redis = await startHere(dir);
    const client = new Redis(redis.url, { lazyConnect: true });
    cleanups.push(() => client.disconnect());
    await client.connect();
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
    expect(await client.config('GET', 'dir')).toEqual(['dir', realpathSync(dir)]);
    expect(readDirState(realpathSync(dir))).toEqual({ port: redis.port, pid: redis.pid, ownerPid: process.pid });
  });

  it('keeps a queued job when the stack is SIGKILLed, leaves no orphan, and the restart finds it on the same port', async () => {
    const dir = dataDir();
    const first = await startOwner(dir);
    const queue = await queueAt(first.port);
    await queue.add('review', { id: 'r1', text: 'kept across restarts' }, { jobId: 'r1' });
    await queue.close();

    first.owner.kill('SIGKILL');
    await once(first.owner, 'exit');
    // The kernel sends redis-server SIGTERM when its owner dies (setpriv --pdeathsig): it exits.
    await vi.waitFor(() => expect(isAlive(first.pid), `redis-server ${first.pid} outlived its owner`).toBe(false), {
      timeout: 10_000,
      interval: 50,
    });

    const again = await startHere(dir);
    expect(again.port).toBe(first.port);
    const reopened = await queueAt(again.port);
    expect(await reopened.getJobCounts('wait')).toEqual({ wait: 1 });
    expect((await reopened.getJob('r1'))?.data).toEqual({ id: 'r1', text: 'kept across restarts' });
  });

  it('without a parent-death signal, stops the orphan of an earlier run at the next start, keeping its jobs', async () => {
    const dir = dataDir();
    const first = await startOwner(dir, 'no-launcher');
    const queue = await queueAt(first.port);
    await queue.add('review', { id: 'r2' }, { jobId: 'r2' });
    await queue.close();
    first.owner.kill('SIGKILL');
    await once(first.owner, 'exit');
    expect(isAlive(first.pid)).toBe(true); // the orphan: what every npm start left behind before

    const again = await startHere(dir);
    expect(isAlive(first.pid)).toBe(false); // stopped with SHUTDOWN, replaced by a server we own
    expect(again.port).toBe(first.port);
    expect(again.pid).not.toBe(first.pid);
    const reopened = await queueAt(again.port);
    expect((await reopened.getJob('r2'))?.data).toEqual({ id: 'r2' });
  });

  it('refuses a data dir whose server and owner are both alive (a second npm start)', async () => {
    const dir = dataDir();
    const first = await startOwner(dir);
    await expect(startPersistentRedis({ dir, logger: silentLogger })).rejects.toThrow(/in use by process/);
    expect(isAlive(first.pid)).toBe(true);
  });

  it('moves to another port when the remembered one is taken by something else, with the same data', async () => {
    const dir = dataDir();
    const redis = await startHere(dir);
    const queue = await queueAt(redis.port);
    await queue.add('review', { id: 'r3' }, { jobId: 'r3' });
    await queue.close();
    await redis.stop();

    const blocker = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(redis.port, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const moved = await startHere(dir);
    expect(moved.port).not.toBe(redis.port);
    expect(readDirState(realpathSync(dir))?.port).toBe(moved.port);
    const reopened = await queueAt(moved.port);
    expect((await reopened.getJob('r3'))?.data).toEqual({ id: 'r3' });
  });
});
