import { describe, expect, it } from 'vitest';
import {
  arrivalRate,
  busyForMs,
  perReplicaThroughput,
  recommendReplicas,
  type BacklogSample,
} from '../../src/stats/scaling-signal.ts';
import { decodeBatchEntry, encodeBatchEntry, type BatchStatsEntry } from '../../src/stats/stats-stream.ts';

const settings = { targetDrainS: 100, minReplicas: 1, maxReplicas: 10 };

function entry(worker: string, ts: number, size: number): BatchStatsEntry {
  const fields = encodeBatchEntry({
    ts,
    worker,
    size,
    inferenceMs: 1,
    labels: ['negative', 'positive'],
    latencyMs: Array(size).fill(5),
    labelIndex: Array(size).fill(1),
    confidence: Array(size).fill(0.9),
    tokens: Array(size).fill(10),
    truncated: Array(size).fill(0),
  });
  return decodeBatchEntry(`${ts}-0`, fields)!;
}

describe('recommendReplicas', () => {
  it('zero load → the minimum', () => {
    expect(
      recommendReplicas({ arrivalRatePerS: 0, backlog: 0, perReplicaPerS: 50, currentReplicas: 4 }, settings),
    ).toEqual({
      recommendedReplicas: 1,
      unclamped: 0,
      demandPerS: 0,
      bulkDemandPerS: 0,
      basis: 'clamped-to-min',
    });
    // Scale to zero when allowed, even with nothing measured.
    expect(
      recommendReplicas(
        { arrivalRatePerS: 0, backlog: 0, perReplicaPerS: null, currentReplicas: 2 },
        { ...settings, minReplicas: 0 },
      ).recommendedReplicas,
    ).toBe(0);
  });

  it('a backlog alone: enough replicas to drain it within the target time', () => {
    // 12,000 reviews in 100 s = 120/s; 50/s per replica → ceil(2.4) = 3.
    const r = recommendReplicas(
      { arrivalRatePerS: 0, backlog: 12_000, perReplicaPerS: 50, currentReplicas: 1 },
      settings,
    );
    expect(r).toEqual({ recommendedReplicas: 3, unclamped: 3, demandPerS: 120, bulkDemandPerS: 0, basis: 'formula' });
    // An exact multiple does not round up (floating noise forgiven): 10,000 / 100 / 50 = 2.
    expect(
      recommendReplicas({ arrivalRatePerS: 0, backlog: 10_000, perReplicaPerS: 50, currentReplicas: 1 }, settings)
        .recommendedReplicas,
    ).toBe(2);
    expect(
      recommendReplicas({ arrivalRatePerS: 0.3, backlog: 0, perReplicaPerS: 0.1, currentReplicas: 1 }, settings)
        .recommendedReplicas,
    ).toBe(3);
  });

  it('the arrival rate alone: keep up with it', () => {
    expect(
      recommendReplicas({ arrivalRatePerS: 230, backlog: 0, perReplicaPerS: 50, currentReplicas: 9 }, settings),
    ).toEqual({
      recommendedReplicas: 5,
      unclamped: 5,
      demandPerS: 230,
      bulkDemandPerS: 0,
      basis: 'formula',
    });
    // Arrival and backlog add up: 100/s + 5,000/100 s = 150/s → 3.
    expect(
      recommendReplicas({ arrivalRatePerS: 100, backlog: 5_000, perReplicaPerS: 50, currentReplicas: 1 }, settings)
        .recommendedReplicas,
    ).toBe(3);
  });

  it('unknown per-replica throughput: hold the current count, at least one when there is work', () => {
    expect(
      recommendReplicas({ arrivalRatePerS: 0, backlog: 500, perReplicaPerS: null, currentReplicas: 3 }, settings),
    ).toEqual({
      recommendedReplicas: 3,
      unclamped: null,
      demandPerS: 5,
      bulkDemandPerS: 0,
      basis: 'throughput-unknown',
    });
    expect(
      recommendReplicas(
        { arrivalRatePerS: 1, backlog: 0, perReplicaPerS: null, currentReplicas: 0 },
        { ...settings, minReplicas: 0 },
      ).recommendedReplicas,
    ).toBe(1);
    expect(
      recommendReplicas({ arrivalRatePerS: 1, backlog: 0, perReplicaPerS: 0, currentReplicas: 12 }, settings)
        .recommendedReplicas,
    ).toBe(10);
  });

  it('clamps to the maximum, and the maximum wins over a larger minimum', () => {
    expect(
      recommendReplicas({ arrivalRatePerS: 10_000, backlog: 1e6, perReplicaPerS: 50, currentReplicas: 2 }, settings),
    ).toEqual({
      recommendedReplicas: 10,
      unclamped: 400,
      demandPerS: 20_000,
      bulkDemandPerS: 0,
      basis: 'clamped-to-max',
    });
    expect(
      recommendReplicas(
        { arrivalRatePerS: 0, backlog: 0, perReplicaPerS: 50, currentReplicas: 2 },
        { targetDrainS: 10, minReplicas: 5, maxReplicas: 3 },
      ).recommendedReplicas,
    ).toBe(3);
    // Negative inputs (a shrinking estimate) count as zero.
    expect(
      recommendReplicas({ arrivalRatePerS: -5, backlog: -1, perReplicaPerS: 50, currentReplicas: 2 }, settings)
        .demandPerS,
    ).toBe(0);
  });
});

