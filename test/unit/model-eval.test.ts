import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { createModelRunner } from '../../src/inference/model-runner.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { evaluateModel } from '../../src/training/evaluate-model.ts';
import { compareModels, formatComparison, mcnemarExact } from '../../src/training/model-comparison.ts';
import { seededRandom } from '../../src/training/seeded-random.ts';
import { trainModel } from '../../src/training/train-model.ts';

const config = defaultConfig({ LOG_LEVEL: 'silent' });
const logger = createLogger({ level: 'silent', format: 'json' });
const runnerOptions = {
  truncation: 'head-tail' as const,
  intraOpThreads: 1,
  groups: { maxTokens: 8192, maxPadding: 0.1 },
};

const POSITIVE = ['great', 'love', 'excellent', 'perfect', 'wonderful', 'best'];
const NEGATIVE = ['awful', 'broken', 'terrible', 'refund', 'worst', 'junk'];
const FILLER = ['the', 'it', 'box', 'arrived', 'color', 'size', 'phone', 'cable', 'was', 'is'];

/** Toy reviews of one "shop": a sentiment word among filler words, a rating, a locale; `noise` of them mislabeled. */
function shopJsonl(shop: string, count: number, seed: number, noise: number): string {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  return Array.from({ length: count }, (_, i) => {
    const positive = i % 2 === 0;
    const words = [pick(FILLER), pick(positive ? POSITIVE : NEGATIVE), pick(FILLER), pick(FILLER), `${shop}word`];
    const flip = random() < noise;
    const rating = positive !== flip ? 4 + (i % 4 === 0 ? 1 : 0) : 1 + (i % 4 === 1 ? 1 : 0);
    return JSON.stringify({
      id: `${shop}-${i}`,
      text: words.join(' '),
      label: rating >= 4 ? 'positive' : 'negative',
      rating,
      locale: i % 3 === 0 ? 'en-IN' : 'en-US',
    });
  }).join('\n');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sf-model-eval-'));
  for (const [shop, seed] of [
    ['alpha', 1],
    ['beta', 2],
    ['gamma', 3],
  ] as const)
    await writeFile(join(dir, `${shop}.jsonl`), shopJsonl(shop, 120, seed, 0.05));
  await writeFile(join(dir, 'dev.jsonl'), shopJsonl('delta', 90, 4, 0.05));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('mcnemar', () => {
  it('is the exact two-sided binomial test on the discordant rows', () => {
    expect(mcnemarExact(0, 0)).toBe(1);
    expect(mcnemarExact(5, 5)).toBe(1);
    expect(mcnemarExact(10, 0)).toBeCloseTo(2 / 1024, 12);
    expect(mcnemarExact(12, 3)).toBeCloseTo((2 * (1 + 15 + 105 + 455)) / 32768, 12);
    expect(mcnemarExact(3, 12)).toBe(mcnemarExact(12, 3));
    // Large counts stay finite and exact in log space.
    expect(mcnemarExact(2600, 2400)).toBeGreaterThan(0.004);
    expect(mcnemarExact(2600, 2400)).toBeLessThan(0.006);
  });
});

describe('train --cv → calibrated model directory', () => {
  it('cross-validates by source, stores the fitted temperature, and the workers apply it', async () => {
    const data = ['alpha', 'beta', 'gamma'].map((s) => join(dir, `${s}.jsonl`));
    const result = await trainModel(
      {
        data,
        dev: [join(dir, 'dev.jsonl')],
        out: join(dir, 'cv'),
        command: 'test',
        crossValidate: true,
        sourceWeightPower: 0.5,
        hyperparameters: { buckets: 1024, epochs: 4 },
      },
      { config, logger },
    );
    expect(result.cv!.sources.map((s) => s.name)).toEqual(data);
    for (const s of result.cv!.sources) expect(s.accuracy).toBeGreaterThan(0.8);
    const configJson = JSON.parse(await readFile(join(dir, 'cv', 'config.json'), 'utf8'));
    expect(configJson.calibration).toEqual({
      method: 'temperature',
      temperature: Number(result.cv!.temperature.toFixed(4)),
      fitted_on: expect.any(String),
      held_out_ece_before: expect.any(Number),
      held_out_ece_after: expect.any(Number),
    });
    expect(configJson.calibration.temperature).not.toBe(1);
    expect(await readFile(join(dir, 'cv', 'reliability.svg'), 'utf8')).toContain('<svg');
    const card = await readFile(join(dir, 'cv', 'MODEL_CARD.md'), 'utf8');
    expect(card).toContain('## Leave-one-source-out cross-validation');
    expect(card).toContain(`T = ${result.cv!.temperature.toFixed(4)}`);
    expect(result.dev!.model.temperature).toBe(configJson.calibration.temperature);
    // Without --cv there is no temperature.
    await trainModel(
      { data, out: join(dir, 'plain'), command: 'test', hyperparameters: { buckets: 1024, epochs: 4 } },
      { config, logger },
    );
    expect(JSON.parse(await readFile(join(dir, 'plain', 'config.json'), 'utf8'))).not.toHaveProperty('calibration');
    const [calibrated, plain] = await Promise.all(
      [join(dir, 'cv'), join(dir, 'plain')].map((m) => createModelRunner({ modelDir: m, ...runnerOptions })),
    );
    try {
      expect(calibrated!.info.temperature).toBe(configJson.calibration.temperature);
      expect(plain!.info.temperature).toBe(1);
    } finally {
      await Promise.all([calibrated!.close(), plain!.close()]);
    }
  });
});

describe('eval --group-by and --compare', () => {
  it('splits all rows by rating and locale, and reports calibration per file', async () => {
    await trainModel(
      {
        data: [join(dir, 'alpha.jsonl')],
        out: join(dir, 'a'),
        command: 'test',
        hyperparameters: { buckets: 512, epochs: 3 },
      },
      { config, logger },
    );
    const report = await evaluateModel({
      modelDir: join(dir, 'a'),
      data: [join(dir, 'dev.jsonl')],
      groupBy: 'rating',
      ...runnerOptions,
    });
    expect(report.groups!.by).toBe('rating');
    expect(report.groups!.groups.map((g) => g.group)).toEqual(['1', '2', '4', '5']);
    expect(report.groups!.groups.reduce((s, g) => s + g.rows, 0)).toBe(90);
    expect(report.files[0]!.calibration.rows).toBe(90);
    expect(report.overall.calibration.ece).toBeGreaterThanOrEqual(0);
    const byLocale = await evaluateModel({
      modelDir: join(dir, 'a'),
      data: [join(dir, 'dev.jsonl')],
      groupBy: 'locale',
      ...runnerOptions,
    });
    expect(byLocale.groups!.groups.map((g) => [g.group, g.rows])).toEqual([
      ['en-IN', 30],
      ['en-US', 60],
    ]);
  });

  it('compares two models on the same rows with a McNemar test', async () => {
    await trainModel(
      {
        data: [join(dir, 'beta.jsonl')],
        out: join(dir, 'b'),
        command: 'test',
        hyperparameters: { buckets: 512, epochs: 1, learningRate: 0.01 },
      },
      { config, logger },
    );
    const evaluate = (m: string) =>
      evaluateModel({
        modelDir: join(dir, m),
        data: [join(dir, 'dev.jsonl')],
        keepPredictions: true,
        ...runnerOptions,
      });
    const [a, b] = [await evaluate('a'), await evaluate('b')];
    const self = compareModels(a, a);
    expect(self.overall).toMatchObject({ difference: 0, onlyFirst: 0, onlySecond: 0, pValue: 1 });
    const c = compareModels(a, b);
    expect(c.overall.rows).toBe(90);
    expect(c.overall.difference).toBeCloseTo(b.overall.accuracy - a.overall.accuracy, 10);
    expect(c.overall.onlyFirst - c.overall.onlySecond).toBe(Math.round((a.overall.accuracy - b.overall.accuracy) * 90));
    expect(c.overall.pValue).toBe(mcnemarExact(c.overall.onlyFirst, c.overall.onlySecond));
    expect(formatComparison(c)).toContain('McNemar');
    await expect(async () =>
      compareModels(
        a,
        await evaluateModel({ modelDir: join(dir, 'b'), data: [join(dir, 'dev.jsonl')], ...runnerOptions }),
      ),
    ).rejects.toThrow(/keepPredictions/);
  });
});
