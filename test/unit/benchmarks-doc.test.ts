// docs/benchmarks.md: the generated report names no path of the machine it ran on, and
// regenerating it keeps the notes written below NOTES_MARKER.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepNotes, modelDirLabel, NOTES_MARKER } from '../../bench/benchmarks-doc.ts';
import { renderReport, type BenchResults } from '../../bench/report.ts';

const root = path.resolve(import.meta.dirname, '../..');

describe('modelDirLabel', () => {
  it('keeps a path inside the repository and names a model generated elsewhere by its directory only', () => {
    expect(modelDirLabel('models/review-sentiment-en')).toBe('models/review-sentiment-en');
    expect(modelDirLabel('../../tmp/sf-bench-model')).toBe('generated: sf-bench-model');
    expect(modelDirLabel('/tmp/sf-bench-model-int8')).toBe('generated: sf-bench-model-int8');
    expect(modelDirLabel('..')).toBe('generated: ..');
  });
});

describe('the benchmark report', () => {
  it('holds no local path, even from a results file that recorded one', () => {
    const file = readdirSync(path.join(root, 'bench/results')).filter((f) => /^\d{4}-.*\.json$/.test(f)).sort().at(-1)!;
    const results = JSON.parse(readFileSync(path.join(root, 'bench/results', file), 'utf8')) as BenchResults;
    const { markdown } = renderReport(results, `../bench/results/${file}`);
    expect(markdown).toContain('## Profile `default`: default model (models/review-sentiment-en)');
    expect(markdown.match(/\((\.\.\/)+(?!bench\/results\/)[^)\s]*\)|\/tmp\/|\/home\/|\/work\//g)).toBeNull();
  });

  it('keeps the notes of the previous document when it is regenerated', () => {
    const notes = `${NOTES_MARKER}\n\n## Notes\n\nwritten by hand\n`;
    expect(keepNotes('# Benchmarks\n\nnew report\n', `# Benchmarks\n\nold report\n\n${notes}`)).toBe(`# Benchmarks\n\nnew report\n\n${notes}`);
    expect(keepNotes('# Benchmarks\n\nnew report\n', '# Benchmarks\n\nold report, no notes\n')).toBe('# Benchmarks\n\nnew report\n');
    expect(keepNotes('# Benchmarks\n', undefined)).toBe('# Benchmarks\n');
  });

  it('docs/benchmarks.md has its notes, below the marker', () => {
    const doc = readFileSync(path.join(root, 'docs/benchmarks.md'), 'utf8');
    expect(doc.indexOf(NOTES_MARKER)).toBeGreaterThan(doc.indexOf('## Method'));
    expect(doc).toContain('### Settings and the measurements behind them');
  });
});
