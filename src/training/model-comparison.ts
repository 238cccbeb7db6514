/**
 * `eval --compare OTHER_MODEL`: two models scored on the same rows, their accuracy difference and
 * McNemar's exact test on the rows where exactly one of them is right (b: only the first, c: only
 * the second). Under "equally accurate", b ~ Binomial(b + c, 1/2); the two-sided p-value is
 * min(1, 2 · P(X ≤ min(b, c))), summed in log space so thousands of discordant rows are exact.
 */
import { SfError } from '../errors/sf-error.ts';
import type { EvalReport } from './evaluate-model.ts';

export interface McNemar {
  /** Rows only the first model gets right, and only the second. */
  onlyFirst: number;
  onlySecond: number;
  pValue: number;
}

export interface ComparisonPart extends McNemar {
  name: string;
  rows: number;
  accuracyFirst: number;
  accuracySecond: number;
  /** accuracySecond − accuracyFirst. */
  difference: number;
}

export interface ModelComparison {
  first: { name: string; version: string };
  second: { name: string; version: string };
  files: ComparisonPart[];
  overall: ComparisonPart;
}

/** Exact two-sided McNemar p-value for b and c discordant rows. */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  let logPmf = n * Math.log(0.5); // P(X = 0)
  let max = logPmf;
  const terms = [logPmf];
  for (let i = 1; i <= k; i++) {
    logPmf += Math.log(n - i + 1) - Math.log(i);
    terms.push(logPmf);
    max = Math.max(max, logPmf);
  }
  const tail = Math.exp(max) * terms.reduce((s, t) => s + Math.exp(t - max), 0);
  return Math.min(1, 2 * tail);
}

function part(
  name: string,
  gold: readonly number[],
  first: readonly number[],
  second: readonly number[],
): ComparisonPart {
  let a = 0;
  let s = 0;
  let onlyFirst = 0;
  let onlySecond = 0;
  gold.forEach((g, i) => {
    const x = first[i] === g;
    const y = second[i] === g;
    if (x) a++;
    if (y) s++;
    if (x && !y) onlyFirst++;
    if (y && !x) onlySecond++;
  });
  const rows = gold.length;
  return {
    name,
    rows,
    accuracyFirst: a / rows,
    accuracySecond: s / rows,
    difference: (s - a) / rows,
    onlyFirst,
    onlySecond,
    pValue: mcnemarExact(onlyFirst, onlySecond),
  };
}

/** Compares two reports of the same files, made with keepPredictions. */
export function compareModels(first: EvalReport, second: EvalReport): ModelComparison {
  if (first.model.labels.join('\n') !== second.model.labels.join('\n')) {
    throw new SfError(
      'SF_ERR_CONFIG',
      `--compare needs models with the same labels (${first.model.labels.join(', ')} vs ${second.model.labels.join(', ')})`,
    );
  }
  const files = first.files.map((f, i) => {
    const g = second.files[i];
    if (!f.gold || !f.predicted || !g?.predicted || g.file !== f.file || g.predicted.length !== f.predicted.length) {
      throw new Error('compareModels needs two reports of the same files made with keepPredictions');
    }
    return part(f.file, f.gold, f.predicted, g.predicted);
  });
  const all = (pick: (f: EvalReport['files'][number]) => number[]) => (report: EvalReport) =>
    report.files.flatMap(pick);
  const overall = part(
    'all files pooled',
    all((f) => f.gold!)(first),
    all((f) => f.predicted!)(first),
    all((f) => f.predicted!)(second),
  );
  return {
    first: { name: first.model.name, version: first.model.version },
    second: { name: second.model.name, version: second.model.version },
    files,
    overall,
  };
}

export function formatComparison(c: ModelComparison): string {
  const rows = [...c.files, c.overall].map((p) => [
    p.name,
    String(p.rows),
    p.accuracyFirst.toFixed(4),
    p.accuracySecond.toFixed(4),
    `${p.difference >= 0 ? '+' : ''}${p.difference.toFixed(4)}`,
    String(p.onlyFirst),
    String(p.onlySecond),
    p.pValue < 1e-4 ? p.pValue.toExponential(1) : p.pValue.toFixed(4),
  ]);
  const header = [
    'file',
    'rows',
    `A ${c.first.version}`,
    `B ${c.second.version}`,
    'B − A',
    'only A right',
    'only B right',
    'McNemar p',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [
    `A: ${c.first.name} (${c.first.version})   B: ${c.second.name} (${c.second.version})`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    'McNemar: exact two-sided binomial test on the rows where exactly one model is right (p < 0.05: the accuracy difference is unlikely to be chance).',
  ].join('\n');
}
