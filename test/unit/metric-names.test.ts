import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.ts';
import { createStatsRegistry } from '../../src/stats/prometheus.ts';
import type { StatsCollector } from '../../src/stats/stats-collector.ts';
import { createWorkerMetrics } from '../../src/stats/worker-metrics.ts';

const root = path.resolve(import.meta.dirname, '../..');
const logger = createLogger({ level: 'silent', format: 'json' });

function exportedNames(): Set<string> {
  const collector = { queueNames: { reviews: 'reviews', results: 'results' }, window: { onEntries: () => undefined }, collect: () => Promise.reject(new Error('unused')) };
  const stats = createStatsRegistry({ collector: collector as unknown as StatsCollector, logger });
  const worker = createWorkerMetrics({ model: 'm', version: '1' }).registry;
  return new Set([...stats.getMetricsAsArray(), ...worker.getMetricsAsArray()].map((m) => m.name));
}

/** sf_* names used in a text, histogram series suffixes removed. */
function sfNames(text: string): Set<string> {
  return new Set([...text.matchAll(/\bsf_[a-z0-9_]+[a-z]/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')));
}

describe('metric names', () => {
  const exported = exportedNames();

  it('the Grafana dashboard uses only metrics that exist', () => {
    const used = sfNames(readFileSync(path.join(root, 'deploy/grafana/sentiment-fleet.json'), 'utf8'));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
  });

  it('docs/metrics.md lists every sf_ metric, and only those', () => {
    const page = readFileSync(path.join(root, 'docs/metrics.md'), 'utf8');
    const listed = new Set([...page.matchAll(/^\| `(sf_[a-z0-9_]+)` \|/gm)].map((m) => m[1]!));
    expect([...listed].sort()).toEqual([...exported].filter((n) => n.startsWith('sf_')).sort());
  });
});
