// `kubectl kustomize deploy/k8s`, what `kubectl apply -k` applies: every object valid against its
// Kubernetes (or KEDA, Prometheus Operator) schema, and hardened: Pod Security "restricted"
// settings, no API token, pinned images, no replica count where an autoscaler owns it, ingress
// only from what needs it, probes, PDBs and drain delays. kubectl: Debian's kubernetes-client
// (.ci/run installs it); without it the test is skipped outside CI and fails under CI=true.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const root = path.resolve(import.meta.dirname, '../..');
/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
type Doc = Record<string, any>;

const kubectl = spawnSync('kubectl', ['kustomize', path.join(root, 'deploy/k8s')], { encoding: 'utf8' });
const rendered = kubectl.status === 0;
const skip = !rendered && process.env.CI !== 'true';

const models: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

function docs(text: string): Doc[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Doc)
    .filter((d) => d !== null);
}

/** Deployments in a file not rendered by the kustomization (the canary) get the same checks. */
const canary = docs(readFileSync(path.join(root, 'deploy/k8s/canary/worker-canary.yaml'), 'utf8'));
const objects = rendered ? docs(kubectl.stdout) : [];
const deployments = objects.filter((o) => o.kind === 'Deployment');
const named = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)!;
const pod = (d: Doc) => d.spec.template.spec as Doc;
const labelsOf = (d: Doc) => d.spec.template.metadata.labels as Record<string, string>;
const env = (c: Doc): Record<string, string> => Object.fromEntries((c.env ?? []).map((e: Doc) => [e.name, e.value]));
const matches = (selector: Doc, labels: Record<string, string>) =>
  Object.entries((selector.matchLabels ?? {}) as Record<string, string>).every(([k, v]) => labels[k] === v) &&
  ((selector.matchExpressions ?? []) as Doc[]).every((e) => e.operator === 'In' && e.values.includes(labels[e.key]));

