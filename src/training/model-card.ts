/**
 * MODEL_CARD.md of a trained model directory: what the model is, the data it was trained on
 * (sources, row counts, weights and terms), sizes, hyperparameters, the leave-one-source-out
 * table, calibration, dev-set metrics and the exact command. Deterministic: the same training run
 * writes the same card (no timings in it).
 */
import type { CvReport } from './cross-validation-report.ts';
import { dataTerms, RESEARCH_ONLY_NOTICE } from './data-terms.ts';
import type { EvalReport } from './evaluate-model.ts';
import type { HashedNgramHyperparameters } from './hashed-ngram-hyperparameters.ts';
import type { HashedNgramSpec } from '../model-format/hashed-ngram-features.ts';

export interface ModelCardInput {
  name: string;
  /** The model directory as given to train. */
  dir: string;
  version: string;
  labels: string[];
  spec: HashedNgramSpec;
  hyperparameters: HashedNgramHyperparameters;
  maxLength: number;
  truncation: string;
  tokenizerSource: string;
  training: { source: string; file: string; rows: number; skipped: number; devRows: number; untokenized: number }[];
  sourceWeights: { power: number | undefined; sources: { name: string; rows: number; weight: number }[] };
  labelCounts: Record<string, number>;
  epochLosses: number[];
  files: { name: string; bytes: number }[];
  dev: EvalReport | undefined;
  cv: CvReport | undefined;
  /** Cross-validated by this many row folds (one-source presets) instead of by source. */
  cvFolds?: number | undefined;
  /** Accuracy of an earlier model on the same held-out rows, per source, for the cross-validation table. */
  baseline?: { name: string; accuracy: Record<string, number> } | undefined;
  command: string;
  /** Extra paragraphs (e.g. how the preset's values were chosen). */
  notes: string | undefined;
}

const n = (x: number) => x.toLocaleString('en-US');
const f3 = (x: number) => x.toFixed(3);
const f4 = (x: number) => x.toFixed(4);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);

function devSection(dev: EvalReport | undefined): string[] {
  if (!dev) return ['No dev files were given.'];
  const stars = dev.overall.mae !== undefined;
  const lines = [
    "Scored through `createModelRunner`, the workers' scoring path (titles joined as the workers join them, head-tail truncation to 512 tokens,",
    `${dev.model.temperature === 1 ? 'no calibration temperature' : `calibration temperature ${dev.model.temperature}`}). Sources without dev files lend a tenth of their rows (picked by a hash of the row id), which the model never trained on.`,
    '',
    `| file | rows | accuracy | macro-F1 |${stars ? ' MAE (stars) |' : ''} ECE |`,
    `| --- | ---: | ---: | ---: |${stars ? ' ---: |' : ''} ---: |`,
    ...dev.files.map(
      (f) =>
        `| \`${f.file}\` | ${n(f.rows)} | ${f4(f.accuracy)} | ${f4(f.macroF1)} |${stars ? ` ${f4(f.mae!)} |` : ''} ${f4(f.calibration.ece)} |`,
    ),
    '',
    `Mean accuracy over the ${dev.files.length} file(s): ${f4(dev.meanAccuracy)}. All rows pooled: accuracy ${f4(dev.overall.accuracy)},${stars ? ` MAE ${f4(dev.overall.mae!)} stars,` : ''} ECE ${f4(dev.overall.calibration.ece)}.`,
  ];
  if (stars) {
    lines.push(
      '',
      'Confusion matrix, all dev rows pooled (rows: gold stars, columns: predicted):',
      '',
      `| | ${dev.model.labels.join(' | ')} |`,
      `| --- |${dev.model.labels.map(() => ' ---: |').join('')}`,
    );
    dev.overall.confusion.matrix.forEach((row, g) => lines.push(`| ${dev.model.labels[g]} | ${row.join(' | ')} |`));
  }
  const amazon = dev.files.filter((f) => f.file.includes('amazon-multidomain'));
  if (amazon.length > 0 && amazon.length < dev.files.length) {
    lines.push(
      `Mean accuracy over the ${amazon.length} Amazon multi-domain file(s): ${f4(mean(amazon.map((f) => f.accuracy)))}.`,
    );
  }
  return lines;
}

