import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface LocalRedisOptions {
  port?: number; // default: a free port from the OS
  appendonly?: boolean;
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Data dir; default: a fresh temp dir (removed when this process exits). */
  dir?: string;
  logger?: { info(obj: object, msg?: string): void };
  password?: string;
  /** More redis-server arguments (e.g. `--cluster-enabled yes` for a test cluster's nodes). */
  args?: readonly string[];
  /**
   * A command that execs redis-server in place (its pid stays the server's), e.g.
   * `['setpriv', '--pdeathsig', 'TERM', '--']` so that the server gets SIGTERM when its owner dies.
   */
  launcher?: readonly string[];
}

export interface LocalRedis {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly dir: string;
  /** pid of the current redis-server process; undefined while it is not running. */
  readonly pid: number | undefined;
  /** SIGTERM and wait for exit (SIGKILL after 10 s). Safe to call twice. */
  stop(): Promise<void>;
  /** Send `signal` (default SIGKILL) and wait for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP / SIGCONT: while paused the server keeps its connections but answers nothing. */
  pause(): void;
  resume(): void;
  /** Start again on the same port and dir (stopping first if running); resolves once it answers PING. */
  restart(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 10_000;
const TAIL_LINES = 40;
const PORT_ATTEMPTS = 5;

// Children and temp dirs owned by this process, torn down synchronously when it exits: a server
// on a temp dir with SIGKILL (the dir goes too), one on a caller's dir with SIGTERM (it flushes its AOF).
const liveChildren = new Map<ChildProcess, NodeJS.Signals>();
const ownedDirs = new Set<string>();
let exitHooksInstalled = false;

function cleanupSync(): void {
  for (const [child, signal] of liveChildren) child.kill(signal); // returns false (no throw) if already gone
  for (const dir of ownedDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      /* best effort */
    }
  }
}

/**
 * 'exit' does not fire when a signal ends the process (vitest stops its workers with SIGTERM),
 * so also clean up on fatal signals, but only if nobody else handles them: then re-raise the
 * signal so the process still dies as it would have. Otherwise their shutdown ends in 'exit'.
 */
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      cleanupSync();
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

export function isRedisServerOnPath(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(false);
    }, 3_000);
    child.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

/** Asks the OS for a free TCP port on 127.0.0.1 and releases it. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function encodeCommand(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * One raw RESP PING (after AUTH if needed). True only on +PONG from *our* process: INFO's process_id
 * must match, so a server that grabbed the port first (e.g. another test's redis) is not mistaken for ours.
 */
function pingOnce(port: number, password: string | undefined, pid: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const commands = [...(password === undefined ? [] : [['AUTH', password]]), ['PING'], ['INFO', 'server']];
    let received = '';
    const socket = net.connect({ host: HOST, port });
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(commands.map(encodeCommand).join('')));
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received.includes('+PONG\r\n') && received.includes(`process_id:${pid}\r\n`)) finish(true);
      else if (/(^|\r\n)-/.test(received)) finish(false); // an error reply, e.g. -LOADING, -NOAUTH
    });
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

/** One spawned redis-server process; `tail` is its last output lines. */
interface Running {
  child: ChildProcess;
  exited: Promise<void>;
  hasExited: () => boolean;
  tail: () => string;
}

function spawnServer(port: number, dir: string, options: LocalRedisOptions): Running {
  const args = [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
  ];
  if (options.appendfsync) args.push('--appendfsync', options.appendfsync);
  if (options.password !== undefined) args.push('--requirepass', options.password);
  if (options.args) args.push(...options.args);
  // Its own process group: a Ctrl-C in the terminal reaches the owner, which stops Redis last,
  // after the workers have published their batches in flight.
  const [command, ...launcherArgs] = [...(options.launcher ?? []), 'redis-server'];
  const child = spawn(command!, [...launcherArgs, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: false,
    detached: true,
  });
  const lines: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer | string): void => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l.trim() !== ''));
    if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
  };
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', collect);
    (stream as net.Socket | null)?.unref?.(); // keep reading, but don't hold the event loop open
  }
  let exited = false;
  liveChildren.set(child, options.dir === undefined ? 'SIGKILL' : 'SIGTERM');
  const exitedPromise = new Promise<void>((resolve) => {
    const done = (): void => {
      exited = true;
      liveChildren.delete(child);
      resolve();
    };
    child.once('exit', done);
    child.on('error', (err) => {
      lines.push(`spawn error: ${err.message}`);
      if (child.pid === undefined) done();
    });
  });
  child.unref();
  return {
    child,
    exited: exitedPromise,
    hasExited: () => exited,
    tail: () => [...lines, partial].filter(Boolean).join('\n'),
  };
}

