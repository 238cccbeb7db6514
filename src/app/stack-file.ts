import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from '../config/load-config.ts';
import { isAlive } from '../dev/persistent-redis.ts';

/**
 * `.sf-data/stack.json` (STACK_FILE): what a running `npm start` tells the commands started beside
 * it (import, export) so that they reach its Redis and database instead of a default one. Written
 * when the stack is ready, removed when it stops; a file whose pid is gone (the stack was
 * SIGKILLed) is ignored. It never holds a password: a URL with one is kept with `***` in its
 * place, and the commands then ask for REDIS_URL / DATABASE_URL instead of using it.
 */
const stackSchema = z.object({
  pid: z.number().int().positive(),
  startedAt: z.string(),
  ingestUrl: z.string(),
  statsUrl: z.string(),
  workers: z.number().int(),
  redis: z.object({ url: z.string(), passwordRedacted: z.boolean(), prefix: z.string(), cluster: z.boolean() }),
  // `bulk` (BULK_QUEUE): absent from a file written by a stack from before the bulk lane.
  queues: z.object({ reviews: z.string(), results: z.string(), bulk: z.string().optional() }),
  database: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('postgres'), url: z.string(), passwordRedacted: z.boolean() }),
    z.object({ kind: z.literal('pglite'), dir: z.string() }),
  ]),
});

export type StackInfo = z.infer<typeof stackSchema>;

export type StackLookup =
  | { state: 'none'; file: string }
  | { state: 'stale'; file: string; pid: number }
  | { state: 'running'; file: string; stack: StackInfo };

/** A URL (or REDIS_CLUSTER's comma-separated list) with every password replaced by `***`. */
export function redactUrls(urls: string): { url: string; redacted: boolean } {
  let redacted = false;
  const parts = urls.split(',').map((part) => {
    try {
      const parsed = new URL(part.trim());
      if (!parsed.password) return part.trim();
      parsed.password = '***';
      redacted = true;
      return parsed.toString().replace(/\/$/, '');
    } catch {
      redacted = true;
      return '(invalid URL)';
    }
  });
  return { url: parts.join(','), redacted };
}

/** What `npm start` writes once every service listens. */
export function describeStack(
  config: Config,
  where: { redisUrl: string; ingestUrl: string; statsUrl: string; workers: number; startedAt: Date },
): StackInfo {
  const redis = redactUrls(where.redisUrl);
  const dbUrl = config.sink.databaseUrl;
  const database = dbUrl
    ? (() => {
        const { url, redacted } = redactUrls(dbUrl);
        return { kind: 'postgres' as const, url, passwordRedacted: redacted };
      })()
    : { kind: 'pglite' as const, dir: path.resolve(config.sink.dataDir) };
  return {
    pid: process.pid,
    startedAt: where.startedAt.toISOString(),
    ingestUrl: where.ingestUrl,
    statsUrl: where.statsUrl,
    workers: where.workers,
    redis: {
      url: redis.url,
      passwordRedacted: redis.redacted,
      prefix: config.redis.prefix,
      cluster: config.redis.cluster,
    },
    queues: { reviews: config.queues.reviews, results: config.queues.results, bulk: config.queues.bulk },
    database,
  };
}

/**
 * Writes `info` to `file` atomically (a temporary file renamed over it). `remove()` deletes it
 * only while it still names this process, so a stopping stack never deletes another's file;
 * safe to call twice.
 */
export function writeStackFile(file: string, info: StackInfo): { file: string; remove: () => void } {
  const target = path.resolve(file);
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`);
  renameSync(tmp, target);
  return {
    file: target,
    remove() {
      const current = readStackFile(target);
      if (current.state === 'running' && current.stack.pid === info.pid && current.stack.startedAt === info.startedAt)
        rmSync(target, { force: true });
    },
  };
}

/**
 * The stack `file` names: `running` when its process is alive, `stale` when it is gone (a
 * SIGKILLed stack leaves its file behind), `none` when there is no readable file.
 */
export function readStackFile(file: string): StackLookup {
  const target = path.resolve(file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(target, 'utf8'));
  } catch {
    return { state: 'none', file: target };
  }
  const parsed = stackSchema.safeParse(raw);
  if (!parsed.success) return { state: 'none', file: target };
  return isAlive(parsed.data.pid)
    ? { state: 'running', file: target, stack: parsed.data }
    : { state: 'stale', file: target, pid: parsed.data.pid };
}

/** The one line a command logs when it uses the running stack. */
export function usingStackMessage(lookup: Extract<StackLookup, { state: 'running' }>): string {
  const relative = path.relative(process.cwd(), lookup.file);
  const shown = relative.startsWith('..') || path.isAbsolute(relative) ? lookup.file : relative;
  return `using the running npm start stack at ${lookup.stack.ingestUrl} (pid ${lookup.stack.pid}, from ${shown})`;
}

/** Why no running stack was used: for the message of a command that needs REDIS_URL or DATABASE_URL. */
export function noStackReason(lookup: StackLookup): string {
  if (lookup.state === 'stale') return `${lookup.file} names pid ${lookup.pid}, which is not running`;
  if (lookup.state === 'none') return `no running npm start stack (${lookup.file} is absent)`;
  return `the npm start stack at ${lookup.stack.ingestUrl} is running`;
}
