import { z } from 'zod';
import type { SameType } from '../http/route-doc.ts';
import { DRIFT_STATUSES, JOB_STATES, type FleetStats, type JobState, type ScalingStats } from './fleet-stats.ts';

/**
 * The stats document (`GET /v1/stats`, docs/stats-api.md) as zod, for its OpenAPI document. The
 * collector builds FleetStats; the type checks at the end keep this schema and those interfaces
 * equal, field for field, and test/integration/openapi-http.test.ts checks a real document against it.
 */

const iso = z.iso.datetime({ offset: true });
const count = z.number().int().min(0);
const ms = z.number().nullable();
const shares = z.record(z.string(), z.number()).meta({ description: 'Share of each label, 0..1.' });

const counts = z.object(
  Object.fromEntries(JOB_STATES.map((state) => [state, count])) as Record<JobState, typeof count>,
);

const queueStats = z.object({
  counts,
  oldestWaitingAgeMs: ms,
  failures: z
    .object({
      sampled: count,
      reasons: z.array(
        z.object({
          code: z.string().meta({ description: 'An SF_ERR_* code, BULLMQ_STALLED_LIMIT or OTHER.' }),
          count,
          lastAt: iso.nullable(),
        }),
      ),
    })
    .meta({
      description: 'Why the most recent failed jobs (at most 200, `sampled`) failed, by code, most frequent first.',
    }),
});

const window = z.object({ from: iso, to: iso, count });
const ratingAgreement = z.object({ rated: count, agreeing: count, share: z.number() }).nullable().meta({
  description:
    'Agreement of the labels with the star ratings (1–2 stars expect a negative label, 4–5 a positive one); null when none was rated.',
});

export const scalingSchema = z
  .object({
    recommendedReplicas: count,
    currentReplicas: count,
    formula: z.string(),
    unclamped: z.number().int().nullable(),
    basis: z.enum(['formula', 'clamped-to-min', 'clamped-to-max', 'throughput-unknown']),
    inputs: z.object({
      arrivalRatePerS: z.number(),
      completionRatePerS: z.number(),
      backlog: count,
      backlogByState: z.object({ waiting: count, prioritized: count, delayed: count, paused: count }),
      perReplicaPerS: z.number().nullable(),
      perReplicaSource: z.enum(['measured', 'last-measured', 'fallback', 'unknown']),
      perReplicaMeasuredAt: iso.nullable(),
      targetDrainS: z.number(),
      bulkBacklog: count.meta({
        description:
          'Reviews in bulk-lane chunks not yet taken (an upper bound when bulkBacklogBasis is `upper-bound`).',
      }),
      bulkBacklogChunks: count,
      bulkBacklogBasis: z.enum(['exact', 'upper-bound']),
      bulkTargetDrainS: z.number(),
      minReplicas: count,
      maxReplicas: count,
      demandPerS: z.number(),
      bulkDemandPerS: z
        .number()
        .meta({ description: "bulkBacklog / bulkTargetDrainS: the bulk lane's part of demandPerS." }),
    }),
  })
  .meta({ id: 'Scaling' });

export const fleetStatsSchema = z
  .object({
    generatedAt: iso,
    queues: z.record(z.string(), queueStats).meta({ description: 'By queue name: reviews, results.' }),
    throughput: z.object({
      perMinute: z.array(z.object({ minute: iso, completed: count, failed: count })),
      totals: z.object({ completed: count, failed: count }),
    }),
    latency: z.object({ windowSeconds: z.number(), count, p50Ms: ms, p95Ms: ms, p99Ms: ms }),
    batchSizes: z.object({
      buckets: z.array(z.object({ le: z.union([z.number(), z.literal('+Inf')]), count })),
      mean: z.number().nullable(),
    }),
    workers: z.array(
      z.object({ host: z.string(), pid: z.number().int(), model: z.string(), version: z.string(), connections: count }),
    ),
    backlog: z.object({
      waiting: count,
      ratePerSecond: z.number(),
      etaSeconds: z.number().nullable(),
      bulk: z
        .object({
          queue: z.string(),
          chunks: count,
          reviews: count,
          reviewsBasis: z.enum(['exact', 'upper-bound']),
          ratePerSecond: z.number(),
          etaSeconds: z.number().nullable(),
        })
        .meta({
          description:
            'The bulk lane (BULK_QUEUE): chunk jobs not yet taken, the reviews in them (from the sizes their job names record; `upper-bound` when some chunks counted BULK_CHUNK_SIZE), bulk reviews scored per second over the last minute and the ETA. An addition.',
        }),
    }),
    rate: z
      .object({
        currentPerS: z.number(),
        currentWindowSeconds: z.number(),
        averagePerS: z.number(),
        averageWindowSeconds: z.number(),
      })
      .meta({
        description:
          'Reviews scored per second: now (over the last currentWindowSeconds, 10) and the average over averageWindowSeconds (300), from the stats stream.',
      }),
    model: z.object({
      perMinute: z.array(z.object({ minute: iso, count, labelShares: shares, meanConfidence: z.number() })),
      byVersion: z.array(
        z.object({
          model: z.string(),
          version: z.string(),
          workers: count,
          count,
          labelShares: shares,
          meanConfidence: z.number(),
          ratingAgreement,
        }),
      ),
      ratingAgreement,
      byLanguage: z
        .array(
          z.object({
            language: z.string(),
            count,
            share: z.number(),
            labelShares: shares,
            meanConfidence: z.number(),
            models: z.record(z.string(), count),
          }),
        )
        .meta({
          description:
            'Label shares by the language a review was scored for (MODEL_ROUTES: its locale, or the language-ID guess; `unknown` without either), over the window; empty without MODEL_ROUTES. An addition.',
        }),
    }),
    drift: z.object({
      recent: window,
      reference: window,
      psi: z.number().nullable(),
      ks: z.number().nullable(),
      truncatedShare: z.number().nullable(),
      tokenLength: z.object({ p50: z.number().nullable(), p95: z.number().nullable(), max: z.number().nullable() }),
      thresholds: z.object({ psi: z.number(), ks: z.number(), truncatedShare: z.number() }),
      alerts: z.array(z.string()),
      minCount: count.meta({
        description:
          'DRIFT_MIN_COUNT: PSI and KS need this many results in each window, the truncated share in the recent one.',
      }),
      status: z.enum(DRIFT_STATUSES).meta({
        description:
          '`alert`: a signal is over its threshold; `ok`: PSI and KS computed, none over; `not-enough-data`: a window holds fewer than minCount results.',
      }),
    }),
    scaling: scalingSchema,
  })
  .meta({ id: 'FleetStats' });

const schemasMatch: [
  SameType<z.output<typeof fleetStatsSchema>, FleetStats>,
  SameType<z.output<typeof scalingSchema>, ScalingStats>,
] = [true, true];
void schemasMatch;
