import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { f16round } from '@petamoriken/float16';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { padBatch } from '../../src/tokenize/encoder.ts';
import { linearLogits, ngramFeatureRows } from '../../src/model-format/hashed-ngram-features.ts';
import { buildHashedNgramGraph } from '../../src/training/hashed-ngram-graph.ts';
import { readLabeledData } from '../../src/training/labeled-data-reader.ts';
import { trainLinearModel, type TrainingExample } from '../../src/training/linear-trainer.ts';
import { nbRowScale } from '../../src/training/nb-scaling.ts';
import { seededRandom } from '../../src/training/seeded-random.ts';
import { devSliceName, inDevSlice, loadSource } from '../../src/training/source-data.ts';
import {
  crossValidateBySource,
  sourceRowWeights,
  type FeaturizedRow,
  type SourceRows,
} from '../../src/training/source-training.ts';
import { DEFAULT_HYPERPARAMETERS } from '../../src/training/hashed-ngram-hyperparameters.ts';

const tempDirs: string[] = [];
afterAll(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sf-sources-'));
  tempDirs.push(dir);
  return dir;
}

describe('naive Bayes feature scaling', () => {
  it('is |log-count ratio| + offset per row, with smoothing, for two labels', () => {
    const examples: TrainingExample[] = [
      { rows: Int32Array.from([0, 1]), label: 1, weight: 1 },
      { rows: Int32Array.from([0, 2]), label: 1, weight: 1 },
      { rows: Int32Array.from([2]), label: 0, weight: 2 },
    ];
    const r = nbRowScale(examples, { tableRows: 4, numLabels: 2, smoothing: 1, offset: 0.1, power: 1 });
    // Smoothed counts [negative, positive]: row0 [1, 3], row1 [1, 2], row2 [3, 2], row3 [1, 1]; totals 6 and 8.
    const ratio = (neg: number, pos: number) => Math.abs(Math.log(pos / 8 / (neg / 6))) + 0.1;
    expect(r[0]).toBeCloseTo(ratio(1, 3), 6);
    expect(r[1]).toBeCloseTo(ratio(1, 2), 6);
    expect(r[2]).toBeCloseTo(ratio(3, 2), 6);
    expect(r[3]).toBeCloseTo(ratio(1, 1), 6);
    const half = nbRowScale(examples, { tableRows: 4, numLabels: 2, power: 0.5 });
    expect(half[0]).toBeCloseTo(Math.sqrt(ratio(1, 3)), 6);
    expect(Array.from(nbRowScale(examples, { tableRows: 4, numLabels: 2, power: 0 }))).toEqual([1, 1, 1, 1]);
  });
});

function toyExamples(count: number, seed: number): TrainingExample[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const label = i % 2;
    const rows = Int32Array.from({ length: 3 + Math.floor(random() * 5) }, () =>
      random() < 0.6 ? label : 2 + Math.floor(random() * 20),
    );
    return { rows, label, weight: 1 };
  });
}

describe('linear trainer: feature values and epoch averaging', () => {
  const options = {
    tableRows: 30,
    numLabels: 2,
    normalization: 'sqrt' as const,
    epochs: 4,
    learningRate: 0.5,
    l2: 0,
    featureDropout: 0,
    seed: 3,
  };

  it('a row scale of 1 everywhere is the plain model; another scale changes the weights and is folded into them', () => {
    const examples = toyExamples(200, 1);
    const plain = trainLinearModel(examples, options);
    expect(trainLinearModel(examples, { ...options, rowScale: new Float32Array(30).fill(1) }).table).toEqual(
      plain.table,
    );
    const scale = Float32Array.from({ length: 30 }, (_, i) => (i < 2 ? 3 : 0.5));
    const scaled = trainLinearModel(examples, { ...options, rowScale: scale });
    expect(scaled.table).not.toEqual(plain.table);
    // Exported rows already carry the scale: the forward pass needs no feature values.
    const correct = examples.filter((e) => {
      const l = linearLogits(e.rows, scaled.table, scaled.bias, 'sqrt');
      return (l[1]! > l[0]! ? 1 : 0) === e.label;
    }).length;
    expect(correct / examples.length).toBeGreaterThan(0.9);
    expect(() => trainLinearModel(examples, { ...options, rowScale: new Float32Array(3) })).toThrow(/rowScale/);
  });

  it('trains on more examples than a spread argument list can hold (200,000)', () => {
    const examples = Array.from({ length: 200_000 }, (_, i) => ({
      rows: Int32Array.from([i % 2]),
      label: i % 2,
      weight: 1,
    }));
    const model = trainLinearModel(examples, { ...options, tableRows: 2, epochs: 1 });
    expect(model.table[3]! - model.table[2]!).toBeGreaterThan(0); // row 1 (seen with label 1) leans to label 1
  });

  it('averaging from the last epoch is the last epoch; from an earlier one it differs, and it is deterministic', () => {
    const examples = toyExamples(200, 2);
    const last = trainLinearModel(examples, options);
    expect(trainLinearModel(examples, { ...options, averageFromEpoch: 4 }).table).toEqual(last.table);
    const averaged = trainLinearModel(examples, { ...options, averageFromEpoch: 2 });
    expect(averaged.table).not.toEqual(last.table);
    expect(trainLinearModel(examples, { ...options, averageFromEpoch: 2 }).table).toEqual(averaged.table);
    expect(() => trainLinearModel(examples, { ...options, averageFromEpoch: 5 })).toThrow(/averageFromEpoch/);
  });
});

