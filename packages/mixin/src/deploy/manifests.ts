/**
 * The workload manifests as plain objects: the realtime server's Deployment with the predictor
 * sidecar, its Service, the sidecar's ConfigMap and ServiceAccount, plus the PromQL both
 * autoscaler integrations query. Tests validate them with `kubernetes-models`; this module has
 * no runtime dependency on it.
 */
import {
  ACTUAL_EXTERNAL_METRIC,
  ACTUAL_TRIGGER,
  SIGNALS,
  SOURCE_SCOPES,
} from '@tidewatch/conventions';
import { stringify } from 'yaml';
import type { DeployConfig } from './config.js';
import { electionEnv, predictorAccount, tokenMounts, tokenVolumes } from './election.js';

/** Object metadata as far as the generator uses it. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Any Kubernetes object the generator emits (the rest of the shape is the kind's own). */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Where the sidecar's config file is mounted. */
export const SIDECAR_CONFIG_PATH = '/etc/tidewatch/config.yaml';
/** The sidecar's history directory (an emptyDir). */
export const SIDECAR_DATA_DIR = '/var/lib/tidewatch';

/** Labels of everything that belongs to the server; the selector uses the first. */
export function labels(c: DeployConfig): Record<string, string> {
  return { 'app.kubernetes.io/name': c.name, 'app.kubernetes.io/part-of': 'tidewatch' };
}

/** Name of the sidecar's ConfigMap, ServiceAccount and patch-mode Role. */
export const predictorName = predictorAccount;

/** The fleet's actual load: `sum(<metric>{namespace="realtime",job="realtime-server"})`. */
export function actualQuery(c: DeployConfig): string {
  return `sum(${c.metric}{namespace="${c.namespace}",job="${c.name}"})`;
}

/**
 * How the sidecars' predicted-load series are folded: every replica's sidecar publishes one;
 * with a fleet-wide source (`prometheus`) they all forecast the fleet, so `max()` folds the
 * duplicates; with a per-pod source (`scrape`) each forecasts its own pod, so they are summed.
 */
export function predictedFold(c: DeployConfig): 'max' | 'sum' {
  return SOURCE_SCOPES[c.source] === 'fleet' ? 'max' : 'sum';
}

/**
 * What the predicted trigger reads: the predicted-load signal (max(p50 peak, target x p90
 * peak) over the lead time, see docs/design.md), not the bare p90 peak, which would provision
 * for the band twice at the same threshold; folded by {@link predictedFold}.
 */
export function predictedQuery(c: DeployConfig): string {
  return `${predictedFold(c)}(${SIGNALS.predictedLoad.name}{namespace="${c.namespace}",job="${c.name}",metric="${c.metric}"})`;
}

/** The sidecar's config file (the `serve` schema of docs/sidecar.md). */
export function sidecarConfig(c: DeployConfig): Record<string, unknown> {
  const source =
    c.source === 'prometheus'
      ? { kind: 'prometheus', url: c.prometheusUrl, query: actualQuery(c) }
      : { kind: 'scrape', urls: [`http://127.0.0.1:${c.port}${c.metricsPath}`], type: 'gauge' };
  return {
    // Kubelet probes and Prometheus reach the pod IP, not loopback.
    listen: { host: '0.0.0.0', port: c.predictorPort },
    source,
    metric: c.metric,
    target: c.name,
    stepSeconds: 60,
    planner: {
      capacityPerReplica: c.capacityPerReplica,
      targetUtilization: c.targetUtilization,
      minReplicas: c.minReplicas,
      maxReplicas: c.maxReplicas,
      lead: { ...c.lead },
    },
    // Off by default: the two triggers need no write access. See deploy/rbac-patch-mode.yaml.
    patch: {
      enabled: c.patchMode,
      kind: c.patchKind,
      namespace: c.namespace,
      name: c.name,
      triggerName: c.patchKind === 'scaledobject' ? ACTUAL_TRIGGER : ACTUAL_EXTERNAL_METRIC,
    },
  };
}

/** The sidecar's ConfigMap (`config.yaml`). */
export function sidecarConfigMap(c: DeployConfig): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: predictorName(c), namespace: c.namespace, labels: labels(c) },
    data: {
      'config.yaml': stringify(sidecarConfig(c), { lineWidth: 0, aliasDuplicateObjects: false }),
    },
  };
}

/**
 * The predictor's ServiceAccount. Its token is never automounted: when election or patch mode
 * needs the API, the Deployment projects it into the predictor container only, so the
 * internet-facing server container holds no credential; otherwise no container gets one.
 */
export function serviceAccount(c: DeployConfig): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: predictorName(c), namespace: c.namespace, labels: labels(c) },
    automountServiceAccountToken: false,
  };
}

