import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { createModelRunner } from '../../src/inference/model-runner.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { padBatch } from '../../src/tokenize/encoder.ts';
import { buildWordPieceTokenizerJson } from '../../src/tokenize/wordpiece-tokenizer-json.ts';
import { classificationMetrics } from '../../src/training/classification-metrics.ts';
import { evaluateModel } from '../../src/training/evaluate-model.ts';
import {
  hashStep,
  HASH_PRIME,
  linearLogits,
  NEGATION_STATE,
  negationRow,
  ngramFeatureRows,
  validateSpec,
  type Normalization,
} from '../../src/model-format/hashed-ngram-features.ts';
import { negatedPositions } from '../../src/model-format/negation-scope.ts';
import { buildHashedNgramGraph } from '../../src/training/hashed-ngram-graph.ts';
import { labelSet, readLabeledData } from '../../src/training/labeled-data-reader.ts';
import { trainLinearModel, type TrainingExample } from '../../src/training/linear-trainer.ts';
import { createNgramFeaturizer, type TokenizerFiles } from '../../src/training/ngram-featurizer.ts';
import { seededRandom } from '../../src/training/seeded-random.ts';
import { trainModel } from '../../src/training/train-model.ts';
import { tensorFloats } from '../../src/model-format/onnx-tensor-values.ts';

const { onnx } = onnxProto;
const config = defaultConfig({ LOG_LEVEL: 'silent' });
const logger = createLogger({ level: 'silent', format: 'json' });
const runnerOptions = {
  truncation: 'head-tail' as const,
  intraOpThreads: 1,
  groups: { maxTokens: 8192, maxPadding: 0.1 },
};

const REVIEWS = [
  'Great little kettle. Boils fast, switches off by itself and looks nice on the counter.',
  "Don't buy this. It broke after two weeks and the seller never answered my emails!",
  'the film is a sweet , funny , and ultimately moving portrait of a family .',
  'ok',
  'Five stars: the best book I read this year — heartbreaking, wise and funny at once. Highly recommended to anyone who loved her first novel.',
  // "[CLS]" in the text tokenizes to the special id (excluded mid-sequence too); the emoji is [UNK].
  'meh. [CLS] in the middle of a review, and an émoji 🤷',
];

let tokenizer: TokenizerFiles;
const tempDirs: string[] = [];
beforeAll(() => {
  const built = buildWordPieceTokenizerJson();
  tokenizer = { tokenizerJson: built.tokenizerJson, tokenizerConfig: built.tokenizerConfig as Record<string, unknown> };
});
afterAll(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hashed-ngram-'));
  tempDirs.push(dir);
  return dir;
}

function randomWeights(rows: number, labels: number, seed: number): { table: Float32Array; bias: Float32Array } {
  const random = seededRandom(seed);
  return {
    table: Float32Array.from({ length: rows * labels }, () => random() * 2 - 1),
    bias: Float32Array.from({ length: labels }, () => random() - 0.5),
  };
}

describe('hashed n-gram features', () => {
  it('hashes exactly (every intermediate below 2^53) and into range', () => {
    const state = hashStep(HASH_PRIME - 1, 4_194_303);
    expect(state).toBeGreaterThanOrEqual(0);
    expect(state).toBeLessThan(HASH_PRIME);
    expect(
      Number(
        (((BigInt(HASH_PRIME - 1) * 1_000_003n + 4_194_303n) % BigInt(HASH_PRIME)) * 2_903_333n) % BigInt(HASH_PRIME),
      ),
    ).toBe(state);
  });

  it('skips special tokens and n-grams that touch them', () => {
    const spec = { vocabSize: 200, buckets: 50, maxOrder: 3, excludedIds: [101, 102], normalization: 'mean' as const };
    // [CLS] 5 6 [SEP] → unigrams 5, 6; one bigram (5, 6); no trigram.
    const rows = ngramFeatureRows([101, 5, 6, 102], spec);
    expect(Array.from(rows.slice(0, 2))).toEqual([5, 6]);
    expect(rows).toHaveLength(3);
    expect(rows[2]).toBe(200 + (hashStep(5, 6) % 50));
    expect(() => ngramFeatureRows([101, 200, 102], spec)).toThrow(/outside the vocabulary/);
  });
});

