// The snippet harness itself (test/helpers/readme-snippets.ts): what it extracts, and that
// its output comparison fails on what matters and only on that.
import { describe, expect, it } from 'vitest';
import {
  compareOutput,
  danglingOutputs,
  extractSnippets,
  rewriteWellKnownUrls,
  shapeDifferences,
} from '../helpers/readme-snippets.ts';

const doc = [
  '## Quick start',
  '',
  '```sh test',
  'curl -s http://127.0.0.1:3000/v1/results/r1',
  '```',
  '',
  '```json output',
  '{"ok": true}',
  '```',
  '',
  '## SDK',
  '',
  '- a list item:',
  '  ```ts test',
  "  console.log('hi');",
  '  ```',
  '```json output',
  '[1]',
  '```',
  '',
  '```text output',
  'dangling',
  '```',
].join('\n');

describe('extractSnippets', () => {
  it('reads language, flags, section and line, attaches the output block that follows, and de-indents list blocks', () => {
    const [curl, ts] = extractSnippets(doc);
    expect(curl).toMatchObject({
      lang: 'sh',
      flags: ['test'],
      section: 'Quick start',
      line: 3,
      code: 'curl -s http://127.0.0.1:3000/v1/results/r1',
      output: { lang: 'json', text: '{"ok": true}', line: 7 },
    });
    expect(ts).toMatchObject({
      lang: 'ts',
      flags: ['test'],
      section: 'SDK',
      code: "console.log('hi');",
      output: { text: '[1]' },
    });
    expect(danglingOutputs(doc)).toEqual([21]);
  });

  it('names the file a snippet comes from (README.md unless told)', () => {
    expect(extractSnippets(doc).map((s) => s.file)).toEqual(['README.md', 'README.md']);
    expect(extractSnippets(doc, 'docs/storage.md').map((s) => s.file)).toEqual(['docs/storage.md', 'docs/storage.md']);
  });
});

describe('shapeDifferences', () => {
  const shown = {
    results: [
      {
        reviewId: 'r2',
        label: 'negative',
        score: 0.99,
        tokens: 12,
        batchSize: 2,
        processedAt: '2026-12-02T16:08:22.574Z',
      },
    ],
    total: 2,
  };

  it('ignores timestamps, fractional numbers and volatile keys, and keys the doc leaves out', () => {
    const actual = {
      results: [
        {
          reviewId: 'r2',
          label: 'negative',
          score: 0.5,
          tokens: 12,
          batchSize: 1,
          processedAt: '2027-01-01T00:00:00.000Z',
          rating: 1,
        },
      ],
      total: 2,
      extra: true,
    };
    expect(shapeDifferences(shown, actual)).toEqual([]);
  });

  it('fails on another label, count or id, a missing or renamed key, another type, another array length', () => {
    const r = shown.results[0]!;
    expect(shapeDifferences(shown, { ...shown, results: [{ ...r, label: 'positive' }] })).toHaveLength(1);
    expect(shapeDifferences(shown, { ...shown, total: 0 })).toEqual(['$.total: the doc shows 2, got 0']);
    expect(shapeDifferences(shown, { ...shown, results: [{ ...r, tokens: 13 }] })).toHaveLength(1);
    const { label: _, ...unlabeled } = r;
    expect(shapeDifferences(shown, { ...shown, results: [{ ...unlabeled, sentiment: 'negative' }] })[0]).toMatch(
      /no key "label"/,
    );
    expect(shapeDifferences(shown, { ...shown, results: [{ ...r, score: null }] })).toHaveLength(1);
    expect(shapeDifferences(shown, { ...shown, results: [] })[0]).toMatch(/1 items, got 0/);
  });
});

describe('compareOutput', () => {
  it("JSON: one document or JSON lines, after npm's banner; text: line by line, durations masked", () => {
    expect(
      compareOutput(
        { lang: 'json', text: '{"accepted": 2}', line: 1 },
        '\n> pkg@1.0.0 x\n> node x.js\n\n{"accepted":2}\n',
      ),
    ).toEqual([]);
    expect(compareOutput({ lang: 'json', text: '{"a":1}\n{"a":2}', line: 1 }, '{"a":1}\n{"a":2}\n')).toEqual([]);
    expect(compareOutput({ lang: 'json', text: 'not json', line: 9 }, '{}')).toEqual([
      "the doc's output block (line 9) is not JSON",
    ]);
    expect(
      compareOutput(
        { lang: 'text', text: 'imported f (2 records, 0.0 s)\n  accepted 2', line: 1 },
        'imported f (2 records, 1.3 s)\n  accepted 2\n',
      ),
    ).toEqual([]);
    expect(compareOutput({ lang: 'text', text: '  accepted 2', line: 1 }, '  accepted 1\n')).toHaveLength(1);
  });

  it('points the default addresses at the test stack', () => {
    const urls = {
      ingest: 'http://127.0.0.1:41000',
      stats: 'http://127.0.0.1:41001',
      redis: 'redis://127.0.0.1:41002',
    };
    expect(
      rewriteWellKnownUrls("curl http://127.0.0.1:3000/x http://localhost:3001/ 'redis://127.0.0.1:6379'", urls),
    ).toBe("curl http://127.0.0.1:41000/x http://127.0.0.1:41001/ 'redis://127.0.0.1:41002'");
  });
});
