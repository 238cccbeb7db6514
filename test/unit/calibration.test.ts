import { describe, expect, it } from 'vitest';
import { readModelSpec } from '../../src/model-format/model-dir.ts';
import { probabilities } from '../../src/inference/scores.ts';
import { calibrationReport, fitTemperature, softmaxWithTemperature } from '../../src/training/calibration.ts';
import { reliabilityDiagramSvg } from '../../src/training/reliability-diagram.ts';
import { seededRandom } from '../../src/training/seeded-random.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Rows whose gold labels are drawn from softmax(logits / trueT): a model overconfident by trueT. */
function synthetic(rows: number, trueT: number, seed: number): { logits: Float64Array[]; gold: number[] } {
  const random = seededRandom(seed);
  const logits: Float64Array[] = [];
  const gold: number[] = [];
  for (let i = 0; i < rows; i++) {
    const l = Float64Array.from([0, (random() * 2 - 1) * 8]);
    const p = softmaxWithTemperature(l, trueT);
    logits.push(l);
    gold.push(random() < p[1]! ? 1 : 0);
  }
  return { logits, gold };
}

describe('expected calibration error', () => {
  it('sums |accuracy − confidence| over the bins, weighted by their rows', () => {
    // Bin 0.9–1.0: two rows at 0.95, one right → |0.5 − 0.95| · 2/4. Bin 0.6–0.7: two rows at 0.6, both right → |1 − 0.6| · 2/4.
    const probs = [
      [0.05, 0.95],
      [0.95, 0.05],
      [0.4, 0.6],
      [0.6, 0.4],
    ];
    const report = calibrationReport(probs, [1, 1, 1, 0]);
    expect(report.rows).toBe(4);
    expect(report.ece).toBeCloseTo(0.45 * 0.5 + 0.4 * 0.5, 10);
    expect(report.bins[9]).toMatchObject({ rows: 2, accuracy: 0.5 });
    expect(report.bins[9]!.confidence).toBeCloseTo(0.95, 10);
    expect(report.bins[6]).toMatchObject({ rows: 2, accuracy: 1 });
    expect(report.bins[3]!.rows).toBe(0);
    expect(report.nll).toBeCloseTo(-(Math.log(0.95) + Math.log(0.05) + Math.log(0.6) + Math.log(0.6)) / 4, 10);
  });

  it('skips unscored rows (gold −1 or no probabilities)', () => {
    const report = calibrationReport([[0.2, 0.8], [], [0.5, 0.5]], [1, 0, -1]);
    expect(report.rows).toBe(1);
    expect(report.ece).toBeCloseTo(0.2, 10);
  });

  it('puts a confidence of exactly 1 in the last bin', () => {
    expect(calibrationReport([[0, 1]], [1]).bins[9]!.rows).toBe(1);
  });
});

describe('temperature scaling', () => {
  it('recovers the temperature of an overconfident model and lowers its ECE', () => {
    const { logits, gold } = synthetic(20_000, 2.5, 7);
    const t = fitTemperature(logits, gold);
    expect(t).toBeGreaterThan(2.3);
    expect(t).toBeLessThan(2.7);
    const before = calibrationReport(
      logits.map((l) => softmaxWithTemperature(l, 1)),
      gold,
    ).ece;
    const after = calibrationReport(
      logits.map((l) => softmaxWithTemperature(l, t)),
      gold,
    ).ece;
    expect(before).toBeGreaterThan(0.08);
    expect(after).toBeLessThan(0.02);
  });

  it('finds T < 1 for an underconfident model, and honours row weights', () => {
    const under = synthetic(20_000, 0.5, 8);
    expect(fitTemperature(under.logits, under.gold)).toBeLessThan(0.6);
    // Weight 0 on the underconfident half: the fit follows the other half only.
    const over = synthetic(20_000, 2, 9);
    const weights = [...under.gold.map(() => 0), ...over.gold.map(() => 1)];
    const t = fitTemperature([...under.logits, ...over.logits], [...under.gold, ...over.gold], weights);
    expect(t).toBeGreaterThan(1.8);
    expect(t).toBeLessThan(2.2);
  });

  it("the workers divide the logits by the model's temperature before the softmax and the sigmoid", () => {
    const logits = Float32Array.from([9, 0.5, -1.25, 2]);
    const t = 2.5;
    const probs = probabilities(logits, 1, 3, false, t);
    const expected = softmaxWithTemperature([0.5, -1.25, 2], t);
    probs.forEach((p, i) => expect(p).toBeCloseTo(expected[i]!, 12));
    expect(probabilities(logits, 1, 3, false)).not.toEqual(probs);
    expect(probabilities(logits, 0, 1, true, t)[0]).toBeCloseTo(1 / (1 + Math.exp(-9 / t)), 12);
  });
});

describe('calibration in a model directory', () => {
  function modelDir(calibration: unknown): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-calibration-'));
    fs.writeFileSync(path.join(dir, 'model.onnx'), 'x');
    fs.writeFileSync(
      path.join(dir, 'tokenizer.json'),
      JSON.stringify({ model: { type: 'WordPiece', vocab: { a: 0 } } }),
    );
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), '{}');
    fs.writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({
        id2label: { 0: 'negative', 1: 'positive' },
        ...(calibration === undefined ? {} : { calibration }),
      }),
    );
    return dir;
  }

  it('reads the temperature from config.json, 1 when there is none', () => {
    expect(readModelSpec(modelDir(undefined)).temperature).toBe(1);
    expect(readModelSpec(modelDir({ method: 'temperature', temperature: 1.25, fitted_on: 'x' })).temperature).toBe(
      1.25,
    );
  });

  it('refuses a malformed calibration with SF_ERR_MODEL_LOAD naming config.json', () => {
    for (const bad of [
      { method: 'platt', temperature: 1 },
      { method: 'temperature', temperature: 0 },
      { method: 'temperature', temperature: -2 },
      { method: 'temperature' },
      'warm',
      null,
    ]) {
      expect(() => readModelSpec(modelDir(bad)), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'SF_ERR_MODEL_LOAD', message: expect.stringContaining('config.json') }),
      );
    }
  });
});

describe('reliability diagram', () => {
  it('draws one bar per non-empty bin and series, with the ECE in the legend', () => {
    const report = calibrationReport(
      [
        [0.05, 0.95],
        [0.95, 0.05],
        [0.4, 0.6],
      ],
      [1, 1, 1],
    );
    const svg = reliabilityDiagramSvg('test <model>', [
      { name: 'a', report },
      { name: 'b', report },
    ]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect [^>]+><title>/g)).toHaveLength(2 * 2);
    expect(svg).toContain('test &lt;model&gt;');
    expect(svg).toContain(`a: ECE ${report.ece.toFixed(4)} (3 rows)`);
  });
});
