/**
 * The settings rules of Redis Cluster mode (REDIS_CLUSTER=true), checked with the rest of the
 * configuration (config-schema.ts) so a bad cluster setup is refused at start-up, by setting name.
 *
 * A cluster shards keys by hash slot, and one command or Lua script may only touch keys of one
 * slot. BullMQ's scripts use several keys of a queue at once, and so does the fleet (the
 * producer's EXISTS pipeline, the stats stream next to the queues), so every key the fleet uses
 * must hash to one slot: QUEUE_PREFIX must carry a hash tag. Redis hashes only the part between
 * the first `{` and the first `}` after it, when that part is not empty.
 */
import { redactRedisUrl } from '../contracts/redis-url.ts';

/** The hash tag Redis Cluster hashes `key` by, or undefined when the whole key is hashed. */
export function redisHashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  if (close <= open + 1) return undefined;
  return key.slice(open + 1, close);
}

/** REDIS_URL's URLs: one, or in cluster mode a comma-separated list of seed nodes. */
export function splitRedisUrls(value: string): string[] {
  return value
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
}

export interface ClusterSettingProblem {
  setting: 'REDIS_URL' | 'QUEUE_PREFIX';
  message: string;
}

/**
 * Cross-setting problems of REDIS_CLUSTER, REDIS_URL and QUEUE_PREFIX. Takes values that may not
 * have parsed (they are then reported by their own schema): only well-typed values are judged.
 */
export function redisClusterProblems(values: {
  REDIS_CLUSTER?: unknown;
  REDIS_URL?: unknown;
  QUEUE_PREFIX?: unknown;
}): ClusterSettingProblem[] {
  const problems: ClusterSettingProblem[] = [];
  const url = typeof values.REDIS_URL === 'string' ? values.REDIS_URL : undefined;
  const urls = url === undefined ? [] : splitRedisUrls(url);
  if (values.REDIS_CLUSTER !== true) {
    if (urls.length > 1)
      problems.push({
        setting: 'REDIS_URL',
        message: 'lists several URLs: give one, or set REDIS_CLUSTER=true to list the seed nodes of a Redis Cluster',
      });
    return problems;
  }
  const prefix = values.QUEUE_PREFIX;
  if (typeof prefix === 'string' && redisHashTag(prefix) === undefined) {
    problems.push({
      setting: 'QUEUE_PREFIX',
      message: `must contain a hash tag such as "{${prefix.replace(/[{}]/g, '') || 'sf'}}" when REDIS_CLUSTER=true: BullMQ's scripts use several keys of a queue at once, so every key must hash to one cluster slot`,
    });
  }
  if (url === undefined) {
    problems.push({
      setting: 'REDIS_URL',
      message: 'must be set when REDIS_CLUSTER=true: the URL of one or more cluster nodes, comma-separated',
    });
    return problems;
  }
  const protocols = new Set<string>();
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      problems.push({ setting: 'REDIS_URL', message: `"${redactRedisUrl(u)}" is not a valid URL` });
      continue;
    }
    protocols.add(parsed.protocol);
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
      problems.push({ setting: 'REDIS_URL', message: `"${redactRedisUrl(u)}" must start with redis:// or rediss://` });
    if (parsed.hostname === '')
      problems.push({ setting: 'REDIS_URL', message: `"${redactRedisUrl(u)}" names no host` });
    const db = parsed.pathname.replace(/^\//, '');
    if (db !== '' && db !== '0')
      problems.push({
        setting: 'REDIS_URL',
        message: `"${redactRedisUrl(u)}" selects database ${db}: a Redis Cluster has only database 0`,
      });
  }
  if (protocols.size > 1)
    problems.push({
      setting: 'REDIS_URL',
      message: 'mixes redis:// and rediss://: every cluster node is reached the same way',
    });
  return problems;
}
