/**
 * What REDACT_PII costs per review (src/ingest/pii-redaction.ts, on the ingest path before
 * enqueueing): every title and text of the shared review corpora (SHARED_DIR/data/**.jsonl), and
 * hostile 20,000-character texts (MAX_TEXT_CHARS' default) built to make the matchers work hardest.
 * For each phone region (none, IN, US): texts changed, µs per corpus text, and the fastest of three
 * runs per hostile text, in ms.
 *
 *   node --import tsx bench/pii-redaction-cost.ts
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CountryCode } from 'libphonenumber-js/max';
import { loadConfig } from '../src/config/load-config.ts';
import { redactPii } from '../src/ingest/pii-redaction.ts';

const dataDir = path.resolve(import.meta.dirname, '..', loadConfig(process.env).sharedDir, 'data');

function corpusTexts(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.jsonl')) files.push(p);
    }
  };
  try {
    walk(dataDir);
  } catch {
    return [];
  }
  const texts: string[] = [];
  for (const file of files) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        for (const key of ['text', 'title']) if (typeof record[key] === 'string') texts.push(record[key]);
      } catch {
        // not a record
      }
    }
  }
  return texts;
}

const N = 20_000;
const fill = (unit: string) => unit.repeat(Math.ceil(N / unit.length)).slice(0, N);
const hostile: Record<string, string> = {
  digits: fill('1234567890'),
  'digit groups': fill('98765 43210 '),
  'valid phones': fill('+44 20 7946 0958, '),
  'full-width PII': fill('＋４４ ２０ ７９４６ ０９５８ ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ '),
  'dotted digits': fill('1.2.3.4.5.6.7.8.9.'),
  parentheses: fill('(12) (34) '),
  prose: fill('Great phone, battery 5000 mAh, paid ₹12,999 on 15/01/2024. '),
};

const texts = corpusTexts();
console.log(`${texts.length} corpus texts from ${dataDir}`);
for (const region of [undefined, 'IN', 'US'] as (CountryCode | undefined)[]) {
  const options = region ? { region } : {};
  const started = performance.now();
  let changed = 0;
  for (const text of texts) if (redactPii(text, options) !== text) changed += 1;
  const ms = performance.now() - started;
  const perText = texts.length > 0 ? ((ms * 1000) / texts.length).toFixed(1) : '-';
  const worst = Object.entries(hostile).map(([name, text]) => {
    const runs = [0, 1, 2].map(() => {
      const t = performance.now();
      redactPii(text, options);
      return performance.now() - t;
    });
    return `${name} ${Math.min(...runs).toFixed(1)}`;
  });
  console.log(
    `region ${region ?? 'none'}: corpus ${changed} changed, ${perText} µs/text; hostile 20k chars (ms): ${worst.join(', ')}`,
  );
}
