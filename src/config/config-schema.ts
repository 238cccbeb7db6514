import { isSupportedCountry, type CountryCode } from 'libphonenumber-js/max';
import { z } from 'zod';
import { parseApiKeys } from '../auth/api-keys.ts';
import { redisClusterProblems } from './redis-cluster-rules.ts';
import { parseModelRoutes } from './model-routes.ts';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

/** A comma-separated list of model labels: trimmed, lower-cased (labels match case-insensitively), no repeats. */
const labelList = z.string().transform((value, ctx) => {
  const labels = [
    ...new Set(
      value
        .split(',')
        .map((l) => l.trim().toLowerCase())
        .filter((l) => l !== ''),
    ),
  ];
  if (labels.length === 0) ctx.addIssue({ code: 'custom', message: 'must name at least one label' });
  return labels;
});

/**
 * Every setting of sentiment-fleet, keyed by its environment variable. The configuration table
 * of docs/configuration.md is generated from the descriptions here (`npm run docs:config`): say
 * what a setting does and link to the evidence for its default, never quote a run.
 */
export const settings = {
  REDIS_URL: {
    schema: z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
    doc: 'Redis URL (`redis://` or `rediss://` for TLS; password as `redis://:pass@host:6379`). With `REDIS_CLUSTER=true`: one or more cluster nodes, comma-separated (`redis://:pass@10.0.0.1:6379,redis://:pass@10.0.0.2:6379`). `npm start` starts a local redis-server when unset.',
  },
  LOCAL_REDIS_DIR: {
    schema: z.string().min(1).default('.sf-data/redis'),
    doc: '`npm start` without REDIS_URL: data directory of its own redis-server (AOF, `appendfsync everysec`): queued reviews are kept across restarts, the port is remembered in `local-redis.json`.',
  },
  STACK_FILE: {
    schema: z.string().min(1).default('.sf-data/stack.json'),
    doc: '`npm start` writes where its services are (ingest, stats and Redis URLs, the database, pid, start time; no password) to this file and removes it when it stops. `import` without REDIS_URL and `export` without DATABASE_URL use the stack it names, when its process is alive, and say so.',
  },
  REDIS_CLUSTER: {
    schema: z.stringbool({ truthy: ['true'], falsy: ['false'], error: 'must be true or false' }).default(false),
    doc: "`true`: Redis is a Redis Cluster. Every process connects with an ioredis Cluster client seeded from REDIS_URL's nodes (the others are discovered; the URL's user, password and TLS apply to every node), and QUEUE_PREFIX must contain a hash tag such as `{sf}` so that every key of the fleet hashes to one slot (refused otherwise).",
  },
  QUEUE_PREFIX: {
    schema: z
      .string()
      .min(1)
      .regex(/^[^:\s]+$/, 'must not contain ":" or spaces')
      .default('sf'),
    doc: 'BullMQ key prefix. Use a hash tag such as `{sf}` for Redis Cluster (required with `REDIS_CLUSTER=true`).',
  },
  REVIEWS_QUEUE: {
    schema: z
      .string()
      .regex(/^[\w.-]+$/)
      .default('reviews'),
    doc: 'Queue that holds incoming reviews.',
  },
  RESULTS_QUEUE: {
    schema: z
      .string()
      .regex(/^[\w.-]+$/)
      .default('results'),
    doc: 'Queue that receives sentiment results.',
  },
  BULK_QUEUE: {
    schema: z
      .string()
      .regex(/^[\w.-]+$/)
      .default('reviews-bulk'),
    doc: "Queue of the bulk lane: one job per chunk of reviews (import, `enqueueMany(…, { lane: 'bulk' })`, `POST /v1/reviews?lane=bulk`): [lanes](guarantees.md#two-lanes-live-and-bulk).",
  },
  MODEL_DIR: {
    schema: z.string().min(1).default('models/review-sentiment-en'),
    doc: 'Model directory in the Hugging Face layout (model.onnx, tokenizer.json, config.json).',
  },
  MODEL_ROUTES: {
    schema: z
      .string()
      .transform((value, ctx) => {
        const { routes, problems } = parseModelRoutes(value);
        for (const message of problems) ctx.addIssue({ code: 'custom', message });
        return routes;
      })
      .prefault(''),
    doc: "Models by language: comma-separated `tag:directory` pairs, e.g. `de:models/review-sentiment-de,fr:models/review-sentiment-fr,es:models/review-sentiment-es`. A review goes to the model of its `locale`'s primary subtag (`de-AT` → `de`), or, without `locale`, of the language the language-ID model finds (LANGUAGE_ID_MIN_CONFIDENCE); every other review to MODEL_DIR. Each worker process loads every model listed (memory: [models.md](models.md#routing-by-language)). Unset: one model, no language identification.",
  },
  LANGUAGE_ID_MODEL_DIR: {
    schema: z.string().min(1).default('models/lang-id'),
    doc: 'With MODEL_ROUTES: the language-ID model that picks the language of a review sent without `locale`.',
  },
  LANGUAGE_ID_MIN_CONFIDENCE: {
    schema: z.coerce.number().min(0).max(1).default(0.6),
    doc: "With MODEL_ROUTES: a review without `locale` goes to its identified language's model only when the language-ID confidence is at least this; below it, to MODEL_DIR. Evidence: [models.md](models.md#routing-by-language).",
  },
  MODEL_NAME: {
    schema: z.string().min(1).optional(),
    doc: 'Model name reported in results (default: the directory name).',
  },
  MODEL_VERSION: {
    schema: z.string().min(1).optional(),
    doc: 'Model version reported in results (default: config.json `sf_version`, else a hash of model.onnx).',
  },
  MAX_TOKENS: {
    schema: int(3, 8192).optional(),
    doc: "Truncate inputs to this many tokens (default: the model's maximum length).",
  },
  TRUNCATION: {
    schema: z.enum(['head-tail', 'head']).default('head-tail'),
    doc: '`head-tail` keeps the first quarter and the last three quarters of the token budget; `head` keeps the start.',
  },
  NEGATIVE_LABELS: {
    schema: labelList.prefault('negative'),
    doc: "Comma-separated model labels that count as negative (case-insensitive): a product summary's `negativeShare`, the latest negatives, and a 1–2 star rating's agreement. For a star-label model, e.g. `1 star,2 stars`.",
  },
  POSITIVE_LABELS: {
    schema: labelList.prefault('positive'),
    doc: "Comma-separated model labels that count as positive (case-insensitive): a 4–5 star rating's agreement. For a star-label model, e.g. `4 stars,5 stars`. Must not share a label with NEGATIVE_LABELS.",
  },
  EXPLAIN: {
    schema: z.stringbool({ truthy: ['true'], falsy: ['false'], error: 'must be true or false' }).default(false),
    doc: '`true`: every result carries an `explanation` (top phrases for and against its label); `false`: only reviews sent with `"explain": true`. Exact, for `hashed-ngram-linear` models only; other models never explain.',
  },
  EXPLAIN_TOP_K: {
    schema: int(1, 50).default(5),
    doc: 'Phrases listed each way (`toward`, `against`) in an explanation.',
  },
  BATCH_POLICY: {
    schema: z.enum(['token-budget', 'fixed']).default('token-budget'),
    doc: "`token-budget`: each review is tokenized when it arrives; when an inference thread is free, the next batch takes queued reviews while rows × the longest one's tokens fits BATCH_MAX_TOKENS and BATCH_MAX_SIZE (no timer). `fixed`: a batch closes at BATCH_MAX_SIZE or BATCH_MAX_WAIT_MS. Evidence: [benchmarks.md](benchmarks.md#batching-ab-issue-18).",
  },
  BATCH_MAX_SIZE: {
    schema: int(1, 1024).default(64),
    doc: 'Most reviews in one batch (fewer per-batch costs the larger: [evidence](benchmarks.md#settings-and-the-measurements-behind-them)). `fixed`: a batch closes when it holds this many reviews...',
  },
  BATCH_MAX_WAIT_MS: {
    schema: int(0, 60_000).default(5),
    doc: '...or when its first review has waited this long (`fixed` only).',
  },
  BATCH_MAX_TOKENS: {
    schema: int(16).default(8192),
    doc: 'Token budget of a batch (`token-budget`) and of one model call: rows × padded length; length groups are split to fit it.',
  },
  BATCH_MAX_PADDING: {
    schema: z.coerce.number().min(0).max(1).default(0.1),
    doc: 'Largest share of padding tokens allowed in one model call before a length group is split.',
  },
  INFERENCE_THREADS: {
    schema: int(1, 64).optional(),
    doc: 'worker_threads running tokenization and inference per worker process (default: cores / 2, leaving the main thread a core: right for a cheap model). A transformer-sized model may do better with one per core and INTRA_OP_THREADS=1, at a copy of the model per thread: [operating.md](operating.md#on-one-host-npm-start-and-docker-compose).',
  },
  INTRA_OP_THREADS: {
    schema: int(1, 64).optional(),
    doc: 'onnxruntime intra-op threads per inference thread (default: cores / INFERENCE_THREADS).',
  },
  INTRA_OP_SPINNING: {
    schema: z.stringbool({ truthy: ['true'], falsy: ['false'], error: 'must be true or false' }).default(true),
    doc: "Let onnxruntime's intra-op threads spin while waiting for work (onnxruntime's default): faster on a transformer-sized model; `false` saves about 0.1 core while a worker is busy. Evidence: [benchmarks.md](benchmarks.md#settings-and-the-measurements-behind-them).",
  },
  WORKER_CONCURRENCY: {
    schema: int(1, 10_000).optional(),
    doc: 'Jobs a worker process holds at once (default: 4 × BATCH_MAX_SIZE × INFERENCE_THREADS: a batch computing, the next filling, and the jobs of finished batches completing; [evidence](benchmarks.md#settings-and-the-measurements-behind-them)).',
  },
  JOB_ATTEMPTS: { schema: int(1, 100).default(5), doc: 'Attempts per review for retryable (infrastructure) errors.' },
  BACKOFF_DELAY_MS: { schema: int(0).default(1000), doc: 'Base of the exponential retry backoff.' },
  LOCK_DURATION_MS: {
    schema: int(1000).default(30_000),
    doc: 'BullMQ job lock; renewed at half this period while a batch computes.',
  },
  STALLED_INTERVAL_MS: {
    schema: int(500).default(30_000),
    doc: 'How often workers look for jobs whose worker died (stalled) and take them over.',
  },
  MAX_STALLED_COUNT: {
    schema: int(1, 1000).default(5),
    doc: "Times a review or result job may be taken over after its worker stopped renewing the lock (killed, or Redis paused past the lock) before it fails for good. Above BullMQ's default of 1, which fails a review that stalls twice: [guarantees.md](guarantees.md#what-that-relies-on-and-what-breaks-it).",
  },
  KEEP_COMPLETED_S: {
    schema: int(0).default(86_400),
    doc: 'Completed review jobs (and their payloads) are kept this long; re-sent ids within it are reported as duplicates.',
  },
  KEEP_COMPLETED_COUNT: {
    schema: int(0).default(100_000),
    doc: 'At most this many completed jobs are kept per queue.',
  },
  KEEP_FAILED_S: {
    schema: int(0).default(7 * 86_400),
    doc: 'Failed jobs (review payloads included) are kept this long for inspection and retries, on the reviews and results queues.',
  },
  KEEP_FAILED_COUNT: { schema: int(0).default(100_000), doc: 'At most this many failed jobs are kept per queue.' },
  RETENTION_SWEEP_S: {
    schema: int(0, 86_400).default(60),
    doc: 'BullMQ drops jobs past `KEEP_*_S` only when another job finishes; workers also sweep the reviews and results queues this often, so an idle queue does not keep payloads. 0: no sweep.',
  },
  SHUTDOWN_GRACE_MS: {
    schema: int(0).default(30_000),
    doc: 'SIGTERM: time to finish and publish batches in flight before a forced exit.',
  },
  HTTP_HOST: {
    schema: z.string().min(1).default('127.0.0.1'),
    doc: 'Listen address of the ingest API and of the stats service.',
  },
  HTTP_PORT: { schema: int(0, 65_535).default(3000), doc: 'Ingest API port (0 picks a free port).' },
  HTTP_PUBLISHED_HOST: {
    schema: z.string().min(1).optional(),
    doc: "The host address a container's ingest or stats port is published on, when HTTP_HOST is 0.0.0.0 inside the container (docker-compose.yml sets it from `SF_BIND_HOST`, default 127.0.0.1). Ingest and stats refuse to start without API_KEYS when the address they are reachable at (this, else HTTP_HOST) is not loopback (see ALLOW_UNAUTHENTICATED).",
  },
  ALLOW_UNAUTHENTICATED: {
    schema: z.stringbool({ truthy: ['true'], falsy: ['false'], error: 'must be true or false' }).default(false),
    doc: '`true`: ingest and stats start without API_KEYS on a non-loopback address (an authenticating proxy or a private network guards them; logged as a warning). Default: they refuse to (SF_ERR_CONFIG).',
  },
  WORKER_HTTP_PORT: {
    schema: int(0, 65_535).optional(),
    doc: 'Worker health endpoints (/healthz, /readyz) and its Prometheus metrics (/metrics) on this port; unset: none. /readyz answers 200 only after the warm-up inference.',
  },
  STATS_HTTP_PORT: {
    schema: int(0, 65_535).default(3001),
    doc: 'Stats service port: dashboard, `GET /v1/stats`, Prometheus `GET /metrics` (0 picks a free port).',
  },
  STATS_WINDOW_S: {
    schema: int(10, 86_400).default(300),
    doc: 'Sliding window of the latency percentiles, batch-size histogram, per-minute model view and backlog rate in `/v1/stats`.',
  },
  STATS_CACHE_MS: {
    schema: int(0, 60_000).default(1000),
    doc: 'The stats document is computed at most once per this period, however many clients poll it.',
  },
  STATS_STREAM_MAXLEN: {
    schema: int(100, 10_000_000).default(20_000),
    doc: 'Workers append one entry per batch to the capped stream `<QUEUE_PREFIX>:sf:stats` (XADD MAXLEN ~ this); the stats service keeps at most this many batches in memory.',
  },
  STATS_HISTORY_INTERVAL_S: {
    schema: int(1, 60).default(5),
    doc: "The stats service records a point of its history (queue depths, rates, latency) every this many seconds, in the Redis stream `<QUEUE_PREFIX>:sf:stats:history`, shared by its replicas and kept across restarts (`GET /v1/stats/history`, the dashboard's charts).",
  },
  STATS_HISTORY_POINTS: {
    schema: int(10, 20_000).default(720),
    doc: 'Points of history kept (the stream is trimmed to exactly this many): 720 × 5 s is the last hour, about 0.35 MB in Redis (docs/dashboard.md).',
  },
  DASHBOARD_ALLOW_RETRIES: {
    schema: z.stringbool({ truthy: ['true'], falsy: ['false'], error: 'must be true or false' }).default(false),
    doc: 'bull-board on the stats service (`/admin/queues`) may retry failed jobs; every other write stays refused. Default: read-only.',
  },
  DRIFT_RECENT_S: { schema: int(10, 86_400).default(600), doc: 'Drift: the recent window (ends now).' },
  DRIFT_REFERENCE_S: {
    schema: int(10, 7 * 86_400).default(3600),
    doc: 'Drift: the reference window, just before the recent one.',
  },
  DRIFT_MIN_COUNT: {
    schema: int(1).default(100),
    doc: 'Drift signals are computed (and can alert) only when each window they compare holds at least this many results.',
  },
  DRIFT_PSI_THRESHOLD: {
    schema: z.coerce.number().positive().default(0.2),
    doc: 'Alert when the PSI of predicted label shares (recent vs reference) is over this.',
  },
  DRIFT_KS_THRESHOLD: {
    schema: z.coerce.number().positive().max(1).default(0.2),
    doc: 'Alert when the Kolmogorov-Smirnov statistic of confidence (max probability), recent vs reference, is over this.',
  },
  DRIFT_TRUNCATED_THRESHOLD: {
    schema: z.coerce.number().min(0).max(1).default(0.2),
    doc: 'Alert when the share of truncated reviews in the recent window is over this.',
  },
  SCALING_TARGET_DRAIN_S: {
    schema: int(1, 86_400).default(300),
    doc: 'Scaling signal (`GET /v1/scaling`, `sf_scaling_recommended_replicas`): drain the backlog within this many seconds while keeping up with arrivals.',
  },
  SCALING_BULK_TARGET_DRAIN_S: {
    schema: int(1, 604_800).default(3600),
    doc: "Scaling signal: drain the bulk lane's backlog (reviews in chunks not yet taken) within this many seconds, on top of what the live lane needs: [scaling](operating.md#the-scaling-signal).",
  },
  SCALING_MIN_REPLICAS: {
    schema: int(0, 10_000).default(1),
    doc: 'Scaling signal: fewest worker replicas recommended (0 lets an autoscaler scale to zero when idle).',
  },
  SCALING_MAX_REPLICAS: {
    schema: int(1, 10_000).default(20),
    doc: 'Scaling signal: most worker replicas recommended.',
  },
  SCALING_PER_REPLICA_PER_S: {
    schema: z.coerce.number().positive().optional(),
    doc: 'Scaling signal: reviews per second one worker replica handles, used until a busy fleet has been measured (take it from `npm run bench`); unset: the signal holds the current replica count until then.',
  },
  API_KEYS: {
    schema: z
      .string()
      .transform((value, ctx) => {
        const { keys, problems } = parseApiKeys(value);
        for (const message of problems) ctx.addIssue({ code: 'custom', message });
        return keys;
      })
      .optional(),
    doc: 'API keys of the ingest API and the stats service, hashed: comma-separated `name:scopes:sha256hex[:perMinute]`, scopes `read`, `write` or `read+write` (`sentiment-fleet new-api-key`). Unset: no authentication (a warning at start). See [security.md](security.md#api-keys).',
  },
  RATE_LIMIT_PER_MIN: {
    schema: int(0).optional(),
    doc: "Requests per minute per API key (an entry's `perMinute` overrides it), or per client IP without API_KEYS; 429 with Retry-After over it. 0: no limit. Default: 1200 with API_KEYS, none without.",
  },
  REDACT_PII: {
    schema: z.stringbool({ truthy: ['true'], falsy: ['false'], error: 'must be true or false' }).default(false),
    doc: 'Mask e-mail addresses and phone numbers in review titles and texts before they are enqueued (HTTP, SDK, import), so neither Redis nor results hold them.',
  },
  PII_PHONE_REGION: {
    schema: z
      .string()
      .transform((value) => value.toUpperCase())
      .refine(
        (value): value is CountryCode => isSupportedCountry(value),
        'must be a two-letter region code such as IN, US or GB',
      )
      .optional(),
    doc: "With REDACT_PII: the region whose national phone numbers (written without `+`, e.g. `98765 43210` for IN) are masked when the review's `locale` names no region. International numbers are masked either way.",
  },
  HTTP_BODY_LIMIT_BYTES: {
    schema: int(1024).optional(),
    doc: 'Largest body of POST /v1/reviews; larger gets 413 as soon as it is over (before parsing). Default: MAX_REVIEWS_PER_REQUEST × (MAX_TEXT_CHARS + 8192) bytes (28,192,000 with the defaults): a full request of ASCII reviews with full metadata fits; longer (non-ASCII, escaped) reviews go in smaller requests. The parse limits: [security.md](security.md#hostile-input-parse-limits-and-timeouts).',
  },
  MAX_REVIEWS_PER_REQUEST: {
    schema: int(1, 100_000).default(1000),
    doc: 'Largest array accepted by POST /v1/reviews.',
  },
  MAX_TEXT_CHARS: { schema: int(1).default(20_000), doc: 'Longest review text (and title) accepted.' },
  HTTP_HEADERS_TIMEOUT_MS: {
    schema: int(100, 3_600_000).default(10_000),
    doc: "Ingest API, stats service and workers' HTTP: a client must send its request headers within this time of connecting (or of its previous request), else the connection is closed (slow clients hold no socket for long). At most HTTP_REQUEST_TIMEOUT_MS.",
  },
  HTTP_REQUEST_TIMEOUT_MS: {
    schema: int(100, 3_600_000).default(60_000),
    doc: 'A client must send its whole request (headers and body) within this time, else 408 and the connection is closed.',
  },
  HTTP_CONNECTION_TIMEOUT_MS: {
    schema: int(100, 3_600_000).default(30_000),
    doc: 'A connection on which nothing is sent or received for this long, mid-request or while answering, is closed.',
  },
  HTTP_KEEP_ALIVE_TIMEOUT_MS: {
    schema: int(100, 3_600_000).default(72_000),
    doc: "An idle keep-alive connection between two requests is closed after this long (above a load balancer's idle timeout, e.g. 60 s, so that it closes first).",
  },
  BACKLOG_HIGH_WATER: {
    schema: int(1).default(100_000),
    doc: 'Waiting reviews at or above which ingest answers 503 with Retry-After and `import` waits before its next chunk.',
  },
  RETRY_AFTER_S: { schema: int(1).default(5), doc: 'Retry-After sent with 503.' },
  ENQUEUE_CHUNK_SIZE: {
    schema: int(1, 10_000).default(100),
    doc: 'Reviews per addBulk call of the producer. Its synchronous part holds the event loop, longer the larger the chunk, for no more throughput: [evidence](benchmarks.md#settings-and-the-measurements-behind-them).',
  },
  BULK_CHUNK_SIZE: {
    schema: int(1, 10_000).default(256),
    doc: 'Reviews per bulk-lane job (one BullMQ job, one result job, one status marker write per review): [evidence](benchmarks.md#two-lanes).',
  },
  BULK_CONCURRENCY: {
    schema: int(1, 64).default(2),
    doc: 'Bulk chunks a worker process holds at once: one scoring on the bulk thread while the results of another are built and published.',
  },
  BULK_THREADS: {
    schema: int(0, 64).default(1),
    doc: "Inference threads per worker process that score only the bulk lane, at CPU priority BULK_NICE, so live work gets the cores first (onnxruntime's threads inherit it; a copy of the model per thread). 0: bulk batches run on the live threads after every waiting live batch: [evidence](benchmarks.md#two-lanes).",
  },
  BULK_INTRA_OP_THREADS: {
    schema: int(1, 64).default(1),
    doc: 'onnxruntime intra-op threads per BULK_THREADS thread. 1 (right for a cheap model such as the default): a low-priority bulk thread never stalls at a parallel barrier waiting for a sibling thread the kernel gave to live work. A transformer-sized model, where the model is the work, needs the cores: set it to their number ([operating.md](operating.md#on-one-host-npm-start-and-docker-compose), [evidence](benchmarks.md#two-lanes)).',
  },
  BULK_NICE: {
    schema: int(0, 19).default(19),
    doc: 'Nice value of the BULK_THREADS threads (Linux; 19 is the lowest priority).',
  },
  BULK_STATUS_TTL_S: {
    schema: int(0).default(86_400),
    doc: 'Bulk lane: each review gets a marker (review id → chunk job) kept this long, so its status reads `queued`, `active`, `scored` or `failed`; about 100 bytes of Redis per review. 0: no markers (status reads `stored` once stored, `unknown` before).',
  },
  DATABASE_URL: {
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
    doc: 'PostgreSQL URL for the result sink. Unset: the embedded PGlite database in SINK_DATA_DIR.',
  },
  SINK_DATA_DIR: {
    schema: z.string().min(1).default('.sf-data/pglite'),
    doc: 'Data directory of the embedded PGlite database (used when DATABASE_URL is unset).',
  },
  SINK_BATCH_MAX_SIZE: {
    schema: int(1, 10_000).default(500),
    doc: 'Results per database transaction (one multi-row upsert).',
  },
  SINK_BATCH_MAX_WAIT_MS: {
    schema: int(0, 60_000).default(50),
    doc: 'A sink batch commits when full or when its first result has waited this long.',
  },
  SINK_HTTP_PORT: {
    schema: int(0, 65_535).optional(),
    doc: 'Result sink health endpoints (/healthz; /readyz: 200 while the database and Redis answer) and its Prometheus metrics (/metrics: rows upserted, commit duration, database errors, paused) on this port; unset: none.',
  },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    doc: 'pino log level.',
  },
  LOG_FORMAT: {
    schema: z.enum(['auto', 'json', 'pretty']).default('auto'),
    doc: '`auto`: pretty in a terminal, JSON otherwise.',
  },
  SHARED_DIR: {
    schema: z.string().min(1).default('../shared'),
    doc: 'Where the shared data sets live (training, evaluation, benchmarks).',
  },
} as const satisfies Record<string, { schema: z.ZodType; doc: string }>;

