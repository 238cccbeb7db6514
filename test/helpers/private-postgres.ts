import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { findFreePort } from '../../src/dev/local-redis.ts';

/**
 * A throwaway PostgreSQL server for a test run, as test/helpers/redis.ts starts redis-server:
 * `initdb` into a temp dir, `postgres` on a free 127.0.0.1 port with trust auth, stopped (fast
 * shutdown) and deleted by stop() or when this process exits; the kernel stops it if this process
 * dies (setpriv --pdeathsig). The binaries are Debian's (/usr/lib/postgresql/<version>/bin, the
 * newest), else initdb/postgres on PATH. initdb and postgres refuse to run as root: as root they
 * run as the `postgres` user (created by Debian's postgresql package) in a dir it owns.
 * Settings for tests: fsync off (nothing here must survive a machine crash), 200 connections.
 */
export interface PrivatePostgres {
  /** Superuser URL: postgres://postgres@127.0.0.1:<port>/postgres (trust auth, no password). */
  readonly adminUrl: string;
  readonly port: number;
  readonly dataDir: string;
  readonly version: string;
  /** Fast shutdown (SIGINT; SIGKILL after 10 s), then deletes the temp dir. Safe twice. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 60_000; // initdb is done by then; a busy 2-core host can take seconds to start
const EXIT_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 5;
const TAIL_LINES = 30;
const run = promisify(execFile);

/** The directory holding initdb and postgres: Debian's newest, else PATH's; undefined if none. */
export function findPostgresBinDir(): string | undefined {
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const bin = path.join(debian, v, 'bin');
      if (existsSync(path.join(bin, 'initdb')) && existsSync(path.join(bin, 'postgres'))) return bin;
    }
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'postgres'))) return dir;
  }
  return undefined;
}

/** As root: the postgres user's ids, which initdb and postgres run as. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      'running as root, initdb and postgres need the "postgres" user (apt-get install postgresql creates it)',
    );
  }
}

/** The command prefix: drop to the server user, and have the kernel stop the server if we die. */
function launcher(user: { uid: number; gid: number } | undefined, deathSignal: boolean): string[] {
  if (process.platform !== 'linux') return [];
  const ids = user ? [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups'] : [];
  const death = deathSignal ? ['--pdeathsig', 'INT'] : [];
  return ids.length + death.length > 0 ? ['setpriv', ...ids, ...death, '--'] : [];
}

// Servers and dirs of this process, torn down synchronously when it exits.
const live = new Set<ChildProcess>();
const ownedDirs = new Set<string>();
let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGQUIT'); // immediate shutdown
    for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
  });
}

async function answers(adminUrl: string, dataDir: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
    return rows[0]?.data_directory === dataDir; // ours, not a server that took the port first
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface Server {
  child: ChildProcess;
  exited: Promise<void>;
  hasExited(): boolean;
  tail(): string;
}

function spawnServer(command: string[], port: number): Server {
  const [cmd, ...args] = command;
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      lines.push(...chunk.split('\n').filter((l) => l.trim() !== ''));
      if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
    });
  }
  let exited = false;
  live.add(child);
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      live.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      lines.push(`spawn error: ${err.message}`);
      exited = true;
      live.delete(child);
      resolve();
    });
  });
  child.unref();
  return {
    child,
    exited: exitedPromise,
    hasExited: () => exited,
    tail: () => lines.join('\n') || `(no output; port ${port})`,
  };
}

async function stopServer(server: Server): Promise<void> {
  if (server.hasExited()) return;
  server.child.kill('SIGINT'); // fast shutdown: disconnects clients, then exits
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), EXIT_TIMEOUT_MS);
  });
  const ok = await Promise.race([server.exited.then(() => true), timedOut]);
  clearTimeout(timer);
  if (!ok) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
}

/** Starts a server; `binDir` (default findPostgresBinDir()) holds initdb and postgres. */
export async function startPrivatePostgres(options: { binDir?: string } = {}): Promise<PrivatePostgres> {
  const bin = options.binDir ?? findPostgresBinDir();
  if (!bin || !existsSync(path.join(bin, 'initdb')) || !existsSync(path.join(bin, 'postgres'))) {
    throw new Error(
      `no PostgreSQL server binaries (initdb, postgres) ${options.binDir ? `in ${options.binDir}` : 'under /usr/lib/postgresql/*/bin or on PATH'}: apt-get install postgresql`,
    );
  }
  const user = serverUser();
  installExitHooks();
  const root = mkdtempSync(path.join(os.tmpdir(), 'sf-pg-'));
  ownedDirs.add(root);
  const dataDir = path.join(root, 'data');
  try {
    if (user) chownSync(root, user.uid, user.gid);
    const { stdout: version } = await run(path.join(bin, 'postgres'), ['--version']);
    const [initdb, ...initdbArgs] = [
      ...launcher(user, false),
      path.join(bin, 'initdb'),
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ];
    await run(initdb!, initdbArgs, { cwd: root });

    for (let attempt = 1; ; attempt++) {
      const port = await findFreePort();
      const server = spawnServer(
        [
          ...launcher(user, true),
          path.join(bin, 'postgres'),
          '-D',
          dataDir,
          '-p',
          String(port),
          '-k',
          root,
          '-c',
          `listen_addresses=${HOST}`,
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
          '-c',
          'max_connections=200',
          '-c',
          'log_min_messages=warning',
        ],
        port,
      );
      const adminUrl = `postgres://postgres@${HOST}:${port}/postgres`;
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (!server.hasExited() && Date.now() < deadline && !(await answers(adminUrl, dataDir))) {
        await new Promise((r) => setTimeout(r, 100));
      }
      if (!server.hasExited() && Date.now() < deadline) {
        let stopping: Promise<void> | undefined;
        return {
          adminUrl,
          port,
          dataDir,
          version: version.trim(),
          stop: () =>
            (stopping ??= (async () => {
              await stopServer(server);
              rmSync(root, { recursive: true, force: true });
              ownedDirs.delete(root);
            })()),
        };
      }
      await stopServer(server);
      const portTaken = /could not bind|address already in use/i.test(server.tail());
      if (!portTaken || attempt >= PORT_ATTEMPTS) {
        throw new Error(
          `postgres on ${HOST}:${port} ${server.hasExited() ? 'exited during start-up' : `did not answer within ${READY_TIMEOUT_MS} ms`}. Last output:\n${server.tail()}`,
        );
      }
    }
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    ownedDirs.delete(root);
    throw err;
  }
}
