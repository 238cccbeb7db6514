import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { hostileShapes } from '../fuzz/hostile-shapes.ts';
import { post, startIngestHarness } from '../fuzz/ingest-harness.ts';

/**
 * `npm run bench:hostile`: each hostile body shape of issue 16, built to just under the ingest
 * service's body limit, POSTed to a live service (child process, own redis-server, real socket);
 * reports per shape the longest stretch the service's event loop was busy while it handled the
 * body (the block it imposed on every other request: target ≤ 50 ms; CPU-backed, so that time
 * the process waited for a core on a shared host is not counted: fuzz/ingest-child.ts), the raw
 * monitorEventLoopDelay maximum beside it, the answer and the time to it. Each body is sent
 * --repeat times and the repeat with the smallest block is kept (a real block shows in every
 * repeat; another process's load does not), with the largest beside it.
 * `--src-root DIR` runs another checkout's src/ (the "before" column). Results go to
 * bench/results/hostile-<date>.json.
 */
const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

const program = new Command('bench:hostile')
  .description('Event-loop cost of hostile request bodies (just under the body limit) on a live ingest service.')
  .option('--repeat <n>', 'times each body is sent (the largest delay is reported)', positive, 3)
  .option('--only <names>', 'comma-separated shape names')
  .option('--src-root <dir>', "another checkout whose src/ the service runs (a 'before' run)")
  .option('--label <text>', 'name of this run in the results file', 'after')
  .option('--timeout-ms <ms>', 'give up on an answer after this long', positive, 120_000)
  .showHelpAfterError();
program.parse();
const options = program.opts<{ repeat: number; only?: string; srcRoot?: string; label: string; timeoutMs: number }>();

const harness = await startIngestHarness(options.srcRoot ? { srcRoot: path.resolve(options.srcRoot) } : {});
const rows: {
  shape: string;
  about: string;
  bytes: number;
  status: string;
  answerMs: number;
  blockMs: number;
  worstBlockMs: number;
  rawDelayMs: number;
  replyBytes: number;
  rssMb: number;
}[] = [];
const round = (ms: number) => Math.round(ms * 10) / 10;
try {
  await harness.takeDelay();
  const only = options.only?.split(',');
  for (const shape of hostileShapes(harness.limits).filter((s) => !only || only.includes(s.name))) {
    const body = shape.build();
    const runs: {
      busyMs: number;
      maxMs: number;
      answerMs: number;
      status: string;
      replyBytes: number;
      rssMb: number;
    }[] = [];
    for (let i = 0; i < options.repeat; i++) {
      const answer = await post(harness.url, body, 'application/json', options.timeoutMs);
      const delay = await harness.takeDelay();
      runs.push({
        busyMs: delay.busyMs,
        maxMs: delay.maxMs,
        answerMs: answer.ms,
        status: answer.failure ?? String(answer.status),
        replyBytes: answer.body.length,
        rssMb: delay.rssMb,
      });
    }
    runs.sort((a, b) => a.busyMs - b.busyMs);
    const best = runs[0]!;
    rows.push({
      shape: shape.name,
      about: shape.about,
      bytes: body.length,
      status: best.status,
      answerMs: Math.round(best.answerMs),
      blockMs: round(best.busyMs),
      worstBlockMs: round(runs.at(-1)!.busyMs),
      rawDelayMs: round(best.maxMs),
      replyBytes: best.replyBytes,
      rssMb: Math.round(Math.max(...runs.map((r) => r.rssMb))),
    });
    const r = rows.at(-1)!;
    process.stdout.write(
      `${r.shape.padEnd(24)} ${String(r.bytes).padStart(9)} B  ${r.status.padEnd(5)} answer ${String(r.answerMs).padStart(6)} ms  block ${String(r.blockMs).padStart(7)} ms (worst repeat ${r.worstBlockMs}, raw delay ${r.rawDelayMs})  reply ${r.replyBytes} B  RSS ${r.rssMb} MB\n`,
    );
  }
} finally {
  await harness.close();
}

const result = {
  label: options.label,
  date: new Date().toISOString(),
  host: {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  },
  srcRoot: options.srcRoot ?? '.',
  limits: harness.limits,
  repeat: options.repeat,
  rows,
};
const dir = path.join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `hostile-${options.label}-${result.date.replace(/:/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(
  `largest block: ${Math.max(...rows.map((r) => r.blockMs))} ms over ${rows.length} shapes; ${path.relative(process.cwd(), file)}\n`,
);