export type SettingName = keyof typeof settings;

type Shape = { [K in SettingName]: (typeof settings)[K]['schema'] };
const shape = Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, v.schema])) as Shape;

/**
 * Every setting, plus the rules between settings (Redis Cluster mode, redis-cluster-rules.ts;
 * NEGATIVE_LABELS and POSITIVE_LABELS share no label),
 * which run even when other settings are invalid so that every problem is reported at once.
 */
export const envSchema = z.object(shape).superRefine(
  (values, ctx) => {
    for (const p of redisClusterProblems(values))
      ctx.addIssue({ code: 'custom', path: [p.setting], message: p.message });
    if (values.HTTP_HEADERS_TIMEOUT_MS > values.HTTP_REQUEST_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['HTTP_HEADERS_TIMEOUT_MS'],
        message: `must be at most HTTP_REQUEST_TIMEOUT_MS (${values.HTTP_REQUEST_TIMEOUT_MS})`,
      });
    }
    const [negative, positive] = [values.NEGATIVE_LABELS as unknown, values.POSITIVE_LABELS as unknown];
    const both = Array.isArray(negative) && Array.isArray(positive) ? negative.filter((l) => positive.includes(l)) : [];
    if (both.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['NEGATIVE_LABELS'],
        message: `must not share a label with POSITIVE_LABELS (${both.join(', ')})`,
      });
  },
  { when: () => true },
);
export type EnvSettings = z.output<typeof envSchema>;
