/**
 * MODEL_CARD.md of a trained model directory: what the model is, the data it was trained on
 * (row counts and terms), sizes, hyperparameters, seed, dev-set metrics and the exact command.
 * Deterministic: the same training run writes the same card.
 */
import type { EvalReport } from './evaluate-model.ts';
import type { HashedNgramHyperparameters } from './hashed-ngram-hyperparameters.ts';
import type { HashedNgramSpec } from './hashed-ngram-features.ts';

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
  training: { file: string; rows: number; skipped: number; weight: number }[];
  labelCounts: Record<string, number>;
  epochLosses: number[];
  files: { name: string; bytes: number }[];
  dev: EvalReport | undefined;
  command: string;
  /** Extra paragraphs (e.g. how the preset's values were chosen). */
  notes: string | undefined;
}

/** The source and terms of a known data set, recognized by its path. */
function dataTerms(file: string): string {
  const p = file.replaceAll('\\', '/');
  if (p.includes('sst2')) {
    return 'Stanford Sentiment Treebank, binary (GLUE SST-2; Socher et al. 2013). Research data: the original publishers\' terms apply.';
  }
  if (p.includes('amazon-multidomain')) {
    return 'Multi-Domain Sentiment Dataset, Amazon product reviews (Blitzer, Dredze, Pereira 2007). Research data: the original publishers\' terms apply.';
  }
  return 'User-supplied data: its own terms apply.';
}

const n = (x: number) => x.toLocaleString('en-US');
const f4 = (x: number) => x.toFixed(4);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

function devSection(dev: EvalReport | undefined): string[] {
  if (!dev) return ['No dev files were given.'];
  const lines = [
    'Scored through `createModelRunner`, the workers\' scoring path (titles joined as the workers join them, head-tail truncation to 512 tokens).',
    '',
    '| file | rows | accuracy | macro-F1 |',
    '| --- | ---: | ---: | ---: |',
    ...dev.files.map((f) => `| \`${f.file}\` | ${n(f.rows)} | ${f4(f.accuracy)} | ${f4(f.macroF1)} |`),
    '',
    `Mean accuracy over the ${dev.files.length} file(s): ${f4(dev.meanAccuracy)}.`,
  ];
  const amazon = dev.files.filter((f) => f.file.includes('amazon-multidomain'));
  if (amazon.length > 0 && amazon.length < dev.files.length) {
    lines.push(`Mean accuracy over the ${amazon.length} Amazon file(s): ${f4(amazon.reduce((s, f) => s + f.accuracy, 0) / amazon.length)}.`);
  }
  return lines;
}

export function renderModelCard(c: ModelCardInput): string {
  const h = c.hyperparameters;
  const rows = c.spec.vocabSize + c.spec.buckets;
  const total = c.files.reduce((s, f) => s + f.bytes, 0);
  const orders = ['unigrams', 'unigrams and bigrams', 'unigrams, bigrams and trigrams'][c.spec.maxOrder - 1];
  const ngrams = c.spec.maxOrder === 1 ? 'no n-grams' : `each ${c.spec.maxOrder === 2 ? 'bigram' : 'bigram and trigram'} of real tokens hashed into ${n(c.spec.buckets)} buckets`;
  const terms = [...new Set(c.training.map((t) => dataTerms(t.file)))];
  return [
    `# ${c.name}`,
    '',
    `Sentiment classifier for sentiment-fleet (labels: ${c.labels.join(', ')}), version \`${c.version}\`. A fastText-style linear model`,
    `over hashed WordPiece ${orders}; the n-gram hashing runs inside the ONNX graph, so the workers load it like any`,
    'Hugging Face style model directory (inputs `input_ids`, `attention_mask` int64 [batch, seq]; output `logits` float32 [batch, labels]).',
    '',
    '## Model',
    '',
    `- Tokenizer: ${c.tokenizerSource}; vocabulary ${n(c.spec.vocabSize)}; inputs up to ${c.maxLength} tokens, \`${c.truncation}\` truncation.`,
    `- Features: each real token id (special tokens ${c.spec.excludedIds.join(', ')} and padding excluded), and ${ngrams}`,
    '  (see `src/training/hashed-ngram-features.ts`).',
    `- Logits: sum of the features' weight rows divided by ${c.spec.normalization === 'sqrt' ? 'the square root of the feature count' : 'the feature count'}, plus a bias.`,
    `- Weight table: [${n(rows)}, ${c.labels.length}] float32 = ${n(rows * c.labels.length)} parameters.`,
    '',
    '| file | size |',
    '| --- | ---: |',
    ...c.files.map((f) => `| ${f.name} | ${n(f.bytes)} bytes (${mib(f.bytes)}) |`),
    `| total | ${n(total)} bytes (${mib(total)}) |`,
    '',
    '## Training data',
    '',
    '| file | rows | loss weight |',
    '| --- | ---: | ---: |',
    ...c.training.map((t) => `| \`${t.file}\` | ${n(t.rows)}${t.skipped > 0 ? ` (${n(t.skipped)} empty skipped)` : ''} | ${t.weight} |`),
    '',
    `Label counts: ${Object.entries(c.labelCounts).map(([l, k]) => `${l} ${n(k)}`).join(', ')}.`,
    '',
    ...terms.map((t) => `- ${t}`),
    '',
    'The weights are derived from these data sets; use the model under the same terms (research use).',
    '',
    '## Hyperparameters',
    '',
    '| name | value |',
    '| --- | --- |',
    `| buckets | ${n(h.buckets)} |`,
    `| n-gram orders | 1..${h.maxOrder} |`,
    `| normalization | ${h.normalization} |`,
    `| optimizer | per-example SGD, learning rate ${h.learningRate} decayed linearly to 0 |`,
    `| epochs | ${h.epochs} |`,
    `| L2 | ${h.l2} |`,
    `| feature dropout | ${h.featureDropout} |`,
    `| seed | ${h.seed} |`,
    '',
    `Training loss per epoch (weighted): ${c.epochLosses.map(f4).join(', ')}.`,
    '',
    ...(c.notes ? [c.notes.trim(), ''] : []),
    '## Dev-set metrics',
    '',
    ...devSection(c.dev),
    '',
    '## Reproduce',
    '',
    'Train, then score the dev files through the workers\' scoring path:',
    '',
    '```sh',
    c.command,
    ...(c.dev ? [`sentiment-fleet eval --model ${c.dir} --data ${c.dev.files.map((f) => f.file).join(' ')}`] : []),
    '```',
    '',
    `Training is deterministic for a seed: the same data, options and seed write the same model.onnx (sf_version is a hash of it).`,
    '',
  ].join('\n');
}

