import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { deployConfig } from '../../src/deploy/config.js';
import {
  deployFiles,
  GENERATED_HEADER,
  generateDeployFiles,
  type Manifest,
} from '../../src/deploy/index.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const files = generateDeployFiles();
const defaults = deployConfig();

/** The parsed documents of a generated file. */
function docs(path: string, content = files.get(path)): any[] {
  if (content === undefined) throw new Error(`not generated: ${path}`);
  const parsed = parseAllDocuments(content);
  for (const d of parsed) if (d.errors.length > 0) throw d.errors[0];
  return parsed.map((d) => d.toJS());
}
const byKind = (list: any[], kind: string): any => {
  const found = list.filter((d) => d.kind === kind);
  expect(found).toHaveLength(1);
  return found[0];
};

/** `.validate()` of the matching kubernetes-models class; ServiceMonitor has none installed. */
function validate(m: any): void {
  const models: Record<string, new (data: any) => { validate(): void }> = {
    Deployment,
    Service,
    ConfigMap,
    ServiceAccount,
    HorizontalPodAutoscaler,
    Role,
    RoleBinding,
    ScaledObject,
    PodDisruptionBudget,
    Ingress,
  };
  const Model = models[m.kind];
  if (!Model) throw new Error(`no model for ${m.kind}`);
  new Model(m).validate();
  if (m.kind === 'ScaledObject') validateFallback(m);
}

/**
 * @kubernetes-models/keda 0.4.2 predates `fallback.behavior` (KEDA 2.17) and lets any value
 * through, so the enum of KEDA's CRD (apis/keda/v1alpha1/scaledobject_types.go) is checked here.
 */
function validateFallback(m: any): void {
  const behavior = m.spec.fallback?.behavior;
  const allowed = [
    'static',
    'currentReplicas',
    'currentReplicasIfHigher',
    'currentReplicasIfLower',
  ];
  if (behavior !== undefined && !allowed.includes(behavior))
    throw new Error(`spec.fallback.behavior must be one of ${allowed.join(', ')}, got ${behavior}`);
}

describe('generated deploy files', () => {
  it('are the seven files, each starting with the generated header', () => {
    expect([...files.keys()]).toEqual([
      'deploy/realtime-server-with-sidecar.yaml',
      'deploy/predictor-standalone.yaml',
      'deploy/ingress.yaml',
      'deploy/keda-scaledobject.yaml',
      'deploy/hpa-external-metric.yaml',
      'deploy/servicemonitor.yaml',
      'deploy/rbac-patch-mode.yaml',
    ]);
    for (const content of files.values()) {
      expect(content.split('\n')[0]).toBe(GENERATED_HEADER);
      expect(content).not.toMatch(/[&*]a\d/); // no YAML anchors or aliases
    }
  });

  it('equal the committed deploy/*.yaml, and generating twice gives the same bytes', () => {
    for (const [path, content] of files)
      expect(readFileSync(`${root}${path}`, 'utf8')).toBe(content);
    expect(generateDeployFiles()).toEqual(files);
  });

  it('parse back to exactly the objects they were made from', () => {
    for (const file of deployFiles(defaults))
      expect(docs(file.path)).toEqual(file.documents.map((d) => d.manifest));
  });

  it('validate against kubernetes-models and @kubernetes-models/keda', () => {
    let validated = 0;
    for (const path of files.keys())
      for (const m of docs(path)) {
        if (m.kind === 'ServiceMonitor') continue; // checked structurally below
        validate(m);
        validated++;
      }
    expect(validated).toBe(22);
  });

  it('the validation is real: a bad object fails', () => {
    const so = byKind(docs('deploy/keda-scaledobject.yaml'), 'ScaledObject');
    so.spec.triggers[0].metadata.threshold = 350; // KEDA metadata values are strings
    expect(() => validate(so)).toThrow(/threshold must be string/);
    const fallback = byKind(docs('deploy/keda-scaledobject.yaml'), 'ScaledObject');
    fallback.spec.fallback.behavior = 'keepCurrent';
    expect(() => validate(fallback)).toThrow(/fallback.behavior must be one of/);
  });
});