function cvSection(
  cv: CvReport | undefined,
  baseline: ModelCardInput['baseline'],
  folds: number | undefined,
): string[] {
  if (!cv)
    return [
      'Not cross-validated (train with `--cv` and at least two sources), so no calibration temperature was fitted either.',
      '',
    ];
  const b = baseline;
  const stars = cv.meanMae !== undefined;
  const maeHead = stars ? ' MAE (stars) |' : '';
  const what = folds === undefined ? 'held-out source' : 'held-out fold';
  const header = b
    ? `| ${what} | rows | ${b.name} | this model | macro-F1 |${maeHead} ECE softmax | ECE calibrated |`
    : `| ${what} | rows | accuracy | macro-F1 |${maeHead} ECE softmax | ECE calibrated |`;
  const rows = cv.sources.map((s) => {
    const base = b ? (b.accuracy[s.name] === undefined ? ' – |' : ` ${f3(b.accuracy[s.name]!)} |`) : '';
    return `| ${s.name} | ${n(s.rows)} |${base} ${f3(s.accuracy)} | ${f3(s.macroF1)} |${stars ? ` ${f3(s.mae!)} |` : ''} ${f3(s.eceBefore)} | ${f3(s.eceAfter)} |`;
  });
  const compared = b ? cv.sources.filter((s) => b.accuracy[s.name] !== undefined) : [];
  return [
    ...(folds === undefined
      ? [
          "Each row: a model trained on every other source with the same settings, scored on the held-out source's rows (all of them; SST-2: its",
          'dev sentences, since its train file holds phrases). This estimates accuracy on a shop the model has never seen.',
        ]
      : [
          `One source, so ${folds}-fold cross-validation instead: the training rows (the dev tenth left out) split into ${folds} folds by a hash of the row id;`,
          `each row of the table is a model trained on the other ${folds - 1} folds with the same settings, scored on the fold's rows.`,
        ]),
    '',
    header,
    `| --- | ---: |${b ? ' ---: |' : ''} ---: | ---: |${stars ? ' ---: |' : ''} ---: | ---: |`,
    ...rows,
    `| mean of ${cv.sources.length} | |${b ? ' |' : ''} ${f3(cv.meanAccuracy)} | |${stars ? ` ${f3(cv.meanMae!)} |` : ''} ${f3(cv.meanEceBefore)} | ${f3(cv.meanEceAfter)} |`,
    ...(b && compared.length > 0
      ? [
          `| mean of the ${compared.length} with a ${b.name} figure | | ${f3(mean(compared.map((s) => b.accuracy[s.name]!)))} | ${f3(mean(compared.map((s) => s.accuracy)))} | | | |`,
        ]
      : []),
    '',
    ...(b
      ? [
          `${b.name}: the previous default model on the same rows; it never saw these sources. It was trained on SST-2 and the Amazon multi-domain train files, so it has no held-out figure for those (–).`,
          '',
        ]
      : []),
    '## Calibration',
    '',
    `\`score\` is softmax(logits / T) with T = ${f4(cv.temperature)}, stored in config.json (\`calibration\`) and applied by the workers. T was fitted`,
    `by minimizing the negative log-likelihood of the held-out rows above, each ${folds === undefined ? 'source' : 'fold'} weighted equally.`,
    `Expected calibration error (10 bins of the top-label probability) on all ${n(cv.pooledBefore.rows)} held-out rows pooled: ${f4(cv.pooledBefore.ece)} with the`,
    `plain softmax, ${f4(cv.pooledAfter.ece)} calibrated (negative log-likelihood ${f4(cv.pooledBefore.nll)} → ${f4(cv.pooledAfter.nll)}). Reliability diagram: \`reliability.svg\`.`,
    '',
  ];
}