const restricted = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/** The realtime server's container (no credential, ever). */
export function serverContainer(c: DeployConfig): Record<string, unknown> {
  return {
    name: 'server',
    image: c.image,
    ports: [{ name: 'http', containerPort: c.port, protocol: 'TCP' }],
    env: [
      { name: 'PORT', value: String(c.port) },
      { name: 'SHUTDOWN_DRAIN_SECONDS', value: String(c.drainSeconds) },
    ],
    // Replace with the server's own readiness endpoint; TCP works for any server.
    readinessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 5 },
    livenessProbe: {
      tcpSocket: { port: 'http' },
      periodSeconds: 10,
      failureThreshold: 6,
    },
    // The sleep action needs no shell in the image (Kubernetes >= 1.30): endpoints
    // stop sending new connections here before the server starts closing them.
    lifecycle: { preStop: { sleep: { seconds: c.preStopSeconds } } },
    // No CPU limit: CFS throttling shows up as ping and handshake latency.
    resources: {
      requests: { cpu: '500m', memory: '512Mi' },
      limits: { memory: '512Mi' },
    },
    securityContext: restricted,
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };
}

/**
 * The predictor container, in the server's pod (sidecar shape) or alone (standalone shape):
 * election env and the API token only when {@link DeployConfig.election} or patch mode needs
 * them.
 */
export function predictorContainer(c: DeployConfig): Record<string, unknown> {
  const httpGet = (path: string) => ({ httpGet: { path, port: 'predictor' } });
  return {
    name: 'predictor',
    image: c.predictorImage,
    command: ['tidewatch-predictor'],
    args: ['serve'],
    env: [
      { name: 'TIDEWATCH_CONFIG', value: SIDECAR_CONFIG_PATH },
      { name: 'TIDEWATCH_DATA_DIR', value: SIDECAR_DATA_DIR },
      // Training runs in a worker thread; keep the heap inside the memory limit.
      { name: 'NODE_OPTIONS', value: '--max-old-space-size=384' },
      ...electionEnv(c),
    ],
    ports: [{ name: 'predictor', containerPort: c.predictorPort, protocol: 'TCP' }],
    // /healthz (alive) only. /readyz stays 503 until the first forecast (minutes to
    // hours): as a readiness probe it would take the whole pod, server included, out
    // of the Service. A sidecar without a forecast publishes nothing instead, and the
    // autoscaler follows the actual load.
    startupProbe: { ...httpGet('/healthz'), periodSeconds: 2, failureThreshold: 30 },
    livenessProbe: { ...httpGet('/healthz'), periodSeconds: 10, failureThreshold: 3 },
    resources: {
      requests: { cpu: '100m', memory: '256Mi' },
      limits: { memory: '512Mi' },
    },
    securityContext: restricted,
    volumeMounts: [
      { name: 'config', mountPath: '/etc/tidewatch', readOnly: true },
      { name: 'history', mountPath: SIDECAR_DATA_DIR },
      { name: 'tmp', mountPath: '/tmp' },
      ...tokenMounts(c),
    ],
  };
}

/** The realtime server's Deployment with the predictor sidecar. */
export function deployment(c: DeployConfig): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: c.name, namespace: c.namespace, labels: labels(c) },
    spec: {
      // No `replicas`: the autoscaler owns the count; a value here would reset it on every apply.
      selector: { matchLabels: { 'app.kubernetes.io/name': c.name } },
      // Never below the current capacity during a rollout: a removed pod drops its connections.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels(c) },
        spec: {
          serviceAccountName: predictorName(c),
          automountServiceAccountToken: false,
          // preStop, then SIGTERM and the server's drain (close frames spread over drainSeconds
          // so clients reconnect elsewhere without a thundering herd), plus a margin.
          terminationGracePeriodSeconds: c.preStopSeconds + c.drainSeconds + 15,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [serverContainer(c), predictorContainer(c)],
          volumes: [
            { name: 'config', configMap: { name: predictorName(c) } },
            // History is rebuilt from Prometheus at start (prometheus source), so a pod-lived
            // emptyDir suffices; with the scrape source use a PVC to keep it across restarts.
            { name: 'history', emptyDir: { sizeLimit: '256Mi' } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            ...tokenVolumes(c),
          ],
        },
      },
    },
  };
}

/** The Service: client traffic on `http`, and the sidecar's `/metrics` on `predictor`. */
export function service(c: DeployConfig): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: c.name, namespace: c.namespace, labels: labels(c) },
    spec: {
      selector: { 'app.kubernetes.io/name': c.name },
      ports: [
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        { name: 'predictor', port: c.predictorPort, targetPort: 'predictor', protocol: 'TCP' },
      ],
    },
  };
}