describe('source weighting', () => {
  const rows = (n: number): FeaturizedRow[] =>
    Array.from({ length: n }, () => ({ rows: Int32Array.from([0]), label: 0 }));

  it('gives a source a total weight proportional to rows^p, the weights averaging 1', () => {
    const sources = [{ train: rows(400) }, { train: rows(100) }, { train: rows(100), weight: 2 }];
    const w = sourceRowWeights(sources, 0.5);
    const totals = w.map((x, i) => x * sources[i]!.train.length);
    expect(totals[0]! / totals[1]!).toBeCloseTo(2, 10); // sqrt(400) / sqrt(100)
    expect(totals[2]! / totals[1]!).toBeCloseTo(2, 10); // its own multiplier
    expect(
      sourceRowWeights(sources.slice(0, 2), 0.5).reduce((s, x, i) => s + x * sources[i]!.train.length, 0),
    ).toBeCloseTo(500, 8);
    // p = 1: rows as they come, each weighing its source's multiplier.
    sourceRowWeights(sources, 1).forEach((x, i) => expect(x).toBeCloseTo(sources[i]!.weight ?? 1, 10));
    expect(sourceRowWeights(sources, undefined)).toEqual([1, 1, 2]);
  });
});

describe('leave-one-source-out cross-validation', () => {
  /** Feature 0 means positive in every source but "flipped", where feature 1 marks positives and 0 negatives. */
  function source(name: string, flipped: boolean, seed: number): SourceRows {
    const random = seededRandom(seed);
    const train = Array.from({ length: 120 }, (_, i): FeaturizedRow => {
      const label = i % 2;
      const signal = flipped ? 1 - label : label;
      return { rows: Int32Array.from([signal, 2 + Math.floor(random() * 10)]), label };
    });
    return { name, train, heldOut: train };
  }

  it('scores each source with a model that never saw it', () => {
    const sources = [source('a', false, 1), source('b', false, 2), source('c', true, 3), source('d', false, 4)];
    const folds = crossValidateBySource(sources, {
      tableRows: 12,
      numLabels: 2,
      hyperparameters: { ...DEFAULT_HYPERPARAMETERS, epochs: 3 },
      sourceWeightPower: 0.5,
    });
    expect(folds.map((f) => f.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(folds.map((f) => f.gold.length)).toEqual([120, 120, 120, 120]);
    // a and b agree with the majority of the others; c's pattern is learned from nowhere else, so held out it is inverted.
    expect(folds[0]!.accuracy).toBeGreaterThan(0.9);
    expect(folds[1]!.accuracy).toBeGreaterThan(0.9);
    expect(folds[2]!.accuracy).toBeLessThan(0.1);
    expect(() =>
      crossValidateBySource([sources[0]!], {
        tableRows: 12,
        numLabels: 2,
        hyperparameters: DEFAULT_HYPERPARAMETERS,
        sourceWeightPower: undefined,
      }),
    ).toThrow(/2 sources/);
  });
});

describe('sources on disk', () => {
  it('derives labels from star ratings (3 stars left out) and keeps id, rating and locale', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'r.jsonl'),
      [1, 2, 3, 4, 5]
        .map((rating) => JSON.stringify({ id: `r${rating}`, text: `text ${rating}`, rating, locale: 'en-IN' }))
        .join('\n'),
    );
    const data = await readLabeledData(join(dir, 'r.jsonl'), undefined, { labelFrom: 'rating' });
    expect(data.rows).toEqual([
      { id: 'r1', text: 'text 1', label: 'negative', rating: 1, locale: 'en-IN' },
      { id: 'r2', text: 'text 2', label: 'negative', rating: 2, locale: 'en-IN' },
      { id: 'r4', text: 'text 4', label: 'positive', rating: 4, locale: 'en-IN' },
      { id: 'r5', text: 'text 5', label: 'positive', rating: 5, locale: 'en-IN' },
    ]);
    expect(data.skipped).toBe(1);
    const stars = await readLabeledData(join(dir, 'r.jsonl'), undefined, { labelFrom: 'stars' });
    expect(stars.rows.map((r) => r.label)).toEqual(['1', '2', '3', '4', '5']);
    await writeFile(join(dir, 'bad.jsonl'), JSON.stringify({ text: 'x', rating: 7 }));
    await expect(readLabeledData(join(dir, 'bad.jsonl'), undefined, { labelFrom: 'rating' })).rejects.toMatchObject({
      code: 'SF_ERR_IMPORT',
    });
  });

  it('keeps a fixed tenth of a source without dev files out of training, picked by the row id', async () => {
    const dir = await tempDir();
    const lines = Array.from({ length: 500 }, (_, i) =>
      JSON.stringify({ id: `s-${i}`, text: `review ${i}`, label: i % 2 ? 'positive' : 'negative' }),
    );
    await writeFile(join(dir, 's.jsonl'), lines.join('\n'));
    const loaded = await loadSource({
      name: 's',
      train: [join(dir, 's.jsonl')],
      dev: [],
      devEvery: 10,
      heldOut: 'all',
    });
    const devIds = loaded.dev[0]!.rows.map((r) => r.id);
    expect(loaded.dev[0]!.file).toBe(devSliceName(join(dir, 's.jsonl'), 10));
    expect(devIds.length).toBeGreaterThan(30);
    expect(devIds.length).toBeLessThan(70);
    expect(loaded.train.some((r) => devIds.includes(r.id))).toBe(false);
    expect(loaded.train.length + devIds.length).toBe(500);
    expect(loaded.heldOut).toHaveLength(500);
    expect(devIds.every((id) => inDevSlice({ id: id!, text: '' }, 10))).toBe(true);
    expect(loaded.trainFiles).toEqual([
      { file: join(dir, 's.jsonl'), rows: loaded.train.length, skipped: 0, devRows: devIds.length },
    ]);
    // The slice depends on the id only: the same rows in another order give the same split.
    await writeFile(join(dir, 't.jsonl'), [...lines].reverse().join('\n'));
    const again = await loadSource({ name: 't', train: [join(dir, 't.jsonl')], dev: [], devEvery: 10, heldOut: 'dev' });
    expect(again.dev[0]!.rows.map((r) => r.id).sort()).toEqual([...devIds].sort());
    expect(again.heldOut.map((r) => r.id).sort()).toEqual([...devIds].sort());
  });
});

