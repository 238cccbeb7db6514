import net from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { isRedisServerOnPath, startLocalRedis, type LocalRedis, type LocalRedisOptions } from '../../src/dev/local-redis.ts';

const haveRedisServer = await isRedisServerOnPath();

describe.skipIf(!haveRedisServer)('startLocalRedis', () => {
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
    const client = new Redis(url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50, lazyConnect: true, ...extra });
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
    await expect(startLocalRedis({ port: squatter.port })).rejects.toThrow(/exited during startup[\s\S]*Address already in use/);
  });
});
