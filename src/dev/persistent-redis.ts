import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { SfError } from '../errors/sf-error.ts';
import type { Logger } from '../logging/logger.ts';
import { startLocalRedis, type LocalRedis } from './local-redis.ts';

/** Kept in the data dir: where the server listened, and which process owned it. */
export const STATE_FILE = 'local-redis.json';

export interface RedisDirState {
  port: number;
  /** The redis-server's pid, and the pid of the process that started it (npm start). */
  pid: number;
  ownerPid: number;
}

export interface PersistentRedisOptions {
  /** Data dir (LOCAL_REDIS_DIR): the AOF and STATE_FILE live here. Created when missing. */
  dir: string;
  logger: Pick<Logger, 'info' | 'warn'>;
  /**
   * The command that execs redis-server with a parent-death signal. Default: util-linux
   * `setpriv --pdeathsig TERM` when it works here (Linux), else none (see docs/operating.md).
   */
  launcher?: readonly string[];
}

export interface PersistentRedis {
  redis: LocalRedis;
  /** True when redis-server gets SIGTERM from the kernel if this process dies, however it dies. */
  tiedToOwner: boolean;
}

const HOST = '127.0.0.1';
const STALE_EXIT_TIMEOUT_MS = 10_000;
const SETPRIV = ['setpriv', '--pdeathsig', 'TERM', '--'] as const;

let setprivWorks: Promise<boolean> | undefined;

/** `setpriv --pdeathsig TERM -- true` exits 0: the kernel will signal our redis-server when we die. */
export function parentDeathLauncher(): Promise<readonly string[]> {
  setprivWorks ??=
    process.platform !== 'linux'
      ? Promise.resolve(false)
      : new Promise((resolve) => {
          const child = spawn(SETPRIV[0], [...SETPRIV.slice(1), 'true'], { stdio: 'ignore' });
          child.once('error', () => resolve(false));
          child.once('exit', (code) => resolve(code === 0));
        });
  return setprivWorks.then((ok) => (ok ? SETPRIV : []));
}

export function readDirState(dir: string): RedisDirState | undefined {
  try {
    const s = JSON.parse(readFileSync(path.join(dir, STATE_FILE), 'utf8')) as Partial<RedisDirState>;
    return Number.isInteger(s.port) && Number.isInteger(s.pid) && Number.isInteger(s.ownerPid)
      ? (s as RedisDirState)
      : undefined;
  } catch {
    return undefined; // absent or unreadable: start as on a fresh dir (the AOF is still loaded)
  }
}

function writeDirState(dir: string, state: RedisDirState): void {
  const tmp = path.join(dir, `${STATE_FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(state)}\n`);
  renameSync(tmp, path.join(dir, STATE_FILE));
}

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** The pid of a redis-server on `port` whose data dir is `dir`; undefined for anything else there. */
async function serverOnDir(port: number, dir: string): Promise<number | undefined> {
  const client = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const [, serverDir] = (await client.config('GET', 'dir')) as [string, string];
    if (realpathSync(serverDir) !== dir) return undefined;
    const pid = /process_id:(\d+)/.exec(await client.info('server'))?.[1];
    return pid === undefined ? undefined : Number(pid);
  } catch {
    return undefined; // not Redis, another password, or no answer
  } finally {
    client.disconnect();
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return !isAlive(pid);
}

/** SHUTDOWN (the AOF is flushed, nothing lost) and wait for the process to be gone. */
async function shutdownServer(port: number, pid: number): Promise<void> {
  const client = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.call('SHUTDOWN').catch(() => undefined); // the connection closes instead of a reply
  } finally {
    client.disconnect();
  }
  if (!(await waitGone(pid, STALE_EXIT_TIMEOUT_MS)))
    throw new SfError(
      'SF_ERR_REDIS',
      `the earlier redis-server (pid ${pid}) on port ${port} did not stop after SHUTDOWN; stop it and start again`,
    );
}

/**
 * The remembered port, made free if a server of an earlier run still holds it with this data dir;
 * undefined when something else holds it (then any free port will do: the data dir is the same).
 */
async function reclaimPort(
  state: RedisDirState,
  dir: string,
  logger: Pick<Logger, 'info' | 'warn'>,
): Promise<number | undefined> {
  if (await portIsFree(state.port)) return state.port;
  const stalePid = await serverOnDir(state.port, dir);
  if (stalePid !== undefined) {
    if (stalePid === state.pid && isAlive(state.ownerPid)) {
      throw new SfError(
        'SF_ERR_REDIS',
        `the local Redis data dir ${dir} is in use by process ${state.ownerPid} (another npm start?); stop it, or set LOCAL_REDIS_DIR to another dir`,
      );
    }
    logger.warn(
      { port: state.port, pid: stalePid, dir },
      'a redis-server of an earlier run still holds the data dir: stopping it (SHUTDOWN keeps its AOF) and starting one owned by this process',
    );
    await shutdownServer(state.port, stalePid);
    return state.port;
  }
  if (isAlive(state.pid) && !isAlive(state.ownerPid)) {
    // Its owner just died and the kernel sent it SIGTERM: it no longer answers; let it flush and exit.
    await waitGone(state.pid, STALE_EXIT_TIMEOUT_MS);
    if (await portIsFree(state.port)) return state.port;
  }
  logger.info(
    { port: state.port, dir },
    'the last port of the local Redis is taken by another process: using another port, same data dir',
  );
  return undefined;
}

/**
 * `npm start`'s own Redis: AOF with `appendfsync everysec` in `dir`, so queued reviews survive a
 * restart (a machine crash can lose about the last second). It listens on the port the last run
 * used when that is free, else on another one; the data dir is the same either way. On Linux it
 * gets SIGTERM when this process dies, however it dies (it flushes its AOF and exits), so nothing
 * is orphaned. A server still running on the remembered port with this data dir whose owner is
 * gone (a platform without setpriv, an older version) is stopped with SHUTDOWN and replaced; one
 * whose owner is alive means another `npm start` uses the dir: refused.
 */
export async function startPersistentRedis(options: PersistentRedisOptions): Promise<PersistentRedis> {
  const { logger } = options;
  mkdirSync(options.dir, { recursive: true });
  const dir = realpathSync(options.dir);
  const state = readDirState(dir);
  const port = state ? await reclaimPort(state, dir, logger) : undefined;
  const launcher = options.launcher ?? (await parentDeathLauncher());
  const base = { dir, appendonly: true, appendfsync: 'everysec', launcher, logger } as const;
  let redis: LocalRedis;
  try {
    redis = await startLocalRedis(port === undefined ? base : { ...base, port });
  } catch (err) {
    if (port === undefined || !/address already in use/i.test((err as Error).message)) throw err;
    redis = await startLocalRedis(base); // taken between the check and the start
  }
  writeDirState(dir, { port: redis.port, pid: redis.pid!, ownerPid: process.pid });
  return { redis, tiedToOwner: launcher.length > 0 };
}
