// The Kubernetes manifests (deploy/k8s) and docker-compose.yml: every file parses, and the settings
// that must agree across files do (grace periods, probe ports, CPU requests, the KEDA list key).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { settings } from '../../src/config/config-schema.ts';
import { loadConfig } from '../../src/config/load-config.ts';

const root = path.resolve(import.meta.dirname, '../..');
const k8sDir = path.join(root, 'deploy/k8s');

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
type Doc = Record<string, any>;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(path.join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [path.join(dir, e.name)] : [],
  );
}

const files = yamlFiles(k8sDir);
const docsByFile = new Map<string, Doc[]>(
  files.map((file) => {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    for (const d of docs)
      if (d.errors.length > 0)
        throw new Error(`${path.relative(root, file)}: ${d.errors.map((e) => e.message).join('; ')}`);
    return [path.relative(k8sDir, file), docs.map((d) => d.toJS() as Doc).filter((d) => d !== null)];
  }),
);
const objects = [...docsByFile.entries()]
  .filter(([f]) => !f.endsWith('prometheus-adapter-values.yaml'))
  .flatMap(([, docs]) => docs);

const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'sentiment-fleet-config')!;
const data = configMap?.data as Record<string, string>;
const deployments = objects.filter((o) => o.kind === 'Deployment');
const container = (d: Doc) => d.spec.template.spec.containers[0] as Doc;
const env = (d: Doc): Record<string, string> =>
  Object.fromEntries((container(d).env ?? []).map((e: Doc) => [e.name, e.value]));
const isWorker = (d: Doc) => container(d).command.includes('dist/workers/inference-worker.js');
const workers = deployments.filter(isWorker);

