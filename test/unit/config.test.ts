import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { envSchema, settings } from '../../src/config/config-schema.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { defaultConfig } from '../helpers/config.ts';
import { SfError } from '../../src/errors/sf-error.ts';

/** Runs loadConfig and returns the SfError it throws (fails the test if it does not throw one). */
function configError(env: Record<string, string | undefined>): SfError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(SfError);
    return err as SfError;
  }
  throw new Error(`loadConfig(${JSON.stringify(env)}) did not throw`);
}

function problemSettings(err: SfError): string[] {
  const problems = err.details?.problems as { setting: string; problem: string }[];
  return problems.map((p) => p.setting).sort();
}

describe('config schema', () => {
  it('parses an empty environment into every default', () => {
    const parsed = envSchema.parse({});
    expect(parsed.QUEUE_PREFIX).toBe('sf');
    expect(parsed.BATCH_MAX_SIZE).toBe(64);
    expect(parsed.BATCH_MAX_WAIT_MS).toBe(5);
    expect(parsed.BATCH_MAX_PADDING).toBe(0.1);
    expect(parsed.REDIS_URL).toBeUndefined();
    expect(parsed.LOG_LEVEL).toBe('info');
  });

  it('documents every setting', () => {
    for (const [name, setting] of Object.entries(settings)) {
      expect(setting.doc.length, name).toBeGreaterThan(0);
    }
  });
});

