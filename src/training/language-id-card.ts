/** MODEL_CARD.md of the language-ID model (language-id-training.ts). */
import type { LanguageIdSpec } from '../inference/language-id.ts';
import { dataTerms, RESEARCH_ONLY_NOTICE } from './data-terms.ts';

export interface LanguageIdRate {
  rows: number;
  accuracy: number;
}

export interface LanguageIdEval {
  language: string;
  all: LanguageIdRate;
  /** Held-out rows of at most 5 words. */
  short: LanguageIdRate;
  /** Every held-out row cut to its first 5 / 2 words. */
  first5: LanguageIdRate;
  first2: LanguageIdRate;
  /** Mean time per held-out text of this pass (the CLI prints it; not in the card, which is deterministic). */
  microsPerText: number;
  /** Wrong guesses by label ('none': no language). */
  confusedWith: Record<string, number>;
}

export interface LanguageIdCardInput {
  version: string;
  spec: LanguageIdSpec;
  options: { englishPerSource: number; epochs: number; seed: number; command: string };
  weightBytes: number;
  examples: number;
  epochLosses: number[];
  evaluation: LanguageIdEval[];
  training: { language: string; trainRows: number; devRows: number; sources: string[] }[];
}

const pct = (r: LanguageIdRate) =>
  r.rows === 0 ? '–' : `${(100 * r.accuracy).toFixed(2)}% (${r.rows.toLocaleString('en-US')})`;

export function renderLanguageIdCard(c: LanguageIdCardInput): string {
  const files = [...new Set(c.training.flatMap((t) => t.sources))];
  const terms = [...new Set(files.map((f) => dataTerms(f).text))];
  const researchOnly = files.some((f) => dataTerms(f).researchOnly);
  return `# lang-id

Language identification for sentiment-fleet, version \`${c.version}\`: which of ${c.spec.labels.join(', ')} a review is written in,
so a review sent without \`locale\` can be routed to the model of its language. A character n-gram linear classifier scored in
plain TypeScript (\`src/inference/language-id.ts\`); no ONNX session.

${researchOnly ? `**Terms: ${RESEARCH_ONLY_NOTICE}**\n` : ''}
## Model

- Features: the first ${c.spec.maxChars.toLocaleString('en-US')} characters, lowercased (accents kept), split into words (letters and marks);
  each word padded with spaces gives its character 1..${c.spec.maxOrder}-grams and itself, hashed (FNV-1a) into ${c.spec.buckets.toLocaleString('en-US')} rows.
- Scores: softmax of (Σ rows' weights) / sqrt(feature count) + bias. Weights int8 with one scale: \`weights.bin\`, ${c.weightBytes.toLocaleString('en-US')} bytes.
- No language (the caller's default model): a text without letters, or with under ${(100 * c.spec.minLatinShare).toFixed(0)}% Latin-script letters.
  There is no "other" class: the data holds only these four languages, so another Latin-script language (Italian, Dutch, ...)
  is given the closest of the four, untested here.
- Memory: the int8 table, ${(c.weightBytes / 2 ** 20).toFixed(2)} MiB. Time per review: \`bench/language-id.bench.ts\` (docs/models.md).

## Training data

| language | rows trained on | held-out rows | files |
| --- | ---: | ---: | --- |
${c.training
  .map(
    (t) =>
      `| ${t.language} | ${t.trainRows.toLocaleString('en-US')} | ${t.devRows.toLocaleString('en-US')} | ${t.sources
        .filter((f) => !f.includes('dev.jsonl'))
        .map((f) => `\`${f}\``)
        .join(', ')} |`,
  )
  .join('\n')}

English: up to ${c.options.englishPerSource.toLocaleString('en-US')} rows from each English source of the default model (picked by a hash of the row id).
Each row is trained on twice, whole and as a seeded window of 1–5 of its words: ${c.examples.toLocaleString('en-US')} examples,
${c.options.epochs} epochs (weights averaged from epoch 2), seed ${c.options.seed}; training loss per epoch ${c.epochLosses.map((l) => l.toFixed(4)).join(', ')}.
Held out: the sources' dev rows (dev files, and the tenth of each file whose id hash is 0 mod 10), never trained on.

${terms.map((t) => `- ${t}`).join('\n')}

## Held-out accuracy

Rows (in parentheses) and the share identified correctly: every held-out row, the held-out rows of at most 5 words, and every
held-out row cut to its first 5 and first 2 words (short messages are where character n-grams run out of evidence).

| language | all rows | rows ≤ 5 words | first 5 words | first 2 words | wrong guesses |
| --- | ---: | ---: | ---: | ---: | --- |
${c.evaluation
  .map(
    (e) =>
      `| ${e.language} | ${pct(e.all)} | ${pct(e.short)} | ${pct(e.first5)} | ${pct(e.first2)} | ${
        Object.entries(e.confusedWith)
          .map(([l, n]) => `${l} ${n}`)
          .join(', ') || '–'
      } |`,
  )
  .join('\n')}

## Reproduce

\`\`\`sh
${c.options.command}
\`\`\`

Deterministic: the same data and seed write the same \`weights.bin\` (the version is a hash of it and the settings).
`;
}
