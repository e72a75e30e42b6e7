/**
 * The autoscaling manifests: the KEDA ScaledObject with actual and predicted triggers (the
 * default integration), the autoscaling/v2 HPA on Prometheus Adapter external metrics (the
 * alternative), the ServiceMonitor both need, and the RBAC of the opt-in patch mode.
 */
import {
  ACTUAL_EXTERNAL_METRIC,
  ACTUAL_TRIGGER,
  formatQuantity,
  PREDICTED_EXTERNAL_METRIC,
  PREDICTED_TRIGGER,
  SIGNALS,
} from '@tidewatch/conventions';
import { stringify } from 'yaml';
import { type DeployConfig, targetPerReplica } from './config.js';
import {
  actualQuery,
  labels,
  type Manifest,
  predictedFold,
  predictedQuery,
  predictorName,
} from './manifests.js';

/**
 * KEDA `fallback.failureThreshold`: a metric falls back once its consecutive failures exceed
 * it (`NumberOfFailures > failureThreshold` in KEDA's pkg/fallback/fallback.go), i.e. on the
 * 4th failed read in a row.
 */
export const FALLBACK_FAILURE_THRESHOLD = 3;

/**
 * HPA behaviour for connection-holding servers. Scale-up is the Kubernetes default (the larger
 * of +4 pods or +100 % per 15 s). Scale-down waits `scaleDownStabilizationSeconds` (default
 * 30 min instead of 5): existing WebSockets stay on their pod, so a pod added for a peak only
 * fills with new connections, and every removed pod drops its clients into a reconnect wave.
 * It then removes at most max(1 pod, 10 %) per minute (a bare 10 % rounds to zero pods below
 * ten replicas).
 */
export function behavior(c: DeployConfig): Record<string, unknown> {
  return {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    },
    scaleDown: {
      stabilizationWindowSeconds: c.scaleDownStabilizationSeconds,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 1, periodSeconds: 60 },
        { type: 'Percent', value: 10, periodSeconds: 60 },
      ],
    },
  };
}

/**
 * The KEDA ScaledObject: two `prometheus` triggers with the same threshold (capacity x target
 * utilisation); the HPA takes the larger replica count, so a prediction can only add capacity.
 *
 * `ignoreNullValues` differs on purpose. An absent prediction (stale forecast: nothing
 * published) reads as 0 and the actual trigger decides alone (reactive). An empty actual
 * query (a ServiceMonitor that lost its `release` label) is an observability outage, not zero
 * load: with "true" it would read 0 and shrink the fleet to `minReplicas`, so it stays an
 * error. What an error does is KEDA's fallback, applied per metric (pkg/fallback/fallback.go):
 * after more than `failureThreshold` failures in a row, that metric alone reads
 * `threshold x N` and the HPA still takes the maximum over both triggers. With
 * `fallback.behavior: currentReplicasIfHigher` N = max(current replicas, `fallback.replicas`),
 * and `fallback.replicas` defaults to `minReplicas`: the fleet holds what it runs, a prediction
 * can still add, nothing drops. With `static` N would be `fallback.replicas`, which used to be
 * `maxReplicas`: an empty query sent the fleet to the maximum within four polls.
 */
export function scaledObject(c: DeployConfig): Manifest {
  // KEDA parses `threshold` as a float (no quantity suffixes): 233.1, not 233100m.
  const threshold = String(targetPerReplica(c));
  const trigger = (name: string, query: string, ignoreNullValues: boolean) => ({
    type: 'prometheus',
    name,
    metricType: 'AverageValue',
    metadata: {
      serverAddress: c.prometheusUrl,
      query,
      threshold,
      ignoreNullValues: String(ignoreNullValues),
    },
  });
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: c.name, namespace: c.namespace, labels: labels(c) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: c.name },
      pollingInterval: c.lead.pollingSeconds,
      minReplicaCount: c.minReplicas,
      maxReplicaCount: c.maxReplicas,
      fallback: {
        failureThreshold: FALLBACK_FAILURE_THRESHOLD,
        replicas: c.fallbackReplicas,
        behavior: c.fallbackBehavior,
      },
      advanced: { horizontalPodAutoscalerConfig: { behavior: behavior(c) } },
      triggers: [
        trigger(ACTUAL_TRIGGER, actualQuery(c), false),
        trigger(PREDICTED_TRIGGER, predictedQuery(c), true),
      ],
    },
  };
}

