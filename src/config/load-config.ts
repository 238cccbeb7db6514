import os from 'node:os';
import { z } from 'zod';
import type { AuthSettings } from '../auth/api-keys.ts';
import { SfError } from '../errors/sf-error.ts';
import { envSchema, settings, type EnvSettings, type SettingName } from './config-schema.ts';
import type { ModelRoute } from './model-routes.ts';

/** The parsed configuration, grouped by role. Built once by an entrypoint and passed down. */
export interface Config {
  /** `cluster`: REDIS_CLUSTER, `url` then lists seed nodes (src/queue/redis-connection.ts). */
  /** `localDir`: the data dir of `npm start`'s own redis-server (LOCAL_REDIS_DIR). */
  redis: { url: string | undefined; prefix: string; cluster: boolean; localDir: string };
  /** STACK_FILE: where `npm start` says where it runs, for `import` and `export` (src/app/stack-file.ts). */
  stackFile: string;
  queues: { reviews: string; results: string; bulk: string };
  model: {
    dir: string;
    name: string | undefined;
    version: string | undefined;
    maxTokens: number | undefined;
    truncation: 'head-tail' | 'head';
  };
  /**
   * MODEL_ROUTES: a model directory per language tag (primary subtags), empty: MODEL_DIR only;
   * the language-ID model and its confidence threshold for reviews without `locale`
   * (src/inference/model-router.ts).
   */
  routing: { routes: readonly ModelRoute[]; languageIdDir: string; minConfidence: number };
  /** `all`: explain every review (EXPLAIN); otherwise only reviews with `explain: true`. */
  explain: { all: boolean; topK: number };
  /**
   * Model labels (lower-cased) that count as negative and positive (NEGATIVE_LABELS,
   * POSITIVE_LABELS): negative share, latest negatives, rating agreement (src/results/label-polarity.ts).
   */
  labels: { negative: readonly string[]; positive: readonly string[] };
  batching: {
    policy: 'token-budget' | 'fixed';
    maxSize: number;
    maxWaitMs: number;
    maxTokens: number;
    maxPadding: number;
  };
  inference: { threads: number; intraOpThreads: number; intraOpSpinning: boolean };
  worker: {
    concurrency: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    maxStalledCount: number;
    shutdownGraceMs: number;
    httpPort: number | undefined;
  };
  jobs: {
    attempts: number;
    backoffDelayMs: number;
    keepCompletedS: number;
    keepCompletedCount: number;
    keepFailedS: number;
    keepFailedCount: number;
    retentionSweepS: number;
  };
  /** HTTP authentication and rate limits (src/auth). No keys: authentication is off. */
  auth: AuthSettings;
  /**
   * REDACT_PII: mask e-mail addresses and phone numbers before enqueueing (src/ingest/pii-redaction.ts);
   * PII_PHONE_REGION: whose national numbers count as phones when a review's locale names no region.
   */
  privacy: { redactPii: boolean; phoneRegion: EnvSettings['PII_PHONE_REGION'] };
  /**
   * HTTP of the ingest API (body limit, batch size, backpressure) and, for `timeouts`, of every
   * HTTP server (ingest, stats, workers: src/http/http-server-options.ts).
   */
  http: {
    host: string;
    /** HTTP_PUBLISHED_HOST: where a container's port is published (src/app/exposure.ts). */
    publishedHost: string | undefined;
    port: number;
    bodyLimitBytes: number;
    maxReviewsPerRequest: number;
    backlogHighWater: number;
    retryAfterS: number;
    timeouts: { headersMs: number; requestMs: number; connectionMs: number; keepAliveMs: number };
  };
  reviews: { maxTextChars: number };
  /** The stats service and the per-batch stats stream (src/stats). */
  stats: {
    httpPort: number;
    windowS: number;
    cacheMs: number;
    streamMaxLen: number;
    dashboardAllowRetries: boolean;
    history: { intervalS: number; points: number };
  };
  drift: {
    recentS: number;
    referenceS: number;
    minCount: number;
    thresholds: { psi: number; ks: number; truncatedShare: number };
  };
  /** The scaling signal of the stats service (src/stats/scaling-signal.ts). */
  scaling: {
    targetDrainS: number;
    bulkTargetDrainS: number;
    minReplicas: number;
    maxReplicas: number;
    fallbackPerReplicaPerS: number | undefined;
  };
  producer: { chunkSize: number };
  /** The bulk lane (src/contracts/bulk-job.ts, src/app/bulk-worker.ts). */
  bulk: {
    chunkSize: number;
    concurrency: number;
    statusTtlS: number;
    threads: number;
    intraOpThreads: number;
    nice: number;
  };
  sink: {
    databaseUrl: string | undefined;
    dataDir: string;
    batchMaxSize: number;
    batchMaxWaitMs: number;
    httpPort: number | undefined;
  };
  log: { level: EnvSettings['LOG_LEVEL']; format: EnvSettings['LOG_FORMAT'] };
  sharedDir: string;
}

