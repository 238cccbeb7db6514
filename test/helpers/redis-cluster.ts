import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { findFreePort, startLocalRedis, type LocalRedis } from '../../src/dev/local-redis.ts';

const run = promisify(execFile);

/** A Redis Cluster of local redis-server processes (masters only), for integration tests. */
export interface TestRedisCluster {
  /** REDIS_URL of the fleet in cluster mode: every node, comma-separated (password included). */
  readonly url: string;
  /** One `redis://[:password@]host:port` per node, for standalone clients of one node. */
  readonly nodeUrls: readonly string[];
  readonly nodes: readonly LocalRedis[];
  /** Stops every node and removes their data dirs. Safe to call twice. */
  close(): Promise<void>;
}

export interface TestRedisClusterOptions {
  /** Masters; default 3 (the fewest `redis-cli --cluster create` accepts). */
  masters?: number;
  /** requirepass and masterauth of every node. */
  password?: string;
  /** How long to wait for cluster_state:ok on every node; default 20 s. */
  readyTimeoutMs?: number;
}

const CREATE_TIMEOUT_MS = 30_000;

/** CLUSTER INFO of one node, as a map. */
async function clusterInfo(port: number, password: string | undefined): Promise<Map<string, string>> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const text = (await client.cluster('INFO')) as string;
    return new Map(
      text
        .split(/\r?\n/)
        .filter((l) => l.includes(':'))
        .map((l) => l.split(':', 2) as [string, string]),
    );
  } finally {
    client.disconnect();
  }
}

/**
 * Starts `masters` redis-server processes with cluster mode on (each in its own temp dir, on a
 * free port and a free cluster bus port, no persistence), joins them with
 * `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`, and resolves once every node
 * reports cluster_state:ok with all 16384 slots assigned.
 */
export async function startTestRedisCluster(options: TestRedisClusterOptions = {}): Promise<TestRedisCluster> {
  const masters = options.masters ?? 3;
  const { password } = options;
  const nodes: LocalRedis[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= Promise.all(nodes.map((n) => n.stop())).then(() => undefined);
    return closing;
  };
  try {
    for (let i = 0; i < masters; i++) {
      // The bus port defaults to port + 10000, which may be taken (or past 65535): pick it too.
      const busPort = await findFreePort();
      const args = [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-port',
        String(busPort),
        '--cluster-node-timeout',
        '5000',
      ];
      if (password !== undefined) args.push('--masterauth', password);
      nodes.push(await startLocalRedis({ args, ...(password !== undefined ? { password } : {}) }));
    }
    const addresses = nodes.map((n) => `${n.host}:${n.port}`);
    const auth = password !== undefined ? ['-a', password, '--no-auth-warning'] : [];
    try {
      await run(
        'redis-cli',
        [...auth, '--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
        { timeout: CREATE_TIMEOUT_MS },
      );
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`redis-cli --cluster create failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, {
        cause: err,
      });
    }
    const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
    for (;;) {
      const infos = await Promise.all(
        nodes.map((n) => clusterInfo(n.port, password).catch(() => new Map<string, string>())),
      );
      if (
        infos.every(
          (info) =>
            info.get('cluster_state') === 'ok' &&
            info.get('cluster_slots_assigned') === '16384' &&
            info.get('cluster_known_nodes') === String(masters),
        )
      )
        break;
      if (Date.now() > deadline)
        throw new Error(
          `the test cluster did not reach cluster_state:ok: ${JSON.stringify(infos.map((i) => Object.fromEntries(i)))}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await close();
    throw err;
  }
  const authPart = password !== undefined ? `:${encodeURIComponent(password)}@` : '';
  const nodeUrls = nodes.map((n) => `redis://${authPart}${n.host}:${n.port}`);
  return {
    url: nodeUrls.join(','),
    nodeUrls,
    nodes,
    close,
  };
}