describe.skipIf(skip)(
  `kubectl kustomize deploy/k8s${skip ? ' (skipped: no kubectl; apt-get install kubernetes-client)' : ''}`,
  () => {
    it('renders, and every object is valid against its schema', () => {
      expect(kubectl.error, 'kubectl must be on PATH (apt-get install kubernetes-client)').toBeUndefined();
      expect(kubectl.status, kubectl.stderr).toBe(0);
      expect(objects.length).toBeGreaterThanOrEqual(15);
      for (const o of objects) {
        const Model = models[`${o.apiVersion}/${o.kind}`];
        expect(Model, `no schema for ${o.apiVersion} ${o.kind}: add it to the test`).toBeDefined();
        expect(() => new Model!(o).validate(), `${o.kind} ${o.metadata?.name}`).not.toThrow();
        if (o.kind !== 'Namespace')
          expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe('sentiment-fleet');
      }
    });

    it('a schema check catches a wrong type (the check can fail)', () => {
      const broken = structuredClone(deployments[0]!);
      pod(broken).containers[0].ports = [{ containerPort: 'http' }];
      expect(() => new Deployment(broken).validate()).toThrow(/containerPort/);
    });

    it('every pod meets Pod Security "restricted" and mounts no API token', () => {
      expect(deployments.length).toBe(4);
      for (const d of [...deployments, ...canary]) {
        const p = pod(d);
        const name = d.metadata.name as string;
        expect(p.automountServiceAccountToken, name).toBe(false);
        expect(p.securityContext, name).toMatchObject({
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        for (const c of p.containers as Doc[]) {
          expect(c.securityContext, `${name}/${c.name}`).toMatchObject({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
        }
      }
    });

    it('images are pinned: the package version (= compose), never latest, pulled IfNotPresent', () => {
      const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string })
        .version;
      const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as Doc;
      expect(compose['x-app'].image).toBe(`sentiment-fleet:${version}`);
      for (const d of [...deployments, ...canary]) {
        for (const c of pod(d).containers as Doc[]) {
          expect(c.image, d.metadata.name).toMatch(/^[^:@]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/);
          expect(c.image, d.metadata.name).not.toMatch(/:latest$/);
          expect(c.imagePullPolicy).toBe('IfNotPresent');
        }
      }
      for (const d of deployments) expect(pod(d).containers[0].image).toBe(`sentiment-fleet:${version}`);
    });

    it('no replicas where an autoscaler owns the scale', () => {
      const scaled = objects
        .filter((o) => o.kind === 'ScaledObject' || o.kind === 'HorizontalPodAutoscaler')
        .map((o) => o.spec.scaleTargetRef.name as string);
      expect(scaled).toEqual(['sentiment-worker']);
      for (const name of scaled) expect(named('Deployment', name).spec.replicas, name).toBeUndefined();
    });

    it('ingest: a PDB, and a preStop delay that fits with SHUTDOWN_GRACE_MS in the grace period', () => {
      const ingest = named('Deployment', 'sentiment-ingest');
      const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && matches(o.spec.selector, labelsOf(ingest)))!;
      expect(pdb).toBeDefined();
      expect(pdb.spec.minAvailable).toBe(1);
      expect(ingest.spec.replicas).toBeGreaterThan(pdb.spec.minAvailable);
      const c = pod(ingest).containers[0] as Doc;
      const preStop = c.lifecycle.preStop.exec.command as string[];
      expect(preStop[0]).toBe('sleep');
      const total = Number(preStop[1]) * 1000 + Number(env(c).SHUTDOWN_GRACE_MS);
      expect(total).toBeLessThan(pod(ingest).terminationGracePeriodSeconds * 1000);
    });

    it('sink: probes and metrics on SINK_HTTP_PORT', () => {
      const sink = named('Deployment', 'sentiment-sink');
      const c = pod(sink).containers[0] as Doc;
      const port = Number(env(c).SINK_HTTP_PORT);
      expect(port).toBeGreaterThan(0);
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'])
        expect(c[probe].httpGet.port, probe).toBe(port);
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(sink.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(port));
    });

    it('NetworkPolicy: every pod denied by default; stats, workers and sink only from Prometheus (and labelled clients)', () => {
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
      const selecting = (d: Doc) => policies.filter((p) => matches(p.spec.podSelector, labelsOf(d)));
      const ports = (d: Doc) =>
        (pod(d).containers as Doc[]).flatMap((c) => (c.ports ?? []).map((p: Doc) => p.containerPort as number));
      for (const d of deployments) {
        const mine = selecting(d);
        expect(
          mine.some((p) => p.spec.policyTypes.includes('Ingress') && p.spec.ingress === undefined),
          `${d.metadata.name}: default deny`,
        ).toBe(true);
        const allowed = mine.flatMap((p) => (p.spec.ingress ?? []) as Doc[]);
        expect(allowed.length, `${d.metadata.name}: some ingress allowed`).toBeGreaterThan(0);
        for (const rule of allowed) {
          for (const p of rule.ports as Doc[]) expect([...ports(d), 9100, 9101], d.metadata.name).toContain(p.port);
          if (d.metadata.name === 'sentiment-ingest') continue; // the API: every client in the cluster
          expect(rule.from?.length, `${d.metadata.name}: a rule open to everyone`).toBeGreaterThan(0);
          for (const peer of rule.from as Doc[]) {
            const fromPrometheus =
              peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring' &&
              peer.podSelector === undefined;
            const labelledClient =
              d.metadata.name === 'sentiment-stats' &&
              peer.podSelector?.matchLabels?.['sentiment-fleet/stats-client'] === 'true' &&
              peer.namespaceSelector === undefined;
            expect(fromPrometheus || labelledClient, `${d.metadata.name}: ${JSON.stringify(peer)}`).toBe(true);
          }
        }
      }
    });

    it('the PrometheusRule holds exactly the groups of deploy/prometheus/alerts.yml', () => {
      const rule = objects.find((o) => o.kind === 'PrometheusRule')!;
      const file = parse(readFileSync(path.join(root, 'deploy/prometheus/alerts.yml'), 'utf8')) as Doc;
      expect(rule.spec).toEqual(file);
      const alerts = (file.groups as Doc[]).flatMap((g) => g.rules as Doc[]).map((r) => r.alert as string);
      expect(alerts.sort()).toEqual([
        'SentimentDrift',
        'SentimentFailureRate',
        'SentimentNoWorkers',
        'SentimentQueueOldestWaiting',
        'SentimentSinkPaused',
        'SentimentStatsDown',
        'SentimentStatsRedisDown',
      ]);
    });
  },
);