describe('KEDA ScaledObject', () => {
  const so = byKind(docs('deploy/keda-scaledobject.yaml'), 'ScaledObject');

  it('has the actual and predicted triggers with the same threshold, 500 x 0.7 = 350', () => {
    expect(so.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'realtime-server',
    });
    expect(so.spec.triggers).toEqual([
      {
        type: 'prometheus',
        name: 'actual-load',
        metricType: 'AverageValue',
        metadata: {
          serverAddress: 'http://prometheus-operated.monitoring.svc:9090',
          query: 'sum(realtime_connections{namespace="realtime",job="realtime-server"})',
          threshold: '350',
          ignoreNullValues: 'false',
        },
      },
      {
        type: 'prometheus',
        name: 'predicted-load',
        metricType: 'AverageValue',
        metadata: {
          serverAddress: 'http://prometheus-operated.monitoring.svc:9090',
          query:
            'max(tidewatch_predicted_load{namespace="realtime",job="realtime-server",metric="realtime_connections"})',
          threshold: '350',
          ignoreNullValues: 'true',
        },
      },
    ]);
  });

  it('scales 2..50, holds the current count when a metric fails, and scales down slowly', () => {
    expect(so.spec.minReplicaCount).toBe(2);
    expect(so.spec.maxReplicaCount).toBe(50);
    expect(so.spec.pollingInterval).toBe(30);
    // Per failing metric: threshold x max(current, 2); never maxReplicas on an empty query.
    expect(so.spec.fallback).toEqual({
      failureThreshold: 3,
      replicas: 2,
      behavior: 'currentReplicasIfHigher',
    });
    const b = so.spec.advanced.horizontalPodAutoscalerConfig.behavior;
    expect(b.scaleDown.stabilizationWindowSeconds).toBe(1800);
    expect(b.scaleDown.policies).toEqual([
      { type: 'Pods', value: 1, periodSeconds: 60 },
      { type: 'Percent', value: 10, periodSeconds: 60 },
    ]);
    expect(b.scaleUp.stabilizationWindowSeconds).toBe(0);
  });

  it('explains ignoreNullValues and the per-metric fallback in the file', () => {
    const text = files.get('deploy/keda-scaledobject.yaml') as string;
    expect(text).toContain('# A stale forecast publishes nothing. "true" reads that as 0');
    expect(text).toContain('# Per metric, not per ScaledObject');
    expect(text).toContain('N = max(current replicas, replicas)');
    expect(text).toContain('KEDA >= 2.17');
    expect(text).not.toMatch(/sets exactly/);
  });
});

describe('HPA + Prometheus Adapter', () => {
  const list = docs('deploy/hpa-external-metric.yaml');
  const hpa = byKind(list, 'HorizontalPodAutoscaler');
  const adapter = parse(byKind(list, 'ConfigMap').data['config.yaml']);

  it('has two External metrics with AverageValue 350', () => {
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.minReplicas).toBe(2);
    expect(hpa.spec.maxReplicas).toBe(50);
    expect(hpa.spec.metrics).toEqual([
      {
        type: 'External',
        external: {
          metric: {
            name: 'tidewatch_actual_load',
            selector: { matchLabels: { job: 'realtime-server' } },
          },
          target: { type: 'AverageValue', averageValue: '350' },
        },
      },
      {
        type: 'External',
        external: {
          metric: {
            name: 'tidewatch_predicted_load',
            selector: { matchLabels: { job: 'realtime-server', metric: 'realtime_connections' } },
          },
          target: { type: 'AverageValue', averageValue: '350' },
        },
      },
    ]);
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(1800);
  });

  it('has adapter externalRules exposing exactly the metrics the HPA reads', () => {
    const rules = adapter.externalRules;
    expect(rules.map((r: any) => r.name.as)).toEqual(
      hpa.spec.metrics.map((m: any) => m.external.metric.name),
    );
    expect(rules[0].metricsQuery).toBe('sum(<<.Series>>{<<.LabelMatchers>>})');
    expect(rules[1].seriesQuery).toBe('tidewatch_scheduled_jobs{namespace!="",job!=""}');
    expect(rules[1].metricsQuery).toBe(
      'max(tidewatch_predicted_load{<<.LabelMatchers>>}) or vector(0)',
    );
    for (const r of rules)
      expect(r.resources).toEqual({ overrides: { namespace: { resource: 'namespace' } } });
  });
});