async function waitReady(run: Running, port: number, password: string | undefined): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (run.hasExited() || run.child.pid === undefined) break;
    if (await pingOnce(port, password, run.child.pid, 500)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  const exited = run.hasExited();
  if (!exited) await signalAndWait(run, 'SIGKILL', EXIT_TIMEOUT_MS);
  const why =
    run.child.pid === undefined
      ? 'could not be spawned (is redis-server on PATH?)'
      : exited
        ? `exited during startup (code ${run.child.exitCode}, signal ${run.child.signalCode})`
        : `did not answer PING within ${READY_TIMEOUT_MS} ms`;
  throw new Error(`redis-server on ${HOST}:${port} ${why}. Last output:\n${run.tail() || '(none)'}`);
}

/** Sends `signal` and waits up to `timeoutMs` for exit; true if it exited. */
async function signalAndWait(run: Running, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
  if (run.hasExited()) return true;
  run.child.ref(); // keep the loop alive while we wait for the exit event
  try {
    run.child.kill(signal);
    if (!['SIGKILL', 'SIGCONT', 'SIGSTOP'].includes(signal)) run.child.kill('SIGCONT'); // a paused server must run to handle it
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((r) => {
      timer = setTimeout(() => r(false), timeoutMs);
    });
    const ok = await Promise.race([run.exited.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return ok;
  } finally {
    run.child.unref();
  }
}

export async function startLocalRedis(options: LocalRedisOptions = {}): Promise<LocalRedis> {
  installExitHooks();
  const dataDir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'sf-redis-')));
  if (options.dir === undefined) ownedDirs.add(dataDir);

  let run: Running | undefined;
  let port = options.port ?? 0;
  for (let attempt = 1; ; attempt++) {
    if (options.port === undefined) port = await findFreePort();
    const candidate = spawnServer(port, dataDir, options);
    try {
      await waitReady(candidate, port, options.password);
      run = candidate;
      break;
    } catch (err) {
      const portTaken = /address already in use/i.test(candidate.tail());
      if (!portTaken || options.port !== undefined || attempt >= PORT_ATTEMPTS) throw err;
    }
  }

  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  const url = `redis://${auth}${HOST}:${port}`;
  const log = (msg: string): void => options.logger?.info({ host: HOST, port, dir: dataDir, pid: run?.child.pid }, msg);
  log('local redis-server started');

  const running = (): Running | undefined => (run && !run.hasExited() ? run : undefined);
  let stopping: Promise<void> | undefined;
  const terminate = async (): Promise<void> => {
    const current = running();
    if (!current) return;
    if (!(await signalAndWait(current, 'SIGTERM', EXIT_TIMEOUT_MS)))
      await signalAndWait(current, 'SIGKILL', EXIT_TIMEOUT_MS);
  };

  return {
    url,
    port,
    host: HOST,
    dir: dataDir,
    get pid() {
      return running()?.child.pid;
    },
    stop() {
      stopping ??= terminate()
        .then(() => log('local redis-server stopped'))
        .finally(() => {
          stopping = undefined;
        });
      return stopping;
    },
    async kill(signal = 'SIGKILL') {
      const current = running();
      if (!current) return;
      if (!(await signalAndWait(current, signal, EXIT_TIMEOUT_MS)))
        throw new Error(`redis-server (pid ${current.child.pid}) did not exit after ${signal}`);
      log(`local redis-server killed with ${signal}`);
    },
    pause: () => void running()?.child.kill('SIGSTOP'),
    resume: () => void running()?.child.kill('SIGCONT'),
    async restart() {
      if (stopping) await stopping;
      await terminate();
      const next = spawnServer(port, dataDir, options);
      run = next;
      await waitReady(next, port, options.password);
      log('local redis-server restarted');
    },
  };
}