describe('loadConfig', () => {
  it('builds the defaults from an empty environment', () => {
    const config = loadConfig({});
    expect(config.redis).toEqual({ url: undefined, prefix: 'sf', cluster: false, localDir: '.sf-data/redis' });
    expect(config.queues).toEqual({ reviews: 'reviews', results: 'results', bulk: 'reviews-bulk' });
    expect(config.bulk).toEqual({
      chunkSize: 256,
      concurrency: 2,
      statusTtlS: 86_400,
      threads: 1,
      intraOpThreads: 1,
      nice: 19,
    });
    expect(config.model).toEqual({
      dir: 'models/review-sentiment-en',
      name: undefined,
      version: undefined,
      maxTokens: undefined,
      truncation: 'head-tail',
    });
    expect(config.batching).toEqual({
      policy: 'token-budget',
      maxSize: 64,
      maxWaitMs: 5,
      maxTokens: 8192,
      maxPadding: 0.1,
    });
    expect(config.jobs).toEqual({
      attempts: 5,
      backoffDelayMs: 1000,
      keepCompletedS: 86_400,
      keepCompletedCount: 100_000,
      keepFailedS: 7 * 86_400,
      keepFailedCount: 100_000,
      retentionSweepS: 60,
    });
    expect(config.auth).toEqual({ apiKeys: [], ratePerMin: 0, allowUnauthenticated: false });
    expect(config.privacy).toEqual({ redactPii: false });
    expect(config.http).toEqual({
      host: '127.0.0.1',
      publishedHost: undefined,
      port: 3000,
      bodyLimitBytes: 1000 * (20_000 + 8192),
      maxReviewsPerRequest: 1000,
      backlogHighWater: 100_000,
      retryAfterS: 5,
      timeouts: { headersMs: 10_000, requestMs: 60_000, connectionMs: 30_000, keepAliveMs: 72_000 },
    });
    expect(config.worker.shutdownGraceMs).toBe(30_000);
    expect(config.worker.httpPort).toBeUndefined();
    expect(config.reviews.maxTextChars).toBe(20_000);
    expect(config.log).toEqual({ level: 'info', format: 'auto' });
    expect(config.sharedDir).toBe('../shared');
    expect(config.inference.threads).toBe(Math.max(1, Math.floor(os.availableParallelism() / 2)));
    expect(config.inference.intraOpThreads).toBeGreaterThanOrEqual(1);
  });

  it('defaultConfig applies overrides like loadConfig', () => {
    expect(defaultConfig({ BATCH_MAX_SIZE: '4' }).batching.maxSize).toBe(4);
    expect(defaultConfig().batching.maxSize).toBe(64);
  });

  it('coerces numeric overrides to numbers', () => {
    const config = loadConfig({
      BATCH_MAX_SIZE: '64',
      BATCH_MAX_WAIT_MS: '0',
      BATCH_MAX_PADDING: '0.25',
      HTTP_PORT: '8080',
      MAX_TOKENS: '128',
      WORKER_HTTP_PORT: '9100',
      INFERENCE_THREADS: '3',
      INTRA_OP_THREADS: '2',
      INTRA_OP_SPINNING: 'false',
    });
    expect(config.batching.maxSize).toBe(64);
    expect(config.batching.maxWaitMs).toBe(0);
    expect(config.batching.maxPadding).toBe(0.25);
    expect(config.http.port).toBe(8080);
    expect(config.model.maxTokens).toBe(128);
    expect(config.worker.httpPort).toBe(9100);
    expect(config.inference).toEqual({ threads: 3, intraOpThreads: 2, intraOpSpinning: false });
    expect(loadConfig({}).inference.intraOpSpinning).toBe(true);
    expect(typeof config.batching.maxSize).toBe('number');
  });

  it('trims surrounding whitespace of values', () => {
    expect(loadConfig({ BATCH_MAX_SIZE: ' 7 ', LOG_LEVEL: ' debug\n' })).toMatchObject({
      batching: { maxSize: 7 },
      log: { level: 'debug' },
    });
  });

  it('treats empty and blank strings as unset', () => {
    const config = loadConfig({
      REDIS_URL: '',
      BATCH_MAX_SIZE: '',
      LOG_LEVEL: '   ',
      MAX_TOKENS: '',
      QUEUE_PREFIX: '',
    });
    expect(config.redis).toEqual({ url: undefined, prefix: 'sf', cluster: false, localDir: '.sf-data/redis' });
    expect(config.batching.maxSize).toBe(64);
    expect(config.log.level).toBe('info');
    expect(config.model.maxTokens).toBeUndefined();
  });

  it('ignores environment variables that are not settings', () => {
    expect(() => loadConfig({ PATH: '/usr/bin', HOME: '/root', SOMETHING_ELSE: 'x' })).not.toThrow();
  });

  it('reports several invalid settings in one SF_ERR_CONFIG error', () => {
    const err = configError({ REDIS_URL: 'http://x', BATCH_MAX_SIZE: '0', LOG_LEVEL: 'loud' });
    expect(err.code).toBe('SF_ERR_CONFIG');
    expect(err.retryable).toBe(false);
    expect(problemSettings(err)).toEqual(['BATCH_MAX_SIZE', 'LOG_LEVEL', 'REDIS_URL']);
    expect(err.message).toMatch(/^3 invalid setting/);
    for (const name of ['REDIS_URL', 'BATCH_MAX_SIZE', 'LOG_LEVEL']) expect(err.message).toContain(name);
    expect(err.message).toContain('must start with redis:// or rediss://');
    const problems = err.details?.problems as { setting: string; problem: string }[];
    for (const p of problems) expect(p.problem.length).toBeGreaterThan(0);
  });

  it('rejects non-numbers, fractions and out-of-range numbers', () => {
    const err = configError({
      BATCH_MAX_SIZE: 'lots',
      JOB_ATTEMPTS: '2.5',
      HTTP_PORT: '70000',
      BATCH_MAX_PADDING: '1.5',
      MAX_TOKENS: '2',
    });
    expect(problemSettings(err)).toEqual([
      'BATCH_MAX_PADDING',
      'BATCH_MAX_SIZE',
      'HTTP_PORT',
      'JOB_ATTEMPTS',
      'MAX_TOKENS',
    ]);
  });

  it('takes PII_PHONE_REGION as a region code in any case, and refuses an unknown one', () => {
    expect(loadConfig({}).privacy.phoneRegion).toBeUndefined();
    expect(loadConfig({ PII_PHONE_REGION: 'in' }).privacy.phoneRegion).toBe('IN');
    expect(problemSettings(configError({ PII_PHONE_REGION: 'XX' }))).toEqual(['PII_PHONE_REGION']);
    expect(problemSettings(configError({ PII_PHONE_REGION: 'India' }))).toEqual(['PII_PHONE_REGION']);
  });

  it('derives the body limit from MAX_REVIEWS_PER_REQUEST and MAX_TEXT_CHARS unless HTTP_BODY_LIMIT_BYTES is set', () => {
    expect(loadConfig({ MAX_REVIEWS_PER_REQUEST: '10', MAX_TEXT_CHARS: '500' }).http.bodyLimitBytes).toBe(
      10 * (500 + 8192),
    );
    expect(
      loadConfig({ MAX_REVIEWS_PER_REQUEST: '10', MAX_TEXT_CHARS: '500', HTTP_BODY_LIMIT_BYTES: '4096' }).http
        .bodyLimitBytes,
    ).toBe(4096);
    expect(problemSettings(configError({ HTTP_BODY_LIMIT_BYTES: '1023' }))).toEqual(['HTTP_BODY_LIMIT_BYTES']);
  });

  it('takes the HTTP timeouts and refuses a headers timeout above the request timeout', () => {
    const config = loadConfig({
      HTTP_HEADERS_TIMEOUT_MS: '500',
      HTTP_REQUEST_TIMEOUT_MS: '500',
      HTTP_CONNECTION_TIMEOUT_MS: '700',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '900',
    });
    expect(config.http.timeouts).toEqual({ headersMs: 500, requestMs: 500, connectionMs: 700, keepAliveMs: 900 });
    const err = configError({ HTTP_HEADERS_TIMEOUT_MS: '501', HTTP_REQUEST_TIMEOUT_MS: '500' });
    expect(problemSettings(err)).toEqual(['HTTP_HEADERS_TIMEOUT_MS']);
    expect(err.message).toContain('must be at most HTTP_REQUEST_TIMEOUT_MS (500)');
    expect(problemSettings(configError({ HTTP_CONNECTION_TIMEOUT_MS: '99' }))).toEqual(['HTTP_CONNECTION_TIMEOUT_MS']);
  });

  it('takes NEGATIVE_LABELS and POSITIVE_LABELS as comma lists (trimmed, lower-cased), never sharing a label', () => {
    expect(loadConfig({}).labels).toEqual({ negative: ['negative'], positive: ['positive'] });
    expect(loadConfig({ NEGATIVE_LABELS: ' 1 Star,2 stars,, 1 star ', POSITIVE_LABELS: '5 stars' }).labels).toEqual({
      negative: ['1 star', '2 stars'],
      positive: ['5 stars'],
    });
    expect(() => loadConfig({ NEGATIVE_LABELS: ',' })).toThrow(/NEGATIVE_LABELS: must name at least one label/);
    expect(() => loadConfig({ NEGATIVE_LABELS: 'bad,Mixed', POSITIVE_LABELS: 'good,mixed' })).toThrow(
      /NEGATIVE_LABELS: must not share a label with POSITIVE_LABELS \(mixed\)/,
    );
  });

  it('accepts redis:// and rediss:// URLs', () => {
    expect(loadConfig({ REDIS_URL: 'redis://:secret@localhost:6379' }).redis.url).toBe(
      'redis://:secret@localhost:6379',
    );
    expect(loadConfig({ REDIS_URL: 'rediss://cache.example:6380/1' }).redis.url).toBe('rediss://cache.example:6380/1');
  });

  it('accepts a Redis Cluster hash tag as QUEUE_PREFIX and rejects ":" and spaces', () => {
    expect(loadConfig({ QUEUE_PREFIX: '{sf}' }).redis.prefix).toBe('{sf}');
    expect(problemSettings(configError({ QUEUE_PREFIX: 'a:b' }))).toEqual(['QUEUE_PREFIX']);
    expect(configError({ QUEUE_PREFIX: 'a:b' }).message).toContain('must not contain ":"');
    expect(problemSettings(configError({ QUEUE_PREFIX: 'a b' }))).toEqual(['QUEUE_PREFIX']);
  });

  describe('REDIS_CLUSTER', () => {
    it('takes a hash-tag prefix and one or more seed node URLs', () => {
      const config = loadConfig({
        REDIS_CLUSTER: 'true',
        REDIS_URL: 'redis://:pw@10.0.0.1:6379, redis://:pw@10.0.0.2:6379',
        QUEUE_PREFIX: '{sf}',
      });
      expect(config.redis).toEqual({
        url: 'redis://:pw@10.0.0.1:6379, redis://:pw@10.0.0.2:6379',
        prefix: '{sf}',
        cluster: true,
        localDir: '.sf-data/redis',
      });
      expect(
        loadConfig({ REDIS_CLUSTER: 'true', REDIS_URL: 'rediss://cache.example:6380', QUEUE_PREFIX: 'eu{fleet}' }).redis
          .cluster,
      ).toBe(true);
      expect(loadConfig({ REDIS_CLUSTER: 'false', REDIS_URL: 'redis://h:6379' }).redis.cluster).toBe(false);
    });

    it('refuses a QUEUE_PREFIX without a {hash tag}, naming the setting', () => {
      for (const prefix of ['sf', 'sf{}', '{}sf', 'sf}x{', 'sf{x']) {
        const err = configError({ REDIS_CLUSTER: 'true', REDIS_URL: 'redis://h:6379', QUEUE_PREFIX: prefix });
        expect(err.code).toBe('SF_ERR_CONFIG');
        expect(problemSettings(err), prefix).toEqual(['QUEUE_PREFIX']);
        expect(err.message).toContain('QUEUE_PREFIX: must contain a hash tag');
        expect(err.message).toContain('REDIS_CLUSTER=true');
      }
      // The default prefix too: cluster mode needs an explicit one.
      expect(problemSettings(configError({ REDIS_CLUSTER: 'true', REDIS_URL: 'redis://h:6379' }))).toEqual([
        'QUEUE_PREFIX',
      ]);
      // Without cluster mode a plain prefix is fine.
      expect(loadConfig({ REDIS_URL: 'redis://h:6379', QUEUE_PREFIX: 'sf' }).redis.prefix).toBe('sf');
    });

    it('needs REDIS_URL, refuses a database other than 0 and mixed TLS', () => {
      expect(problemSettings(configError({ REDIS_CLUSTER: 'true', QUEUE_PREFIX: '{sf}' }))).toEqual(['REDIS_URL']);
      expect(
        configError({ REDIS_CLUSTER: 'true', QUEUE_PREFIX: '{sf}', REDIS_URL: 'redis://h:6379/2' }).message,
      ).toContain('only database 0');
      expect(
        problemSettings(
          configError({ REDIS_CLUSTER: 'true', QUEUE_PREFIX: '{sf}', REDIS_URL: 'redis://a:1,rediss://b:2' }),
        ),
      ).toEqual(['REDIS_URL']);
    });

    it('refuses several URLs without REDIS_CLUSTER, and reports cluster problems with the other invalid settings', () => {
      expect(configError({ REDIS_URL: 'redis://a:1,redis://b:2' }).message).toContain('REDIS_CLUSTER=true');
      const err = configError({
        REDIS_CLUSTER: 'true',
        REDIS_URL: 'redis://:secret@h:6379',
        QUEUE_PREFIX: 'sf',
        BATCH_MAX_SIZE: '0',
      });
      expect(problemSettings(err)).toEqual(['BATCH_MAX_SIZE', 'QUEUE_PREFIX']);
      expect(err.message).not.toContain('secret');
      expect(problemSettings(configError({ REDIS_CLUSTER: 'yes' }))).toEqual(['REDIS_CLUSTER']);
    });
  });

  it('rejects queue names with characters outside [\\w.-]', () => {
    expect(problemSettings(configError({ REVIEWS_QUEUE: 'rev:iews', RESULTS_QUEUE: 'a/b' }))).toEqual([
      'RESULTS_QUEUE',
      'REVIEWS_QUEUE',
    ]);
    expect(loadConfig({ REVIEWS_QUEUE: 'reviews.v2-eu_1' }).queues.reviews).toBe('reviews.v2-eu_1');
  });

  it('validates enums (TRUNCATION, LOG_FORMAT)', () => {
    expect(loadConfig({ TRUNCATION: 'head', LOG_FORMAT: 'json' })).toMatchObject({
      model: { truncation: 'head' },
      log: { format: 'json' },
    });
    expect(problemSettings(configError({ TRUNCATION: 'tail', LOG_FORMAT: 'xml' }))).toEqual([
      'LOG_FORMAT',
      'TRUNCATION',
    ]);
  });

  describe('WORKER_CONCURRENCY', () => {
    it('defaults to 4 × BATCH_MAX_SIZE × INFERENCE_THREADS', () => {
      expect(loadConfig({ BATCH_MAX_SIZE: '16', INFERENCE_THREADS: '3' }).worker.concurrency).toBe(192);
      expect(loadConfig({ BATCH_MAX_SIZE: '1', INFERENCE_THREADS: '1' }).worker.concurrency).toBe(4);
    });

    it('uses the default thread count when INFERENCE_THREADS is unset', () => {
      const config = loadConfig({ BATCH_MAX_SIZE: '10' });
      expect(config.worker.concurrency).toBe(4 * 10 * config.inference.threads);
    });

    it('an explicit value wins', () => {
      expect(
        loadConfig({ BATCH_MAX_SIZE: '16', INFERENCE_THREADS: '3', WORKER_CONCURRENCY: '5' }).worker.concurrency,
      ).toBe(5);
    });
  });

  it('derives intra-op threads from the cores per inference thread', () => {
    const cores = os.availableParallelism();
    expect(loadConfig({ INFERENCE_THREADS: '1' }).inference.intraOpThreads).toBe(Math.max(1, cores));
    expect(loadConfig({ INFERENCE_THREADS: '64' }).inference.intraOpThreads).toBe(Math.max(1, Math.floor(cores / 64)));
  });
});
