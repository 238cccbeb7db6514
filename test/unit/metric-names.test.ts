import { readFileSync } from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';
import type { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createProcessRegistry, installHttpMetrics } from '../../src/http/http-metrics.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createStatsRegistry } from '../../src/stats/prometheus.ts';
import type { StatsCollector } from '../../src/stats/stats-collector.ts';
import { createWorkerMetrics } from '../../src/stats/worker-metrics.ts';
import { createSinkMetrics } from '../../src/storage/sink-metrics.ts';

const root = path.resolve(import.meta.dirname, '../..');
const logger = createLogger({ level: 'silent', format: 'json' });

/** Every registry a process of the fleet serves: stats, worker, sink, and an HTTP service's own. */
function registries(): Registry[] {
  const collector = {
    queueNames: { reviews: 'reviews', results: 'results' },
    window: { onEntries: () => undefined },
    collect: () => Promise.reject(new Error('unused')),
  };
  const stats = createStatsRegistry({ collector: collector as unknown as StatsCollector, logger });
  const worker = createWorkerMetrics({ model: 'm', version: '1' }).registry;
  const sink = createSinkMetrics(createProcessRegistry()).registry;
  const http = createProcessRegistry();
  installHttpMetrics(Fastify(), http);
  return [stats, worker, sink, http];
}

function exportedNames(): Set<string> {
  return new Set(registries().flatMap((r) => r.getMetricsAsArray().map((m) => m.name)));
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

  it('docs/metrics.md and docs/observability.md list every sf_ metric, and only those', () => {
    const rows = (text: string) => [...text.matchAll(/^\| `(sf_[a-z0-9_]+)` \|/gm)].map((m) => m[1]!);
    const listed = new Set(
      ['docs/metrics.md', 'docs/observability.md'].flatMap((file) => rows(readFileSync(path.join(root, file), 'utf8'))),
    );
    expect([...listed].sort()).toEqual([...exported].filter((n) => n.startsWith('sf_')).sort());
  });

  it('no metric breaks the Prometheus naming rules promtool checks', () => {
    const problems: string[] = [];
    for (const registry of registries()) {
      for (const m of registry.getMetricsAsArray() as unknown as {
        name: string;
        labelNames: string[];
        constructor: { name: string };
      }[]) {
        const type = m.constructor.name;
        if (m.labelNames.includes('quantile') && type !== 'Summary')
          problems.push(`${m.name}: a ${type} with the label quantile (reserved for summaries)`);
        if (m.labelNames.includes('le') && type !== 'Histogram')
          problems.push(`${m.name}: a ${type} with the label le (reserved for histograms)`);
        if (m.name.endsWith('_total') && type !== 'Counter')
          problems.push(`${m.name}: a ${type} named _total (counters only)`);
        if (type === 'Counter' && !m.name.endsWith('_total')) problems.push(`${m.name}: a counter not named _total`);
      }
    }
    expect(problems).toEqual([]);
  });
});
