// docs/benchmarks.md: the generated report names no path of the machine it ran on, and
// regenerating it keeps the notes written below NOTES_MARKER.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepNotes, modelDirLabel, NOTES_MARKER } from '../../bench/benchmarks-doc.ts';
import { renderReport, type BenchResults } from '../../bench/report.ts';
import type { LanesResults } from '../../bench/lanes-measure.ts';

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
    const file = readdirSync(path.join(root, 'bench/results'))
      .filter((f) => /^\d{4}-.*\.json$/.test(f))
      .sort()
      .at(-1)!;
    const results = JSON.parse(readFileSync(path.join(root, 'bench/results', file), 'utf8')) as BenchResults;
    const { markdown } = renderReport(results, `../bench/results/${file}`);
    expect(markdown).toContain('## Profile `default`: default model (models/review-sentiment-en)');
    expect(markdown.match(/\((\.\.\/)+(?!bench\/results\/)[^)\s]*\)|\/tmp\/|\/home\/|\/work\//g)).toBeNull();
  });

  it('shows the lanes (issue 19) and their targets in the first table when the run measured them', () => {
    const file = readdirSync(path.join(root, 'bench/results'))
      .filter((f) => /^\d{4}-.*\.json$/.test(f))
      .sort()
      .at(-1)!;
    const results = JSON.parse(readFileSync(path.join(root, 'bench/results', file), 'utf8')) as BenchResults;
    // The newest lanes run with a backfill (a slow model's runs have none).
    const lanesRuns = readdirSync(path.join(root, 'bench/results'))
      .filter((f) => /^lanes-.*\.json$/.test(f))
      .sort();
    const lanes = lanesRuns
      .map((f) => JSON.parse(readFileSync(path.join(root, 'bench/results', f), 'utf8')) as LanesResults)
      .filter((l) => l.backfill !== undefined)
      .at(-1)!;
    const withLanes = {
      ...results,
      profiles: results.profiles.map((p) => (p.name === 'default' ? { ...p, lanes } : p)),
    };
    const { markdown } = renderReport(withLanes, `../bench/results/${file}`);
    const targets = markdown.slice(markdown.indexOf('## Targets'), markdown.indexOf('## Profile'));
    expect(targets).toContain('| bulk lane, default model, Flipkart: ≥ 3 × the live lane |');
    expect(targets).toContain(
      `| live p99 ≤ 100 ms at 50% live load while a ${lanes.backfill!.backfill.toLocaleString('en-US')}-review backfill drains |`,
    );
    expect(markdown).toContain('### Lanes side by side (issue 19)');
    expect(markdown).toContain('| bulk lane (a job per chunk) |');
    // A run without lanes has none of it.
    const withoutLanes = { ...results, profiles: results.profiles.map(({ lanes: _, ...p }) => p) };
    expect(renderReport(withoutLanes, `../bench/results/${file}`).markdown).not.toContain('bulk lane');
  });

  it('keeps the notes of the previous document when it is regenerated', () => {
    const notes = `${NOTES_MARKER}\n\n## Notes\n\nwritten by hand\n`;
    expect(keepNotes('# Benchmarks\n\nnew report\n', `# Benchmarks\n\nold report\n\n${notes}`)).toBe(
      `# Benchmarks\n\nnew report\n\n${notes}`,
    );
    expect(keepNotes('# Benchmarks\n\nnew report\n', '# Benchmarks\n\nold report, no notes\n')).toBe(
      '# Benchmarks\n\nnew report\n',
    );
    expect(keepNotes('# Benchmarks\n', undefined)).toBe('# Benchmarks\n');
  });

  it('docs/benchmarks.md has its notes, below the marker', () => {
    const doc = readFileSync(path.join(root, 'docs/benchmarks.md'), 'utf8');
    expect(doc.indexOf(NOTES_MARKER)).toBeGreaterThan(doc.indexOf('## Method'));
    expect(doc).toContain('### Settings and the measurements behind them');
  });
});
