/**
 * The ingest service under test, in its own process (fuzz and bench/hostile-bodies.ts): the real
 * createIngestServer with the configuration from the environment, plus an event-loop delay
 * histogram read over IPC, so the cost of one body is measured where it is paid.
 * SF_SRC_ROOT runs another checkout's src/ (a "before" run of the benchmark).
 * IPC in: {type: 'take', id} → {type: 'delay', id, maxMs, busyMs, rssMb} (and both restart):
 * maxMs is monitorEventLoopDelay's largest delay, busyMs the largest stretch the event loop was
 * busy (CPU-backed: not counting time the process waited for a core);
 * {type: 'close'}. IPC out at start: {type: 'ready', url, limits}.
 */
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const root = process.env.SF_SRC_ROOT ?? path.resolve(import.meta.dirname, '..');
const load = (file: string) => import(pathToFileURL(path.join(root, file)).href);

const { loadConfig } = await load('src/config/load-config.ts');
const { createLogger } = await load('src/logging/logger.ts');
const { createIngestServer } = await load('src/app/ingest-server.ts');

const config = loadConfig(process.env);
const logger = createLogger({ level: config.log.level, format: 'json', name: 'fuzz-ingest' });
const server = await createIngestServer(config, logger);
const histogram = monitorEventLoopDelay({ resolution: 5 });
histogram.enable();

// The raw delay also counts time this process was not scheduled (other processes on a shared
// host). A tick every TICK_MS also measures the CPU time the process used since the previous
// tick: min(wall gap, CPU time) − TICK_MS is time the event loop was busy, not waiting for a core.
const TICK_MS = 2;
let busyMax = 0;
let lastWall = performance.now();
let lastCpu = process.cpuUsage();
setInterval(() => {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const cpuMs = (cpu.user - lastCpu.user + (cpu.system - lastCpu.system)) / 1000;
  busyMax = Math.max(busyMax, Math.min(wall - lastWall, cpuMs) - TICK_MS);
  lastWall = wall;
  lastCpu = cpu;
}, TICK_MS).unref();

const send = (message: unknown) => process.send?.(message);
send({
  type: 'ready',
  url: server.url,
  limits: {
    bodyLimitBytes: config.http.bodyLimitBytes,
    maxReviewsPerRequest: config.http.maxReviewsPerRequest,
    maxTextChars: config.reviews.maxTextChars,
  },
});

let closing = false;
async function close() {
  if (closing) return;
  closing = true;
  await server.close();
  process.exit(0);
}
process.on('message', (message: { type: string; id?: number }) => {
  if (message.type === 'take') {
    send({
      type: 'delay',
      id: message.id,
      maxMs: histogram.max / 1e6,
      busyMs: Math.max(0, busyMax),
      rssMb: process.memoryUsage().rss / 1e6,
    });
    histogram.reset();
    busyMax = 0;
  } else if (message.type === 'close') void close();
});
process.on('disconnect', () => void close());
