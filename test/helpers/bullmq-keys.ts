import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { QueueKeys } from 'bullmq';

/** The queue key names BullMQ's QueueKeys.getKeys lists (its own list of the keys of a queue). */
export const GET_KEYS_NAMES = Object.keys(new QueueKeys('sf').getKeys('reviews'));

/**
 * Names BullMQ uses under `<prefix>:<queue>:` besides getKeys: deprecated keys it still deletes,
 * and families whose names go on after ":" (metrics, job schedulers, deduplication).
 * Job sub-keys (`<job id>:lock`, `:logs`, …) are not listed: a job id never contains ":".
 */
export const OTHER_KEY_NAMES = [
  'priority',
  'delay',
  'metrics:completed',
  'metrics:completed:data',
  'metrics:failed',
  'metrics:failed:data',
];
export const KEY_FAMILIES = ['metrics:', 'repeat:', 'de:', 'dn:'];
export const KNOWN_KEY_NAMES = new Set([...GET_KEYS_NAMES, ...OTHER_KEY_NAMES, ...KEY_FAMILIES]);

/**
 * Queue key names in BullMQ's installed sources: `toKey('…')` and `keys.…` in its JavaScript,
 * `<prefix or key> .. "…"` in its Lua scripts (names starting with ":" are sub-keys of a job or
 * of the relay's keyspace, never a queue key of their own).
 */
export function keyNamesInBullmqSources(): Map<string, string> {
  const entry = createRequire(import.meta.url).resolve('bullmq'); // <root>/dist/cjs/index.js
  const esm = path.join(path.dirname(entry), '..', 'esm');
  const jsMembers = new Set(['length', 'map', 'push', 'concat', 'forEach', 'getKeys', 'toKey']);
  const found = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) walk(file);
      else if (/\.(js|lua)$/.test(e.name)) scan(file);
    }
  };
  const scan = (file: string) => {
    const text = readFileSync(file, 'utf8');
    const patterns = file.endsWith('.lua')
      ? [/\w*(?:[Pp]refix|[Kk]ey)\w*\s*\.\.\s*['"]([^'":][^'"]*)['"]/g]
      : [/toKey\(\s*['"`]([^'"`$]*)/g, /\b(?:queueKeys|keys)(?:\.([A-Za-z_]\w*)|\[\s*['"]([^'"]*)['"]\s*\])/g];
    for (const pattern of patterns) {
      for (const m of text.matchAll(pattern)) {
        const name = m[1] ?? m[2] ?? m[3]!;
        if (!jsMembers.has(name) && /^[\w:-]*$/.test(name)) found.set(name, path.relative(esm, file));
      }
    }
  };
  walk(esm);
  return found;
}

/**
 * Every BullMQ key name as a review id: the names (not the empty one: ids have 1–128 characters),
 * each family with a name after its ":", and the names of a job's sub-keys.
 */
export const KEY_NAMES_AS_REVIEW_IDS = [
  ...new Set([
    ...[...KNOWN_KEY_NAMES].filter((name) => name !== '').map((name) => (name.endsWith(':') ? `${name}1` : name)),
    ...['metrics', 'lock', 'logs', 'dependencies', 'processed', 'unsuccessful'],
  ]),
];