describe('Deployment with the sidecar', () => {
  const list = docs('deploy/realtime-server-with-sidecar.yaml');
  const dep = byKind(list, 'Deployment');
  const pod = dep.spec.template.spec;
  const [server, predictor] = pod.containers;

  it('runs the server on 8080 and the sidecar `tidewatch-predictor serve` on 9464', () => {
    expect(dep.spec.replicas).toBeUndefined(); // the autoscaler owns the count
    expect(server.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(predictor.command).toEqual(['tidewatch-predictor']);
    expect(predictor.args).toEqual(['serve']);
    expect(predictor.ports).toEqual([{ name: 'predictor', containerPort: 9464, protocol: 'TCP' }]);
    expect(predictor.env).toContainEqual({
      name: 'TIDEWATCH_CONFIG',
      value: '/etc/tidewatch/config.yaml',
    });
  });

  it('probes the sidecar on /healthz only (a /readyz readiness probe would gate the server)', () => {
    expect(predictor.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'predictor' });
    expect(predictor.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'predictor' });
    expect(predictor.readinessProbe).toBeUndefined();
  });

  it('drains: preStop sleep 15 s, grace 15 + 300 + 15 s, never fewer pods during a rollout', () => {
    expect(server.lifecycle.preStop).toEqual({ sleep: { seconds: 15 } });
    expect(pod.terminationGracePeriodSeconds).toBe(330);
    expect(dep.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('runs non-root on read-only root filesystems, history on an emptyDir', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    for (const c of pod.containers) {
      expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
      expect(c.resources.requests.memory).toMatch(/Mi$/);
    }
    expect(pod.volumes.find((v: any) => v.name === 'history')).toEqual({
      name: 'history',
      emptyDir: { sizeLimit: '256Mi' },
    });
    expect(predictor.volumeMounts).toContainEqual({
      name: 'history',
      mountPath: '/var/lib/tidewatch',
    });
  });

  it('passes the election settings, the identity from the downward API', () => {
    const env = Object.fromEntries(predictor.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      POD_NAME: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } },
      TIDEWATCH_ELECTION_ENABLED: 'true',
      TIDEWATCH_ELECTION_LEASE_NAME: 'realtime-server-predictor',
      TIDEWATCH_ELECTION_NAMESPACE: 'realtime',
      TIDEWATCH_ELECTION_IDENTITY: '$(POD_NAME)',
      TIDEWATCH_ELECTION_MODEL_CONFIGMAP: 'realtime-server-predictor-model',
    });
    const names = predictor.env.map((e: any) => e.name);
    expect(names.indexOf('POD_NAME')).toBeLessThan(names.indexOf('TIDEWATCH_ELECTION_IDENTITY'));
    expect(server.env.map((e: any) => e.name)).not.toContain('TIDEWATCH_ELECTION_ENABLED');
  });

  it('grants the election exactly get/update on its Lease and model ConfigMap, create unnamed', () => {
    const role = list.find((d) => d.kind === 'Role');
    expect(role.rules).toEqual([
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: ['realtime-server-predictor'],
        verbs: ['get', 'update'],
      },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: ['realtime-server-predictor-model'],
        verbs: ['get', 'update'],
      },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
    ]);
    const binding = byKind(list, 'RoleBinding');
    expect(binding.roleRef.name).toBe(role.metadata.name);
    expect(binding.subjects[0].name).toBe(pod.serviceAccountName);
  });

  it('mounts no token at all when neither election nor patch mode needs the API', () => {
    const off = generateDeployFiles({ election: false });
    const l = docs(
      'deploy/realtime-server-with-sidecar.yaml',
      off.get('deploy/realtime-server-with-sidecar.yaml'),
    );
    const p = byKind(l, 'Deployment').spec.template.spec;
    expect(p.automountServiceAccountToken).toBe(false);
    expect(p.volumes.map((v: any) => v.name)).not.toContain('predictor-token');
    for (const c of p.containers)
      expect(c.volumeMounts.map((m: any) => m.name)).not.toContain('predictor-token');
    expect(l.map((d) => d.kind)).not.toContain('Role');
    // Patch mode alone brings the token back, still into the predictor only.
    const patch = generateDeployFiles({ election: false, patchMode: true });
    const pp = byKind(
      docs(
        'deploy/realtime-server-with-sidecar.yaml',
        patch.get('deploy/realtime-server-with-sidecar.yaml'),
      ),
      'Deployment',
    ).spec.template.spec;
    expect(pp.volumes.map((v: any) => v.name)).toContain('predictor-token');
    expect(pp.containers[0].volumeMounts.map((m: any) => m.name)).not.toContain('predictor-token');
    expect(pp.containers[1].volumeMounts.map((m: any) => m.name)).toContain('predictor-token');
  });

  it('gives the API token to the predictor container only', () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('realtime-server-predictor');
    const tokenMount = (c: any) =>
      (c.volumeMounts ?? []).some((m: any) => m.name === 'predictor-token');
    expect(tokenMount(predictor)).toBe(true);
    expect(tokenMount(server)).toBe(false);
  });

  it('has a ConfigMap with the sidecar config: capacity 500 and target 0.7 (test/deploy-sidecar-config.test.ts parses it with the sidecar)', () => {
    const cm = byKind(list, 'ConfigMap');
    expect(pod.volumes).toContainEqual({ name: 'config', configMap: { name: cm.metadata.name } });
    const config = parse(cm.data['config.yaml']);
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(config.source).toEqual({
      kind: 'prometheus',
      url: 'http://prometheus-operated.monitoring.svc:9090',
      query: 'sum(realtime_connections{namespace="realtime",job="realtime-server"})',
    });
    expect(config.planner.capacityPerReplica).toBe(500);
    expect(config.planner.targetUtilization).toBe(0.7);
    expect(config.planner.lead).toEqual({
      podStartSeconds: 60,
      readinessSeconds: 30,
      metricLagSeconds: 30,
      pollingSeconds: 30,
    });
    expect(config.target).toBe('realtime-server');
  });

  it('has a Service exposing http and the sidecar port', () => {
    const svc = byKind(list, 'Service');
    expect(svc.spec.ports.map((p: any) => [p.name, p.port, p.targetPort])).toEqual([
      ['http', 80, 'http'],
      ['predictor', 9464, 'predictor'],
    ]);
    expect(svc.spec.selector).toEqual(dep.spec.selector.matchLabels);
  });
});