describe('recommendReplicas with a bulk backlog', () => {
  const bulkSettings = { ...settings, bulkTargetDrainS: 1000 };

  it('adds bulkBacklog / bulkTargetDrainS to the live demand', () => {
    // Live: 100/s + 5,000 / 100 s = 150/s; bulk: 1,000,000 reviews / 1,000 s = 1,000/s; 1,150 / 250 → ceil(4.6) = 5.
    expect(
      recommendReplicas(
        { arrivalRatePerS: 100, backlog: 5_000, bulkBacklog: 1_000_000, perReplicaPerS: 250, currentReplicas: 1 },
        bulkSettings,
      ),
    ).toEqual({
      recommendedReplicas: 5,
      unclamped: 5,
      demandPerS: 1150,
      bulkDemandPerS: 1000,
      basis: 'formula',
    });
    // Without the bulk backlog the same live load needs 1 replica: the backfill asks for the other 4.
    expect(
      recommendReplicas(
        { arrivalRatePerS: 100, backlog: 5_000, bulkBacklog: 0, perReplicaPerS: 250, currentReplicas: 1 },
        bulkSettings,
      ).recommendedReplicas,
    ).toBe(1);
  });

  it('a backfill alone scales an idle fleet up, and is drained over its own target, not the live one', () => {
    // 256,000 reviews / 1,000 s = 256/s; 100/s per replica → 3 (over the live target of 100 s it would be 26).
    const r = recommendReplicas(
      { arrivalRatePerS: 0, backlog: 0, bulkBacklog: 256_000, perReplicaPerS: 100, currentReplicas: 0 },
      bulkSettings,
    );
    expect(r).toMatchObject({ recommendedReplicas: 3, unclamped: 3, demandPerS: 256, bulkDemandPerS: 256 });
    // Without SCALING_BULK_TARGET_DRAIN_S the live target applies.
    expect(
      recommendReplicas(
        { arrivalRatePerS: 0, backlog: 0, bulkBacklog: 256_000, perReplicaPerS: 100, currentReplicas: 0 },
        settings,
      ).recommendedReplicas,
    ).toBe(10);
    // Unknown throughput with only bulk work: hold the current count, at least one.
    expect(
      recommendReplicas(
        { arrivalRatePerS: 0, backlog: 0, bulkBacklog: 10, perReplicaPerS: null, currentReplicas: 0 },
        { ...bulkSettings, minReplicas: 0 },
      ),
    ).toMatchObject({ recommendedReplicas: 1, basis: 'throughput-unknown' });
    // A negative bulk backlog counts as zero.
    expect(
      recommendReplicas(
        { arrivalRatePerS: 0, backlog: 0, bulkBacklog: -5, perReplicaPerS: 100, currentReplicas: 0 },
        bulkSettings,
      ).bulkDemandPerS,
    ).toBe(0);
  });
});

