import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { PROJECT_ROOT } from './fleet.ts';

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves when the worker has warmed up and taken the queue (its IPC 'ready'). */
  ready: Promise<void>;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What it wrote to stderr and stdout, for failure messages. */
  output(): string;
}

/**
 * Runs a real entrypoint (default: workers/inference-worker.ts) as a child process: a .ts one
 * under the tsx loader, a compiled .js one (dist/, npm run build) as the image runs it.
 */
export function spawnWorkerProcess(env: Record<string, string>, entry = 'workers/inference-worker.ts'): WorkerProcess {
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, path.join(PROJECT_ROOT, entry)], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type?: string }) => m.type === 'ready' && resolve());
    void exited.then(({ code, signal }) =>
      reject(new Error(`worker exited (code ${code}, signal ${signal}) before ready:\n${output}`)),
    );
  });
  return { child, ready, exited, output: () => output };
}