describe('ServiceMonitor', () => {
  const sm = byKind(docs('deploy/servicemonitor.yaml'), 'ServiceMonitor');
  const svc = byKind(docs('deploy/realtime-server-with-sidecar.yaml'), 'Service');

  it('scrapes /metrics on both Service ports it selects', () => {
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata).toMatchObject({ name: 'realtime-server', namespace: 'realtime' });
    expect(sm.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'realtime-server' });
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels))
      expect(svc.metadata.labels[k]).toBe(v);
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: ['realtime'] });
    expect(sm.spec.endpoints).toEqual([
      { port: 'http', path: '/metrics', interval: '15s' },
      {
        port: 'predictor',
        path: '/metrics',
        interval: '15s',
        relabelings: [{ action: 'replace', targetLabel: 'job', replacement: 'realtime-server' }],
      },
    ]);
    const ports = svc.spec.ports.map((p: any) => p.name);
    for (const e of sm.spec.endpoints) expect(ports).toContain(e.port);
  });
});

describe('patch-mode RBAC', () => {
  const list = docs('deploy/rbac-patch-mode.yaml');

  it('grants exactly get and patch on the one ScaledObject, bound to the sidecar account', () => {
    expect(list.map((d) => d.kind)).toEqual(['ServiceAccount', 'Role', 'RoleBinding']);
    const role = byKind(list, 'Role');
    expect(role.rules).toEqual([
      {
        apiGroups: ['keda.sh'],
        resources: ['scaledobjects'],
        resourceNames: ['realtime-server'],
        verbs: ['get', 'patch'],
      },
    ]);
    const binding = byKind(list, 'RoleBinding');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: role.metadata.name,
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'realtime-server-predictor', namespace: 'realtime' },
    ]);
    // The same account the Deployment runs as, identical in both files.
    const sidecarFile = docs('deploy/realtime-server-with-sidecar.yaml');
    expect(byKind(list, 'ServiceAccount')).toEqual(byKind(sidecarFile, 'ServiceAccount'));
  });

  it('targets the HPA instead with patchKind hpa', () => {
    const hpaFiles = generateDeployFiles({ patchKind: 'hpa' });
    const role = byKind(
      docs('deploy/rbac-patch-mode.yaml', hpaFiles.get('deploy/rbac-patch-mode.yaml')),
      'Role',
    );
    expect(role.rules).toEqual([
      {
        apiGroups: ['autoscaling'],
        resources: ['horizontalpodautoscalers'],
        resourceNames: ['realtime-server'],
        verbs: ['get', 'patch'],
      },
    ]);
    validate(role);
  });
});

