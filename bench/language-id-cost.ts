/**
 * What language identification costs per review (src/inference/language-id.ts with models/lang-id):
 * every text of the shared review corpora (SHARED_DIR/data/**.jsonl, titles joined as the workers
 * join them), scored three times (the first pass warms the JIT), and a hostile 20,000-character
 * text (MAX_TEXT_CHARS' default), of which the model reads its first max_chars characters.
 * Prints µs per corpus text (mean, and the 99th percentile of the last pass) and ms per hostile text.
 *
 *   node --import tsx bench/language-id-cost.ts
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/load-config.ts';
import { createLanguageIdentifier } from '../src/inference/language-id.ts';
import { loadLanguageIdModel } from '../src/inference/language-id-model.ts';
import { reviewModelText } from '../src/tokenize/review-text.ts';

const root = path.resolve(import.meta.dirname, '..');
const dataDir = path.resolve(root, loadConfig(process.env).sharedDir, 'data');
const model = loadLanguageIdModel(path.join(root, 'models', 'lang-id'));
const identifier = createLanguageIdentifier(model);

function corpusTexts(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.jsonl')) files.push(p);
    }
  };
  walk(dataDir);
  const texts: string[] = [];
  for (const file of files.sort()) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const record = JSON.parse(line) as { text?: unknown; title?: unknown };
      if (typeof record.text === 'string')
        texts.push(
          reviewModelText({ text: record.text, title: typeof record.title === 'string' ? record.title : undefined }),
        );
    }
  }
  return texts;
}

const texts = corpusTexts();
const chars = texts.reduce((s, t) => s + t.length, 0) / texts.length;
console.log(
  `${texts.length.toLocaleString('en-US')} corpus texts (mean ${chars.toFixed(0)} characters) from ${dataDir}; model ${model.version}, reads ${model.spec.maxChars} characters`,
);
for (let pass = 1; pass <= 3; pass++) {
  const times = new Float64Array(texts.length);
  const started = performance.now();
  texts.forEach((t, i) => {
    const t0 = performance.now();
    identifier.identify(t);
    times[i] = performance.now() - t0;
  });
  const total = performance.now() - started;
  const p99 = times.sort()[Math.floor(0.99 * times.length)]!;
  console.log(
    `pass ${pass}: ${((total * 1000) / texts.length).toFixed(1)} µs per text (p99 ${(p99 * 1000).toFixed(1)} µs)`,
  );
}
const hostile = 'Großartig, très bien, ¡excelente! '.repeat(700).slice(0, 20_000);
let best = Infinity;
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  identifier.identify(hostile);
  best = Math.min(best, performance.now() - t0);
}
console.log(`hostile 20,000-character text: ${best.toFixed(3)} ms (fastest of 5)`);
