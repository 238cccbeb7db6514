import { Redis } from 'ioredis';
import { isErrorCode } from '../src/contracts/error-codes.ts';
import { generateCases, type FuzzCase } from './ingest-grammar.ts';
import { post, startIngestHarness, type Answer } from './ingest-harness.ts';

export interface FuzzOptions {
  /** Random cases after the fixed ones. */
  cases: number;
  seed: number;
  /** A hostile shape every this many cases (0: none). */
  hostileEvery?: number;
  /** An answer slower than this is a hang. */
  timeoutMs?: number;
  /** An event-loop delay over this in the service is a stall. */
  stallMs?: number;
  /** Settings of the service under test. */
  env?: Record<string, string>;
  /** Progress lines (every 1,000 cases). */
  log?: (line: string) => void;
}

export interface Finding {
  name: string;
  status: number;
  detail: string;
}

export interface FuzzSummary {
  seed: number;
  cases: number;
  statuses: Record<string, number>;
  serverErrors: Finding[];
  hangs: Finding[];
  /** Connections that ended without an answer (not hangs). */
  resets: Finding[];
  /** Answers that break the contract: a fixed case's status or mention, an error body's shape. */
  unexpected: Finding[];
  stalls: Finding[];
  /** Longest CPU-backed event-loop block of one case (fuzz/ingest-child.ts). */
  maxStallMs: number;
  maxStallCase: string;
  /** Largest raw monitorEventLoopDelay delay (also counts waiting for a core on a busy host). */
  maxRawDelayMs: number;
  maxRssMb: number;
  durationMs: number;
}

/** Accepted bytes after which the runner empties its Redis (no worker drains the queue). */
const FLUSH_AFTER_BYTES = 64 * 1024 * 1024;

function contractProblem(c: FuzzCase, answer: Answer): string | undefined {
  if (c.expect && answer.status !== c.expect.status) return `expected ${c.expect.status}`;
  if (answer.status === 202) return undefined;
  let body: { error?: { code?: unknown; message?: unknown } };
  try {
    body = JSON.parse(answer.body) as typeof body;
  } catch {
    return 'the error body is not JSON';
  }
  if (!isErrorCode(body.error?.code)) return 'no registered error code';
  if (typeof body.error?.message !== 'string' || body.error.message.length < 5) return 'no error message';
  if (c.expect?.mentions && !c.expect.mentions.test(answer.body)) return `does not mention ${c.expect.mentions}`;
  return undefined;
}

/**
 * Sends the generated cases one at a time, over real sockets, to an ingest service in a child
 * process with a real redis-server, and checks after each: no 5xx, an answer within timeoutMs,
 * an event-loop block under stallMs in the service (CPU-backed: time the service waited for a
 * core on a shared host is not a stall; the raw delay is reported beside it), the error-body
 * contract.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const stallMs = options.stallMs ?? 100;
  const started = performance.now();
  const harness = await startIngestHarness({ env: options.env ?? {} });
  const redis = new Redis(harness.redisUrl, { maxRetriesPerRequest: 1 });
  const summary: FuzzSummary = {
    seed: options.seed,
    cases: 0,
    statuses: {},
    serverErrors: [],
    hangs: [],
    resets: [],
    unexpected: [],
    stalls: [],
    maxStallMs: 0,
    maxStallCase: '',
    maxRawDelayMs: 0,
    maxRssMb: 0,
    durationMs: 0,
  };
  let acceptedBytes = 0;
  try {
    await harness.takeDelay(); // start-up is not a case
    for (const c of generateCases({
      seed: options.seed,
      count: options.cases,
      limits: harness.limits,
      hostileEvery: options.hostileEvery ?? 0,
    })) {
      const body = typeof c.body === 'function' ? c.body() : Buffer.from(c.body);
      const contentType = c.contentType === undefined ? 'application/json' : c.contentType;
      const answer = await post(harness.url, body, contentType, timeoutMs);
      const delay = await harness.takeDelay();
      summary.cases++;
      const key = answer.failure ?? String(answer.status);
      summary.statuses[key] = (summary.statuses[key] ?? 0) + 1;
      const finding = (detail: string): Finding => ({
        name: c.name,
        status: answer.status,
        detail: detail.slice(0, 500),
      });
      if (answer.status >= 500) summary.serverErrors.push(finding(answer.body));
      if (answer.failure === 'hang') summary.hangs.push(finding(`no answer within ${timeoutMs} ms`));
      if (answer.failure === 'reset')
        summary.resets.push(finding(`${answer.error ?? 'reset'} (body ${body.length} bytes)`));
      if (!answer.failure) {
        const problem = contractProblem(c, answer);
        if (problem) summary.unexpected.push(finding(`${problem}: ${answer.body.slice(0, 300)}`));
      }
      if (delay.busyMs > summary.maxStallMs) {
        summary.maxStallMs = delay.busyMs;
        summary.maxStallCase = c.name;
      }
      summary.maxRawDelayMs = Math.max(summary.maxRawDelayMs, delay.maxMs);
      if (delay.busyMs > stallMs)
        summary.stalls.push(
          finding(
            `event loop blocked ${delay.busyMs.toFixed(1)} ms (raw delay ${delay.maxMs.toFixed(1)} ms, body ${body.length} bytes)`,
          ),
        );
      summary.maxRssMb = Math.max(summary.maxRssMb, delay.rssMb);
      if (answer.status === 202) acceptedBytes += body.length;
      if (acceptedBytes > FLUSH_AFTER_BYTES) {
        await redis.flushdb();
        acceptedBytes = 0;
      }
      if (summary.cases % 1000 === 0)
        options.log?.(
          `${summary.cases} cases, ${JSON.stringify(summary.statuses)}, max stall ${summary.maxStallMs.toFixed(1)} ms`,
        );
    }
  } finally {
    redis.disconnect();
    await harness.close();
  }
  summary.durationMs = performance.now() - started;
  return summary;
}

/** Whether a run met the targets: no 5xx, no hangs, no stalls, no broken contract. */
export function fuzzPassed(summary: FuzzSummary): boolean {
  return (
    summary.serverErrors.length === 0 &&
    summary.hangs.length === 0 &&
    summary.stalls.length === 0 &&
    summary.unexpected.length === 0
  );
}

export function formatSummary(summary: FuzzSummary, stallMs = 100): string {
  const statuses = Object.entries(summary.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ');
  const lines = [
    `fuzz: ${summary.cases} cases (seed ${summary.seed}) in ${(summary.durationMs / 1000).toFixed(1)} s`,
    `  statuses: ${statuses}`,
    `  5xx: ${summary.serverErrors.length}, hangs: ${summary.hangs.length}, resets: ${summary.resets.length}, contract breaks: ${summary.unexpected.length}`,
    `  event-loop stalls over ${stallMs} ms: ${summary.stalls.length}; longest block ${summary.maxStallMs.toFixed(1)} ms (${summary.maxStallCase}); largest raw delay ${summary.maxRawDelayMs.toFixed(1)} ms; max RSS ${summary.maxRssMb.toFixed(0)} MB`,
  ];
  for (const [what, list] of [
    ['5xx', summary.serverErrors],
    ['hang', summary.hangs],
    ['stall', summary.stalls],
    ['contract', summary.unexpected],
    ['reset', summary.resets],
  ] as const) {
    for (const f of list.slice(0, 10)) lines.push(`  ${what}: ${f.name}: ${f.status} ${f.detail}`);
  }
  return lines.join('\n');
}