describe('other configs', () => {
  it('the scrape source sums per-pod forecasts and scrapes the server on loopback', () => {
    const f = generateDeployFiles({ source: 'scrape', capacityPerReplica: 333 });
    const so = byKind(
      docs('deploy/keda-scaledobject.yaml', f.get('deploy/keda-scaledobject.yaml')),
      'ScaledObject',
    );
    expect(so.spec.triggers[1].metadata.query).toBe(
      'sum(tidewatch_predicted_load{namespace="realtime",job="realtime-server",metric="realtime_connections"})',
    );
    // 333 x 0.7 = 233.1: KEDA reads a float, the HPA a quantity in milli-units.
    expect(so.spec.triggers.map((t: any) => t.metadata.threshold)).toEqual(['233.1', '233.1']);
    const hpa = byKind(
      docs('deploy/hpa-external-metric.yaml', f.get('deploy/hpa-external-metric.yaml')),
      'HorizontalPodAutoscaler',
    );
    expect(hpa.spec.metrics.map((m: any) => m.external.target.averageValue)).toEqual([
      '233100m',
      '233100m',
    ]);
    const list = docs(
      'deploy/realtime-server-with-sidecar.yaml',
      f.get('deploy/realtime-server-with-sidecar.yaml'),
    );
    const config = parse(byKind(list, 'ConfigMap').data['config.yaml']);
    expect(config.source).toMatchObject({
      kind: 'scrape',
      urls: ['http://127.0.0.1:8080/metrics'],
    });
    for (const m of list) validate(m as Manifest);
    // Per-pod forecasts are summed: every sidecar publishes, so no election (and no token).
    expect(
      byKind(list, 'Deployment').spec.template.spec.volumes.map((v: any) => v.name),
    ).not.toContain('predictor-token');
  });
});