describe('negation scope', () => {
  // cue 7, pair (8, 9), stops 1 (punctuation) and 101/102 (special), window 2.
  const n = { cueIds: [7], cuePairs: [[8, 9]] as [number, number][], stopIds: [1, 101, 102], window: 2 };

  it('negates up to window tokens after a cue, stops at a stop, restarts at a new cue', () => {
    // [CLS] 7 20 21 22 [SEP]: 20 and 21 negated, 22 out of the window.
    expect(negatedPositions([101, 7, 20, 21, 22, 102], n)).toEqual([2, 3]);
    // 7 20 . 21: the stop ends the scope and is never negated.
    expect(negatedPositions([101, 7, 20, 1, 21, 102], n)).toEqual([2]);
    // 7 20 7 21 22: the second cue is itself negated and starts a new window.
    expect(negatedPositions([101, 7, 20, 7, 21, 22, 102], n)).toEqual([2, 3, 4, 5]);
    // The pair (8, 9) cues from the 9 on; 9 alone does not; a cue last in the text negates nothing.
    expect(negatedPositions([101, 8, 9, 20, 102], n)).toEqual([3]);
    expect(negatedPositions([101, 9, 20, 102], n)).toEqual([]);
    expect(negatedPositions([101, 20, 7, 102], n)).toEqual([]);
  });

  it('adds one "(not) token" row per negated position, after the n-grams', () => {
    const spec = {
      vocabSize: 200,
      buckets: 50,
      maxOrder: 1,
      excludedIds: [101, 102],
      normalization: 'mean' as const,
      negation: n,
    };
    expect(Array.from(ngramFeatureRows([101, 7, 20, 102], spec))).toEqual([7, 20, negationRow(20, spec)]);
    expect(negationRow(20, spec)).toBe(200 + (hashStep(NEGATION_STATE, 20) % 50));
    expect(() => validateSpec({ ...spec, negation: { ...n, stopIds: [7] } })).toThrow(/cannot also end a scope/);
    expect(() => validateSpec({ ...spec, negation: { ...n, window: 9 } })).toThrow(/window must be 1..8/);
  });
});

const NEGATED = [
  "It is not very good, but not bad either. I wouldn't buy it again; never.",
  'no no no never not',
  'works fine, nothing wrong with it',
  // A stop between a cue and a token within the window ends the scope: none of good, great, happy is negated.
  'Not. Good, no! Great - never, happy',
];