/** A Kubernetes CPU quantity ("2", "1.5", "500m") in cores. */
function cores(q: string | number): number {
  const s = String(q);
  return s.endsWith('m') ? Number(s.slice(0, -1)) / 1000 : Number(s);
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  it('every file parses as YAML and every object has a kind and a name', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const o of objects) {
      expect(o.apiVersion, JSON.stringify(o).slice(0, 80)).toEqual(expect.any(String));
      expect(o.kind).toEqual(expect.any(String));
      if (o.kind !== 'Kustomization') expect(o.metadata?.name).toEqual(expect.any(String));
    }
  });

  it('kustomization lists existing files, the four roles and one autoscaler', () => {
    const kustomization = docsByFile.get('kustomization.yaml')![0]!;
    for (const r of kustomization.resources as string[]) expect(existsSync(path.join(k8sDir, r)), r).toBe(true);
    const entrypoints = deployments.map((d) => container(d).command.at(-1));
    expect(entrypoints).toEqual(
      expect.arrayContaining([
        'dist/producer/ingest-server.js',
        'dist/workers/inference-worker.js',
        'dist/workers/result-sink.js',
        'dist/workers/stats-server.js',
      ]),
    );
    // The image runs the compiled entrypoints (npm run build): each one's TypeScript source exists.
    for (const e of entrypoints)
      expect(existsSync(path.join(root, e!.replace(/^dist\//, '').replace(/\.js$/, '.ts'))), e).toBe(true);
    const autoscalers = (kustomization.resources as string[]).filter((r) => r.startsWith('autoscaling/'));
    expect(autoscalers).toHaveLength(1);
    expect(kustomization.resources).not.toContain('secret.example.yaml');
  });

  it('the ConfigMap holds valid settings only, and the containers set settings only', () => {
    const known = new Set(Object.keys(settings));
    expect(Object.keys(data).filter((k) => !known.has(k))).toEqual([]);
    expect(() => loadConfig(data)).not.toThrow();
    for (const d of deployments) {
      const names = Object.keys(env(d));
      expect(
        names.filter((k) => !known.has(k)),
        d.metadata.name,
      ).toEqual([]);
      expect(() => loadConfig({ ...data, ...env(d) })).not.toThrow();
    }
  });

  it('workers: terminationGracePeriodSeconds longer than SHUTDOWN_GRACE_MS', () => {
    expect(workers.length).toBeGreaterThanOrEqual(2); // stable and canary
    for (const w of workers) {
      const grace = Number(env(w).SHUTDOWN_GRACE_MS);
      expect(grace).toBeGreaterThan(0);
      expect(w.spec.template.spec.terminationGracePeriodSeconds * 1000, w.metadata.name).toBeGreaterThan(grace);
    }
  });

  it('workers: probes on WORKER_HTTP_PORT, readiness on /readyz, liveness on /healthz', () => {
    for (const w of workers) {
      const c = container(w);
      const port = Number(env(w).WORKER_HTTP_PORT);
      expect(port).toBeGreaterThan(0);
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'])
        expect(c[probe].httpGet.port, `${w.metadata.name} ${probe}`).toBe(port);
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.ports.map((p: Doc) => p.containerPort)).toContain(port);
      expect(w.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(port));
    }
  });

  it('workers: the CPU request is INFERENCE_THREADS × INTRA_OP_THREADS', () => {
    for (const w of workers) {
      const e = env(w);
      const threads = Number(e.INFERENCE_THREADS);
      const intraOp = Number(e.INTRA_OP_THREADS);
      expect(threads * intraOp).toBeGreaterThan(0);
      expect(cores(container(w).resources.requests.cpu), w.metadata.name).toBe(threads * intraOp);
    }
  });

  it('a PodDisruptionBudget selects the worker pods', () => {
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === 'sentiment-worker')!;
    expect(pdb.apiVersion).toBe('policy/v1');
    for (const w of workers) {
      const labels = w.spec.template.metadata.labels as Record<string, string>;
      for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels as Record<string, string>))
        expect(labels[k], w.metadata.name).toBe(v);
    }
  });

  it("KEDA's redis triggers watch <QUEUE_PREFIX>:<REVIEWS_QUEUE>:wait and <QUEUE_PREFIX>:<BULK_QUEUE>:wait from the ConfigMap", () => {
    const triggers = objects.filter((o) => o.kind === 'ScaledObject').flatMap((o) => o.spec.triggers as Doc[]);
    const redis = triggers.filter((t) => t.type === 'redis');
    expect(redis).toHaveLength(2);
    expect(redis.map((t) => t.metadata.listName)).toEqual([
      `${data.QUEUE_PREFIX}:${data.REVIEWS_QUEUE}:wait`,
      `${data.QUEUE_PREFIX}:${data.BULK_QUEUE}:wait`,
    ]);
    const prometheus = triggers.find((t) => t.type === 'prometheus')!;
    expect(prometheus.metadata.query).toContain('sf_scaling_recommended_replicas');
    expect(prometheus.metadata.threshold).toBe('1');
  });

  it('every autoscaler targets the worker Deployment with SCALING_MIN/MAX_REPLICAS', () => {
    const stable = workers.find((w) => w.metadata.name === 'sentiment-worker')!;
    const scalers = objects.filter((o) => o.kind === 'ScaledObject' || o.kind === 'HorizontalPodAutoscaler');
    expect(scalers.map((s) => s.kind).sort()).toEqual(['HorizontalPodAutoscaler', 'ScaledObject', 'ScaledObject']);
    for (const s of scalers) {
      expect(s.spec.scaleTargetRef.name).toBe(stable.metadata.name);
      const [min, max] =
        s.kind === 'ScaledObject'
          ? [s.spec.minReplicaCount, s.spec.maxReplicaCount]
          : [s.spec.minReplicas, s.spec.maxReplicas];
      expect([min, max], `${s.kind} ${s.metadata.name}`).toEqual([
        Number(data.SCALING_MIN_REPLICAS),
        Number(data.SCALING_MAX_REPLICAS),
      ]);
    }
    const hpa = scalers.find((s) => s.kind === 'HorizontalPodAutoscaler')!;
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.metrics[0].external.metric.name).toBe('sf_scaling_recommended_replicas');
  });

  it('the ingest Deployment reads DATABASE_URL (its result routes) from the Secret the sink reads it from', () => {
    const secret = parseAllDocuments(readFileSync(path.join(k8sDir, 'secret.example.yaml'), 'utf8'))[0]!.toJS() as Doc;
    expect(secret.stringData.DATABASE_URL).toMatch(/^postgres:\/\//);
    const secretRefs = (d: Doc) =>
      (container(d).envFrom as Doc[]).flatMap((e) => (e.secretRef ? [e.secretRef.name] : []));
    const ingest = deployments.find((d) => container(d).command.includes('dist/producer/ingest-server.js'))!;
    const sink = deployments.find((d) => container(d).command.includes('dist/workers/result-sink.js'))!;
    expect(secretRefs(ingest)).toContain(secret.metadata.name);
    expect(secretRefs(ingest)).toEqual(secretRefs(sink));
    expect(env(ingest).DATABASE_URL).toBeUndefined(); // not overridden with another value
  });

  it('uses the image docker compose builds', () => {
    const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as Doc;
    const composeImage = String(compose['x-app'].image).split(':')[0];
    for (const d of deployments) expect(String(container(d).image).split(':')[0], d.metadata.name).toBe(composeImage);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as Doc;

  it('the worker service scales (no host port, no container_name) and drains within its stop grace period', () => {
    const worker = compose.services.worker as Doc;
    expect(worker.ports).toBeUndefined();
    expect(worker.container_name).toBeUndefined();
    const graceS = Number(/^(\d+)s$/.exec(worker.stop_grace_period)?.[1]);
    expect(graceS * 1000).toBeGreaterThan(Number(worker.environment.SHUTDOWN_GRACE_MS));
  });

  it('the ingest service reads the database the sink writes (its result routes), once PostgreSQL is healthy', () => {
    const { ingest, sink } = compose.services as Record<string, Doc>;
    expect(ingest!.environment.DATABASE_URL).toMatch(/^postgres:\/\//);
    expect(ingest!.environment.DATABASE_URL).toBe(sink!.environment.DATABASE_URL);
    expect(ingest!.depends_on.postgres.condition).toBe('service_healthy');
  });

  it('Redis is not published beyond the host', () => {
    const ports = (compose.services.redis.ports ?? []) as string[];
    for (const p of ports) expect(String(p)).toMatch(/^127\.0\.0\.1:/);
  });
});