describe('float16 weight table', () => {
  it('computes the forward pass over the half-precision weights, in float32', async () => {
    const spec = { vocabSize: 2000, buckets: 1031, maxOrder: 2, excludedIds: [1, 2], normalization: 'sqrt' as const };
    const random = seededRandom(5);
    const table = Float32Array.from({ length: (2000 + 1031) * 3 }, () => (random() * 2 - 1) * 3);
    const bias = Float32Array.from([0.1, -0.2, 0.05]);
    const model = buildHashedNgramGraph({ spec, table, bias, weightType: 'float16' });
    const full = buildHashedNgramGraph({ spec, table, bias });
    expect(model.byteLength).toBeLessThan(full.byteLength * 0.6);
    const session = await ort.InferenceSession.create(model);
    try {
      const rows = [
        [1, 5, 7, 1999, 9, 2],
        [1, 40, 2],
      ];
      const { inputIds, attentionMask, length } = padBatch(rows, 0);
      const out = await session.run({
        input_ids: new ort.Tensor('int64', inputIds, [2, length]),
        attention_mask: new ort.Tensor('int64', attentionMask, [2, length]),
      });
      const logits = out.logits!.data as Float32Array;
      const half = table.map((x) => f16round(x));
      expect(half).not.toEqual(table);
      rows.forEach((ids, i) => {
        const expected = linearLogits(ngramFeatureRows(ids, spec), half, bias, 'sqrt');
        for (let j = 0; j < 3; j++) expect(Math.abs(logits[i * 3 + j]! - expected[j]!)).toBeLessThan(1e-5);
      });
    } finally {
      await session.release();
    }
  });
});