describe('ONNX graph = TypeScript forward pass', () => {
  for (const [normalization, maxOrder, negationWindow, boundaryTokens] of [
    ['sqrt', 2, 0, false],
    ['mean', 3, 0, false],
    ['sqrt', 2, 3, true],
    ['mean', 3, 1, false],
  ] as [Normalization, number, number, boolean][]) {
    const texts = negationWindow > 0 ? [...REVIEWS, ...NEGATED] : REVIEWS;
    it(`agrees within 1e-4 on real texts in one padded batch (${normalization}, n ≤ ${maxOrder}${negationWindow ? `, negation ${negationWindow}` : ''}${boundaryTokens ? ', boundary tokens' : ''})`, async () => {
      const featurizer = createNgramFeaturizer(tokenizer, {
        buckets: 4099,
        maxOrder,
        normalization,
        maxLength: 512,
        truncation: 'head-tail',
        negationWindow,
        boundaryTokens,
      });
      expect(featurizer.spec.excludedIds).toEqual(boundaryTokens ? [] : [101, 102]);
      if (negationWindow > 0)
        expect(
          texts
            .map(
              (t) =>
                featurizer.featurize(t).length -
                ngramFeatureRows(featurizer.encode(t).ids, { ...featurizer.spec, negation: undefined }).length,
            )
            .filter((k) => k > 0).length,
        ).toBeGreaterThan(3);
      const labels = 3;
      const { table, bias } = randomWeights(featurizer.spec.vocabSize + featurizer.spec.buckets, labels, 7);
      const session = await ort.InferenceSession.create(buildHashedNgramGraph({ spec: featurizer.spec, table, bias }));
      try {
        const encoded = texts.map((t) => featurizer.encode(t).ids);
        const { inputIds, attentionMask, length } = padBatch(encoded, 0);
        const dims = [encoded.length, length];
        const out = await session.run({
          input_ids: new ort.Tensor('int64', inputIds, dims),
          attention_mask: new ort.Tensor('int64', attentionMask, dims),
        });
        const logits = out.logits!.data as Float32Array;
        expect(out.logits!.dims).toEqual([texts.length, labels]);
        texts.forEach((text, i) => {
          const expected = linearLogits(featurizer.featurize(text), table, bias, normalization);
          for (let j = 0; j < labels; j++) expect(Math.abs(logits[i * labels + j]! - expected[j]!)).toBeLessThan(1e-4);
        });
      } finally {
        await session.release();
      }
    });
  }
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

describe('linear trainer', () => {
  const options = {
    tableRows: 30,
    numLabels: 2,
    normalization: 'sqrt' as const,
    epochs: 3,
    learningRate: 0.5,
    l2: 1e-4,
    featureDropout: 0.1,
    seed: 1,
  };

  it('is deterministic for a seed and differs across seeds', () => {
    const examples = toyExamples(200, 3);
    const a = trainLinearModel(examples, options);
    const b = trainLinearModel(examples, options);
    const c = trainLinearModel(examples, { ...options, seed: 2 });
    expect(Buffer.from(a.table.buffer).equals(Buffer.from(b.table.buffer))).toBe(true);
    expect(Buffer.from(a.bias.buffer).equals(Buffer.from(b.bias.buffer))).toBe(true);
    expect(Buffer.from(a.table.buffer).equals(Buffer.from(c.table.buffer))).toBe(false);
    expect(a.epochLosses.at(-1)!).toBeLessThan(a.epochLosses[0]!);
  });

  it('rejects bad options', () => {
    expect(() => trainLinearModel([], options)).toThrow(/no training examples/);
    expect(() => trainLinearModel(toyExamples(4, 1), { ...options, numLabels: 1 })).toThrow(/numLabels/);
  });
});

const TOY_WORDS = {
  negative: ['awful', 'broken', 'terrible', 'refund', 'worst', 'junk'],
  neutral: ['arrived', 'tuesday', 'box', 'manual', 'color', 'size'],
  positive: ['great', 'love', 'excellent', 'perfect', 'wonderful', 'best'],
} as const;

/** JSON Lines of 3-class toy reviews: two words of the class among filler words, sometimes a title. */
function toyJsonl(count: number, seed: number): string {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const labels = Object.keys(TOY_WORDS) as (keyof typeof TOY_WORDS)[];
  return Array.from({ length: count }, (_, i) => {
    const label = labels[i % 3]!;
    const words = [
      pick(['the', 'it', 'this', 'my']),
      pick(TOY_WORDS[label]),
      pick(['was', 'is', 'came']),
      pick(TOY_WORDS[label]),
      pick(['today', 'overall', 'really']),
    ];
    const row =
      i % 4 === 0
        ? { id: `t${i}`, title: pick(TOY_WORDS[label]), text: words.join(' '), label }
        : { id: `t${i}`, text: words.join(' '), label };
    return JSON.stringify(row);
  }).join('\n');
}

describe('train → model directory → createModelRunner', () => {
  it('learns a 3-class toy task, writes a loadable directory, and is byte-for-byte reproducible', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'train.jsonl'), toyJsonl(300, 1));
    await writeFile(join(dir, 'dev.jsonl'), toyJsonl(60, 2));
    const options = (out: string, seed: number) => ({
      data: [join(dir, 'train.jsonl')],
      dev: [join(dir, 'dev.jsonl')],
      out: join(dir, out),
      command: 'test',
      hyperparameters: { buckets: 1024, epochs: 8, learningRate: 0.5, seed },
    });
    const a = await trainModel(options('a', 5), { config, logger });
    const b = await trainModel(options('b', 5), { config, logger });
    const c = await trainModel(options('c', 6), { config, logger });

    expect(a.labels).toEqual(['negative', 'neutral', 'positive']);
    const modelA = await readFile(join(dir, 'a', 'model.onnx'));
    expect(modelA.equals(await readFile(join(dir, 'b', 'model.onnx')))).toBe(true);
    expect(modelA.equals(await readFile(join(dir, 'c', 'model.onnx')))).toBe(false);
    expect(a.version).toBe(b.version);
    expect(a.version).not.toBe(c.version);
    expect(a.dev!.files[0]!.accuracy).toBeGreaterThanOrEqual(0.95);

    const configJson = JSON.parse(await readFile(join(dir, 'a', 'config.json'), 'utf8'));
    expect(configJson).toMatchObject({
      model_type: 'hashed-ngram-linear',
      max_position_embeddings: 512,
      problem_type: 'single_label_classification',
      sf_version: a.version,
      id2label: { 0: 'negative', 1: 'neutral', 2: 'positive' },
      label2id: { negative: 0, neutral: 1, positive: 2 },
    });
    const card = await readFile(join(dir, 'a', 'MODEL_CARD.md'), 'utf8');
    expect(card).toContain('| seed | 5 |');
    expect(card).toContain('train.jsonl');

    const runner = await createModelRunner({ modelDir: join(dir, 'a'), ...runnerOptions });
    try {
      expect(runner.info).toMatchObject({
        labels: ['negative', 'neutral', 'positive'],
        version: a.version,
        modelType: 'hashed-ngram-linear',
        maxTokens: 512,
      });
      const { items } = await runner.score([
        'this was excellent, I love it',
        'it arrived broken, terrible',
        'the box came tuesday',
      ]);
      expect(items.map((i) => (i.ok ? i.label : i.error.code))).toEqual(['positive', 'negative', 'neutral']);
    } finally {
      await runner.close();
    }
  });

  it('scores through createModelRunner as the TypeScript forward pass over the written weights', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'train.jsonl'), toyJsonl(90, 3));
    await trainModel(
      {
        data: [join(dir, 'train.jsonl')],
        out: join(dir, 'm'),
        command: 'test',
        hyperparameters: { buckets: 512, epochs: 2 },
      },
      { config, logger },
    );
    const featurizer = createNgramFeaturizer(tokenizer, {
      buckets: 512,
      maxOrder: 2,
      normalization: 'sqrt',
      maxLength: 512,
      truncation: 'head-tail',
    });
    const graph = onnx.ModelProto.decode(await readFile(join(dir, 'm', 'model.onnx'))).graph!;
    const initializer = (name: string) => graph.initializer!.find((t) => t.name === name)!;
    // The default stores the table in float16 (half the bytes); the bias stays float32.
    expect(initializer('ngram_weights').dataType).toBe(onnx.TensorProto.DataType.FLOAT16);
    const table = tensorFloats(initializer('ngram_weights'))!;
    const bias = tensorFloats(initializer('bias'))!;
    expect(table).toHaveLength((30_522 + 512) * 3);
    const runner = await createModelRunner({ modelDir: join(dir, 'm'), ...runnerOptions });
    try {
      const { items } = await runner.score(REVIEWS);
      REVIEWS.forEach((text, i) => {
        const logits = linearLogits(featurizer.featurize(text), table, bias, 'sqrt');
        const max = Math.max(...logits);
        const exp = Array.from(logits, (l) => Math.exp(l - max));
        const sum = exp.reduce((a, b) => a + b, 0);
        const item = items[i]!;
        if (!item.ok) throw new Error(item.error.message);
        ['negative', 'neutral', 'positive'].forEach((label, j) =>
          expect(Math.abs(item.scores[label]! - exp[j]! / sum)).toBeLessThan(1e-4),
        );
      });
    } finally {
      await runner.close();
    }
  });

  it('rejects unusable options with SF_ERR_CONFIG and unreadable data with SF_ERR_IMPORT', async () => {
    const dir = await tempDir();
    await expect(trainModel({ out: join(dir, 'x'), command: 'test' }, { config, logger })).rejects.toMatchObject({
      code: 'SF_ERR_CONFIG',
    });
    await expect(
      trainModel({ data: [join(dir, 'missing.jsonl')], out: join(dir, 'x'), command: 'test' }, { config, logger }),
    ).rejects.toMatchObject({ code: 'SF_ERR_IMPORT' });
    await writeFile(join(dir, 'one.jsonl'), '{"text":"fine","label":"positive"}\n');
    await expect(
      trainModel({ data: [join(dir, 'one.jsonl')], out: join(dir, 'x'), command: 'test' }, { config, logger }),
    ).rejects.toMatchObject({ code: 'SF_ERR_CONFIG' });
    await expect(
      trainModel(
        { data: [join(dir, 'one.jsonl')], out: join(dir, 'x'), command: 'test', hyperparameters: { maxOrder: 4 } },
        { config, logger },
      ),
    ).rejects.toMatchObject({ code: 'SF_ERR_CONFIG' });
  });
});