export function renderModelCard(c: ModelCardInput): string {
  const h = c.hyperparameters;
  const rows = c.spec.vocabSize + c.spec.buckets;
  const total = c.files.reduce((s, f) => s + f.bytes, 0);
  const orders = ['unigrams', 'unigrams and bigrams', 'unigrams, bigrams and trigrams'][c.spec.maxOrder - 1];
  const ngrams =
    c.spec.maxOrder === 1
      ? 'no n-grams'
      : `each ${c.spec.maxOrder === 2 ? 'bigram' : 'bigram and trigram'} of real tokens hashed into ${n(c.spec.buckets)} buckets`;
  const terms = [...new Set(c.training.map((t) => dataTerms(t.file)))];
  const researchOnly = terms.some((t) => t.researchOnly);
  const weightOf = new Map(c.sourceWeights.sources.map((s) => [s.name, s]));
  const rowWeight = (name: string) => {
    const s = weightOf.get(name);
    if (!s) return '';
    const p = c.sourceWeights.power;
    if (p === undefined) return String(s.weight);
    const all = c.sourceWeights.sources;
    const N = all.reduce((a, x) => a + x.rows, 0);
    const norm = all.reduce((a, x) => a + (x.rows > 0 ? Math.pow(x.rows, p) : 0), 0);
    return s.rows === 0 ? '0' : ((s.weight * Math.pow(s.rows, p) * N) / norm / s.rows).toFixed(3);
  };
  return [
    `# ${c.name}`,
    '',
    `${c.labels.every((l) => Number.isFinite(Number(l))) ? 'Star-rating' : 'Sentiment'} classifier for sentiment-fleet (labels: ${c.labels.join(', ')}), version \`${c.version}\`. A fastText-style linear model`,
    `over hashed WordPiece ${orders}; the n-gram hashing runs inside the ONNX graph, so the workers load it like any`,
    'Hugging Face style model directory (inputs `input_ids`, `attention_mask` int64 [batch, seq]; output `logits` float32 [batch, labels]).',
    '',
    ...(researchOnly ? [`**Terms: ${RESEARCH_ONLY_NOTICE}**`, ''] : []),
    '## Model',
    '',
    `- Tokenizer: ${c.tokenizerSource}; vocabulary ${n(c.spec.vocabSize)}; inputs up to ${c.maxLength} tokens, \`${c.truncation}\` truncation.`,
    c.spec.excludedIds.length > 0
      ? `- Features: each real token id (special tokens ${c.spec.excludedIds.join(', ')} and padding excluded), and ${ngrams}`
      : `- Features: each token id, the tokenizer's [CLS] and [SEP] included (padding excluded), and ${ngrams}: the first and last words pair with the text's edges, and the edge tokens' own rows add a bias that shrinks with length`,
    '  (see `src/model-format/hashed-ngram-features.ts`).',
    ...(c.spec.negation
      ? [
          `- Negation scope: each token within ${c.spec.negation.window} tokens after a negation cue (${c.spec.negation.cueIds.length} cue words and "n't"; punctuation, "but" and special tokens end a scope) also adds a hashed "(not) token" row.`,
        ]
      : []),
    `- Logits: sum of the features' weight rows divided by ${c.spec.normalization === 'sqrt' ? 'the square root of the feature count' : 'the feature count'}, plus a bias.`,
    `- Weight table: [${n(rows)}, ${c.labels.length}] = ${n(rows * c.labels.length)} parameters, stored as ${h.weightType}${h.weightType === 'float16' ? ' (summed in float32)' : ''}.`,
    '',
    '| file | size |',
    '| --- | ---: |',
    ...c.files.map((f) => `| ${f.name} | ${n(f.bytes)} bytes (${mib(f.bytes)}) |`),
    `| total | ${n(total)} bytes (${mib(total)}) |`,
    '',
    '## Training data',
    '',
    '| source | file | rows trained on | dev rows kept out | loss weight per row |',
    '| --- | --- | ---: | ---: | ---: |',
    ...c.training.map((t) => {
      const left = [
        t.skipped > 0 ? `${n(t.skipped)} empty or 3-star left out` : '',
        t.untokenized > 0 ? `${n(t.untokenized)} without tokens` : '',
      ]
        .filter(Boolean)
        .join(', ');
      return `| ${t.source} | \`${t.file}\` | ${n(t.rows)}${left ? ` (${left})` : ''} | ${n(t.devRows)} | ${rowWeight(t.source)} |`;
    }),
    '',
    `Label counts: ${Object.entries(c.labelCounts)
      .map(([l, k]) => `${l} ${n(k)}`)
      .join(', ')}.`,
    ...(c.sourceWeights.power === undefined
      ? []
      : [
          `Source weighting: a source's total loss weight grows as (rows)^${c.sourceWeights.power} (src/training/source-training.ts).`,
        ]),
    '',
    ...terms.map((t) => `- ${t.text}`),
    '',
    researchOnly
      ? 'The weights are derived from these data sets and inherit the most restrictive of their terms: research use only, no commercial use.'
      : 'The weights are derived from these data sets; use the model under the same terms (research use).',
    '',
    '## Hyperparameters',
    '',
    '| name | value |',
    '| --- | --- |',
    `| buckets | ${n(h.buckets)} |`,
    `| n-gram orders | 1..${h.maxOrder} |`,
    `| normalization | ${h.normalization} |`,
    `| feature scaling | ${h.nbPower > 0 ? `naive Bayes log-count ratio, power ${h.nbPower} (src/training/nb-scaling.ts)` : 'none'} |`,
    `| optimizer | per-example SGD, learning rate ${h.learningRate} decayed linearly to 0 |`,
    `| epochs | ${h.epochs}${h.averageFromEpoch > 0 && h.averageFromEpoch < h.epochs ? ` (weights averaged over the ends of epochs ${h.averageFromEpoch}..${h.epochs})` : ''} |`,
    `| L2 | ${h.l2} |`,
    `| feature dropout | ${h.featureDropout} |`,
    `| boundary tokens as features | ${h.boundaryTokens ? 'yes' : 'no'} |`,
    `| negation scope | ${h.negationWindow > 0 ? `${h.negationWindow} tokens (src/model-format/negation-scope.ts)` : 'none'} |`,
    `| seed | ${h.seed} |`,
    '',
    `Training loss per epoch (weighted): ${c.epochLosses.map(f4).join(', ')}.`,
    '',
    ...(c.notes ? [c.notes.trim(), ''] : []),
    c.cvFolds === undefined ? '## Leave-one-source-out cross-validation' : `## ${c.cvFolds}-fold cross-validation`,
    '',
    ...cvSection(c.cv, c.baseline, c.cvFolds),
    '## Dev-set metrics',
    '',
    ...devSection(c.dev),
    '',
    '## Reproduce',
    '',
    "Train (cross-validation included), then score the dev files through the workers' scoring path:",
    '',
    '```sh',
    c.command,
    ...(c.dev && c.command === 'npm run model:train' ? ['npm run model:eval'] : []),
    '```',
    '',
    `Training is deterministic for a seed: the same data, options and seed write the same model.onnx (sf_version is a hash of it).`,
    '',
  ].join('\n');
}