/**
 * Bytes of one review besides its text, in the default body limit: an id and a productId (128
 * characters each), metadata at its 4 KiB maximum, a short title, the other fields and the keys.
 */
export const REVIEW_OVERHEAD_BYTES = 8192;

/** HTTP_BODY_LIMIT_BYTES when unset: a full request of MAX_TEXT_CHARS-long ASCII reviews fits. */
export function defaultBodyLimitBytes(maxReviewsPerRequest: number, maxTextChars: number): number {
  return maxReviewsPerRequest * (maxTextChars + REVIEW_OVERHEAD_BYTES);
}

function group(e: EnvSettings): Config {
  const cores = os.availableParallelism();
  const threads = e.INFERENCE_THREADS ?? Math.max(1, Math.floor(cores / 2));
  return {
    redis: { url: e.REDIS_URL, prefix: e.QUEUE_PREFIX, cluster: e.REDIS_CLUSTER, localDir: e.LOCAL_REDIS_DIR },
    stackFile: e.STACK_FILE,
    queues: { reviews: e.REVIEWS_QUEUE, results: e.RESULTS_QUEUE, bulk: e.BULK_QUEUE },
    model: {
      dir: e.MODEL_DIR,
      name: e.MODEL_NAME,
      version: e.MODEL_VERSION,
      maxTokens: e.MAX_TOKENS,
      truncation: e.TRUNCATION,
    },
    routing: {
      routes: e.MODEL_ROUTES,
      languageIdDir: e.LANGUAGE_ID_MODEL_DIR,
      minConfidence: e.LANGUAGE_ID_MIN_CONFIDENCE,
    },
    explain: { all: e.EXPLAIN, topK: e.EXPLAIN_TOP_K },
    labels: { negative: e.NEGATIVE_LABELS, positive: e.POSITIVE_LABELS },
    batching: {
      policy: e.BATCH_POLICY,
      maxSize: e.BATCH_MAX_SIZE,
      maxWaitMs: e.BATCH_MAX_WAIT_MS,
      maxTokens: e.BATCH_MAX_TOKENS,
      maxPadding: e.BATCH_MAX_PADDING,
    },
    inference: {
      threads,
      intraOpThreads: e.INTRA_OP_THREADS ?? Math.max(1, Math.floor(cores / threads)),
      intraOpSpinning: e.INTRA_OP_SPINNING,
    },
    worker: {
      concurrency: e.WORKER_CONCURRENCY ?? 4 * e.BATCH_MAX_SIZE * threads,
      lockDurationMs: e.LOCK_DURATION_MS,
      stalledIntervalMs: e.STALLED_INTERVAL_MS,
      maxStalledCount: e.MAX_STALLED_COUNT,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      httpPort: e.WORKER_HTTP_PORT,
    },
    jobs: {
      attempts: e.JOB_ATTEMPTS,
      backoffDelayMs: e.BACKOFF_DELAY_MS,
      keepCompletedS: e.KEEP_COMPLETED_S,
      keepCompletedCount: e.KEEP_COMPLETED_COUNT,
      keepFailedS: e.KEEP_FAILED_S,
      keepFailedCount: e.KEEP_FAILED_COUNT,
      retentionSweepS: e.RETENTION_SWEEP_S,
    },
    auth: {
      apiKeys: e.API_KEYS ?? [],
      ratePerMin: e.RATE_LIMIT_PER_MIN ?? (e.API_KEYS ? 1200 : 0),
      allowUnauthenticated: e.ALLOW_UNAUTHENTICATED,
    },
    privacy: { redactPii: e.REDACT_PII, phoneRegion: e.PII_PHONE_REGION },
    http: {
      host: e.HTTP_HOST,
      publishedHost: e.HTTP_PUBLISHED_HOST,
      port: e.HTTP_PORT,
      bodyLimitBytes: e.HTTP_BODY_LIMIT_BYTES ?? defaultBodyLimitBytes(e.MAX_REVIEWS_PER_REQUEST, e.MAX_TEXT_CHARS),
      maxReviewsPerRequest: e.MAX_REVIEWS_PER_REQUEST,
      backlogHighWater: e.BACKLOG_HIGH_WATER,
      retryAfterS: e.RETRY_AFTER_S,
      timeouts: {
        headersMs: e.HTTP_HEADERS_TIMEOUT_MS,
        requestMs: e.HTTP_REQUEST_TIMEOUT_MS,
        connectionMs: e.HTTP_CONNECTION_TIMEOUT_MS,
        keepAliveMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      },
    },
    reviews: { maxTextChars: e.MAX_TEXT_CHARS },
    stats: {
      httpPort: e.STATS_HTTP_PORT,
      windowS: e.STATS_WINDOW_S,
      cacheMs: e.STATS_CACHE_MS,
      streamMaxLen: e.STATS_STREAM_MAXLEN,
      dashboardAllowRetries: e.DASHBOARD_ALLOW_RETRIES,
      history: { intervalS: e.STATS_HISTORY_INTERVAL_S, points: e.STATS_HISTORY_POINTS },
    },
    drift: {
      recentS: e.DRIFT_RECENT_S,
      referenceS: e.DRIFT_REFERENCE_S,
      minCount: e.DRIFT_MIN_COUNT,
      thresholds: { psi: e.DRIFT_PSI_THRESHOLD, ks: e.DRIFT_KS_THRESHOLD, truncatedShare: e.DRIFT_TRUNCATED_THRESHOLD },
    },
    scaling: {
      targetDrainS: e.SCALING_TARGET_DRAIN_S,
      bulkTargetDrainS: e.SCALING_BULK_TARGET_DRAIN_S,
      minReplicas: e.SCALING_MIN_REPLICAS,
      maxReplicas: e.SCALING_MAX_REPLICAS,
      fallbackPerReplicaPerS: e.SCALING_PER_REPLICA_PER_S,
    },
    producer: { chunkSize: e.ENQUEUE_CHUNK_SIZE },
    bulk: {
      chunkSize: e.BULK_CHUNK_SIZE,
      concurrency: e.BULK_CONCURRENCY,
      statusTtlS: e.BULK_STATUS_TTL_S,
      threads: e.BULK_THREADS,
      intraOpThreads: e.BULK_INTRA_OP_THREADS,
      nice: e.BULK_NICE,
    },
    sink: {
      databaseUrl: e.DATABASE_URL,
      dataDir: e.SINK_DATA_DIR,
      batchMaxSize: e.SINK_BATCH_MAX_SIZE,
      batchMaxWaitMs: e.SINK_BATCH_MAX_WAIT_MS,
      httpPort: e.SINK_HTTP_PORT,
    },
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
    sharedDir: e.SHARED_DIR,
  };
}

/**
 * Parses the environment once. Reports every invalid setting at once, by variable name.
 * Empty strings count as unset. Only entrypoints call this, with `process.env`.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const input: Partial<Record<SettingName, string>> = {};
  for (const name of Object.keys(settings) as SettingName[]) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') input[name] = value.trim();
  }
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({
      setting: issue.path.join('.'),
      problem: issue.message,
    }));
    const lines = problems.map((p) => `  ${p.setting}: ${p.problem}`).join('\n');
    throw new SfError('SF_ERR_CONFIG', `${problems.length} invalid setting(s):\n${lines}`, {
      details: { problems },
      cause: z.treeifyError(parsed.error),
    });
  }
  return group(parsed.data);
}