/** The autoscaling/v2 HPA on the adapter's two external metrics, AverageValue = threshold. */
export function horizontalPodAutoscaler(c: DeployConfig): Manifest {
  const averageValue = formatQuantity(targetPerReplica(c));
  const external = (name: string, matchLabels: Record<string, string>) => ({
    type: 'External',
    external: {
      metric: { name, selector: { matchLabels } },
      target: { type: 'AverageValue', averageValue },
    },
  });
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: c.name, namespace: c.namespace, labels: labels(c) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: c.name },
      minReplicas: c.minReplicas,
      maxReplicas: c.maxReplicas,
      metrics: [
        external(ACTUAL_EXTERNAL_METRIC, { job: c.name }),
        external(PREDICTED_EXTERNAL_METRIC, { job: c.name, metric: c.metric }),
      ],
      behavior: behavior(c),
    },
  };
}

/**
 * Prometheus Adapter `externalRules` exposing both metrics (the adapter adds the HPA's
 * namespace and selector labels as `<<.LabelMatchers>>`). The predicted rule is discovered
 * through the sidecar's scheduled-jobs gauge, a series every running sidecar always has, and falls
 * back to `vector(0)`: the adapter only serves metrics it discovered, and an absent or empty
 * external metric is an HPA error that blocks scale-down, whereas 0 leaves the actual load
 * in charge, as KEDA's `ignoreNullValues` does.
 */
export function adapterRules(c: DeployConfig): Record<string, unknown> {
  const resources = { overrides: { namespace: { resource: 'namespace' } } };
  const agg = predictedFold(c);
  const jobs = SIGNALS.scheduledJobs.name;
  return {
    externalRules: [
      {
        seriesQuery: `${c.metric}{namespace!="",job!=""}`,
        resources,
        name: { matches: `^${c.metric}$`, as: ACTUAL_EXTERNAL_METRIC },
        metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})',
      },
      {
        seriesQuery: `${jobs}{namespace!="",job!=""}`,
        resources,
        name: { matches: `^${jobs}$`, as: PREDICTED_EXTERNAL_METRIC },
        metricsQuery: `${agg}(${SIGNALS.predictedLoad.name}{<<.LabelMatchers>>}) or vector(0)`,
      },
    ],
  };
}

/** The adapter's ConfigMap (the Helm chart's name and key); merge into an existing config. */
export function adapterConfigMap(c: DeployConfig): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'prometheus-adapter',
      namespace: c.adapterNamespace,
      labels: {
        'app.kubernetes.io/name': 'prometheus-adapter',
        'app.kubernetes.io/part-of': 'tidewatch',
      },
    },
    data: {
      'config.yaml': stringify(adapterRules(c), { lineWidth: 0, aliasDuplicateObjects: false }),
    },
  };
}

/**
 * Scrapes the server's and the predictor's `/metrics` (job = the server's Service name; the
 * predictor endpoint is relabelled to it, which matters for the standalone shape).
 */
export function serviceMonitor(c: DeployConfig): Manifest {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: c.name, namespace: c.namespace, labels: labels(c) },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': c.name } },
      namespaceSelector: { matchNames: [c.namespace] },
      endpoints: [
        { port: 'http', path: c.metricsPath, interval: '15s' },
        {
          port: 'predictor',
          path: '/metrics',
          interval: '15s',
          // The standalone predictor's Service is `<name>-predictor`; the predicted query reads
          // job="<name>" in both shapes (a no-op for the sidecar, whose Service is `<name>`).
          relabelings: [{ action: 'replace', targetLabel: 'job', replacement: c.name }],
        },
      ],
    },
  };
}

/** The API group and resource patch mode writes to. */
export function patchResource(c: DeployConfig): { apiGroup: string; resource: string } {
  return c.patchKind === 'scaledobject'
    ? { apiGroup: 'keda.sh', resource: 'scaledobjects' }
    : { apiGroup: 'autoscaling', resource: 'horizontalpodautoscalers' };
}

/** Patch mode's Role: get and patch on the one ScaledObject (or HPA), by name. */
export function patchRole(c: DeployConfig): Manifest {
  const { apiGroup, resource } = patchResource(c);
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: predictorName(c), namespace: c.namespace, labels: labels(c) },
    rules: [
      {
        apiGroups: [apiGroup],
        resources: [resource],
        resourceNames: [c.name],
        verbs: ['get', 'patch'],
      },
    ],
  };
}

/** Binds {@link patchRole} to the sidecar's ServiceAccount. */
export function patchRoleBinding(c: DeployConfig): Manifest {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: predictorName(c), namespace: c.namespace, labels: labels(c) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: predictorName(c) },
    subjects: [{ kind: 'ServiceAccount', name: predictorName(c), namespace: c.namespace }],
  };
}