describe('arrivalRate', () => {
  const s = (t: number, backlog: number): BacklogSample => ({ t, backlog, ready: backlog });

  it('is the completion rate plus the backlog growth per second', () => {
    expect(arrivalRate([s(0, 100), s(10_000, 600)], 20)).toBe(70);
    // A shrinking backlog: fewer arrive than are scored.
    expect(arrivalRate([s(0, 600), s(10_000, 100)], 80)).toBe(30);
    // Never negative.
    expect(arrivalRate([s(0, 600), s(10_000, 0)], 10)).toBe(0);
  });

  it('takes the growth as 0 with one sample or samples under a second apart', () => {
    expect(arrivalRate([s(0, 100)], 12)).toBe(12);
    expect(arrivalRate([s(0, 100), s(500, 5_000)], 12)).toBe(12);
    expect(arrivalRate([], 3)).toBe(3);
  });
});

describe('busyForMs', () => {
  const s = (t: number, ready: number): BacklogSample => ({ t, backlog: ready, ready });

  it('is the unbroken run of samples with work ready, or the oldest waiting age when longer', () => {
    expect(busyForMs([s(0, 5), s(1000, 0), s(3000, 7), s(9000, 2)], null)).toBe(6000);
    expect(busyForMs([s(0, 5), s(1000, 0), s(3000, 7), s(9000, 2)], 20_000)).toBe(20_000);
    expect(busyForMs([s(0, 5), s(9000, 0)], 20_000)).toBe(0);
    expect(busyForMs([], 1000)).toBe(0);
  });
});

describe('the lane of a stats stream entry', () => {
  it('round-trips l=bulk and leaves live entries without it', () => {
    const live = entry('w', 1000, 2);
    expect(live.lane).toBeUndefined();
    const fields = encodeBatchEntry({
      ts: 1,
      worker: 'w',
      size: 1,
      inferenceMs: 1,
      labels: ['a'],
      latencyMs: [1],
      labelIndex: [0],
      confidence: [1],
      tokens: [1],
      truncated: [0],
      lane: 'bulk',
    });
    expect(fields.slice(-2)).toEqual(['l', 'bulk']);
    expect(decodeBatchEntry('1-0', fields)!.lane).toBe('bulk');
    // Anything else in `l` is the live lane.
    expect(decodeBatchEntry('1-0', [...fields.slice(0, -1), 'other'])!.lane).toBeUndefined();
  });
});

describe('perReplicaThroughput', () => {
  it('measures each worker from its first batch to its last and averages the workers', () => {
    const a = 'h/1/m@1';
    const b = 'h/2/m@1';
    const entries = [
      entry(a, 1000, 10),
      entry(b, 1500, 8),
      entry(a, 2000, 10),
      entry(a, 3000, 10), // a: 20 reviews after its first batch in 2 s → 10/s
      entry(b, 5500, 8), // b: 8 in 4 s → 2/s
      entry('h/3/m@1', 5000, 30), // one batch: no rate
    ];
    const r = perReplicaThroughput(entries, 0, 10_000);
    expect(r.perWorker).toEqual({ [a]: 10, [b]: 2 });
    expect(r.perReplicaPerS).toBe(6);
  });

  it('ignores entries outside [from, now] and spans under 2 s; null when no worker qualifies', () => {
    const entries = [entry('w', 0, 100), entry('w', 1000, 5), entry('w', 2500, 5), entry('w', 20_000, 100)];
    expect(perReplicaThroughput(entries, 1000, 10_000).perReplicaPerS).toBeNull();
    expect(perReplicaThroughput(entries, 0, 10_000).perReplicaPerS).toBe(4);
    expect(perReplicaThroughput([], 0, 1).perReplicaPerS).toBeNull();
  });
});
