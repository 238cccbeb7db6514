import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves on the child's IPC 'ready' (workers: warmed up and consuming). */
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines it wrote, for error messages. */
  tail(): string;
}

export interface SpawnServiceOptions {
  name: string;
  /** Entrypoint relative to the project root, e.g. workers/inference-worker.ts. */
  entry: string;
  projectRoot: string;
  env: Record<string, string>;
  logDir: string;
  /** Each JSON log line the child writes (pino), parsed; other lines are ignored. */
  onLog?: (line: Record<string, unknown>, service: ServiceProcess) => void;
  readyTimeoutMs?: number;
}

const TAIL_LINES = 30;

/**
 * Runs an entrypoint of the fleet as a child process (`node --import tsx`), with an IPC channel
 * for its 'ready' message, its output appended to `<logDir>/<name>.log`, and its JSON log lines
 * handed to `onLog`.
 */
export function spawnService(options: SpawnServiceOptions): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(options.projectRoot, options.entry)], {
    cwd: options.projectRoot,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const file: WriteStream = createWriteStream(path.join(options.logDir, `${options.name}.log`), { flags: 'a' });
  const lines: string[] = [];
  let partial = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      file.end();
      resolve({ code, signal });
    });
  });
  const service: ServiceProcess = {
    name: options.name,
    child,
    pid: child.pid ?? -1,
    exited,
    ready: new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`${options.name} not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${service.tail()}`),
          ),
        options.readyTimeoutMs ?? 60_000,
      );
      child.on('message', (m: { type?: string }) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(
          new Error(`${options.name} exited (code ${code}, signal ${signal}) before it was ready:\n${service.tail()}`),
        );
      });
    }),
    tail: () => [...lines, partial].filter(Boolean).join('\n'),
  };
  service.ready.catch(() => undefined); // callers that care await it; a late rejection must not crash the run
  const onChunk = (chunk: Buffer): void => {
    file.write(chunk);
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (!line.trim()) continue;
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      if (options.onLog && line.startsWith('{')) {
        try {
          options.onLog(JSON.parse(line) as Record<string, unknown>, service);
        } catch {
          // not a JSON log line
        }
      }
    }
  };
  child.stdout!.on('data', onChunk);
  child.stderr!.on('data', onChunk);
  return service;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopService(service: ServiceProcess, graceMs = 10_000): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), graceMs);
  await service.exited;
  clearTimeout(timer);
}