describe('labeled data and metrics', () => {
  it('reads CSV and TSV with field options, joins titles as the workers do, orders numeric labels', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'r.csv'),
      'stars,headline,body\n5,Superb,"Works well, ""really"""\n1,,Broke\n10,Fine!,ok\n',
    );
    await writeFile(join(dir, 'r.tsv'), 'label\ttext\npositive\tsays "hi" fine\n');
    const fields = { textField: 'body', labelField: 'stars', titleField: 'headline' };
    const csv = await readLabeledData(join(dir, 'r.csv'), fields);
    expect(csv.rows).toEqual([
      { text: 'Superb. Works well, "really"', label: '5' },
      { text: 'Broke', label: '1' },
      { text: 'Fine! ok', label: '10' },
    ]);
    expect(labelSet([csv])).toEqual(['1', '5', '10']);
    const tsv = await readLabeledData(join(dir, 'r.tsv'), {
      textField: 'text',
      labelField: 'label',
      titleField: undefined,
    });
    expect(tsv.rows).toEqual([{ text: 'says "hi" fine', label: 'positive' }]);
    await expect(readLabeledData(join(dir, 'r.csv'))).rejects.toMatchObject({
      code: 'SF_ERR_IMPORT',
      message: expect.stringContaining('--text-field'),
    });
    await expect(readLabeledData(join(dir, 'r.txt'))).rejects.toMatchObject({ code: 'SF_ERR_IMPORT' });
  });

  it('computes accuracy, macro-F1, per-class precision/recall and the confusion matrix', () => {
    const m = classificationMetrics(['a', 'b', 'c'], [0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, -1]);
    expect(m.accuracy).toBeCloseTo(4 / 6);
    expect(m.unscored).toBe(1);
    expect(m.confusion.matrix).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [0, 0, 1],
    ]);
    expect(m.perClass.b).toMatchObject({ precision: 2 / 3, recall: 1, support: 2 });
    expect(m.perClass.c).toMatchObject({ precision: 1, recall: 0.5 });
    expect(m.macroF1).toBeCloseTo((2 / 3 + 0.8 + 2 / 3) / 3);
  });

  it('evaluates through the runner and fails clearly on labels the model does not have', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'train.jsonl'), toyJsonl(60, 4));
    await trainModel(
      {
        data: [join(dir, 'train.jsonl')],
        out: join(dir, 'm'),
        command: 'test',
        hyperparameters: { buckets: 256, epochs: 2 },
      },
      { config, logger },
    );
    await writeFile(join(dir, 'odd.jsonl'), '{"text":"great","label":"POSITIVE"}\n{"text":"bad","label":"mixed"}\n');
    await expect(
      evaluateModel({ modelDir: join(dir, 'm'), data: [join(dir, 'odd.jsonl')], ...runnerOptions }),
    ).rejects.toMatchObject({
      code: 'SF_ERR_CONFIG',
      message: expect.stringContaining('"mixed"'),
    });
  });
});
