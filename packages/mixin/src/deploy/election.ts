/**
 * What leader election and patch mode need from Kubernetes, in both shapes (sidecar and
 * standalone): the `TIDEWATCH_ELECTION_*` environment, the Role with exactly the Lease and
 * model-ConfigMap verbs, and the API token, projected into the predictor container only and
 * only when something needs the API.
 */
import type { DeployConfig } from './config.js';
import type { Manifest } from './manifests.js';

/** Labels of the predictor objects (kept here so both shapes share them). */
function predictorObjectLabels(c: DeployConfig): Record<string, string> {
  return { 'app.kubernetes.io/name': c.name, 'app.kubernetes.io/part-of': 'tidewatch' };
}

/** Name of the predictor's ServiceAccount, ConfigMap and Roles: `<name>-predictor`. */
export const predictorAccount = (c: DeployConfig): string => `${c.name}-predictor`;

/**
 * The Lease the predictors of one fleet elect through: `<name>-predictor`. Both shapes use the
 * same name, so moving a fleet from the sidecar to the standalone shape keeps one leader at a
 * time even while both run.
 */
export const leaseName = (c: DeployConfig): string => `${c.name}-predictor`;

/**
 * The ConfigMap the leader stores its fitted model in (`<name>-predictor-model`), so a new
 * leader (rollout, kill) forecasts from it instead of retraining. Shared by both shapes.
 */
export const modelConfigMapName = (c: DeployConfig): string => `${c.name}-predictor-model`;

/** Whether the predictor talks to the Kubernetes API at all (election or patch mode). */
export const needsApi = (c: DeployConfig): boolean => c.election || c.patchMode;

/** Where the projected token is mounted: where client libraries look for it in a pod. */
export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The predictor's environment for election: `POD_NAME` from the downward API is its identity
 * (unique, and what `kubectl get lease` shows as holder). Empty when election is off.
 */
export function electionEnv(c: DeployConfig): Array<Record<string, unknown>> {
  if (!c.election) return [];
  return [
    { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    { name: 'TIDEWATCH_ELECTION_ENABLED', value: 'true' },
    { name: 'TIDEWATCH_ELECTION_LEASE_NAME', value: leaseName(c) },
    { name: 'TIDEWATCH_ELECTION_NAMESPACE', value: c.namespace },
    // $(POD_NAME) is expanded by the kubelet (it is defined above).
    { name: 'TIDEWATCH_ELECTION_IDENTITY', value: '$(POD_NAME)' },
    { name: 'TIDEWATCH_ELECTION_MODEL_CONFIGMAP', value: modelConfigMapName(c) },
  ];
}

/** The predictor container's token mount, or none when nothing needs the API. */
export function tokenMounts(c: DeployConfig): Array<Record<string, unknown>> {
  return needsApi(c)
    ? [{ name: 'predictor-token', mountPath: TOKEN_MOUNT_PATH, readOnly: true }]
    : [];
}

/**
 * The token volume (what automounting would give: a bound token that the kubelet rotates,
 * the cluster CA and the namespace), or none when nothing needs the API. The pod sets
 * `automountServiceAccountToken: false`, so a container without this mount (the realtime
 * server, which faces the internet) holds no credential.
 */
export function tokenVolumes(c: DeployConfig): Array<Record<string, unknown>> {
  if (!needsApi(c)) return [];
  return [
    {
      name: 'predictor-token',
      projected: {
        sources: [
          { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          {
            downwardAPI: {
              items: [
                {
                  path: 'namespace',
                  fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' },
                },
              ],
            },
          },
        ],
      },
    },
  ];
}

/**
 * The election Role: exactly what client-go-style leader election and the model hand-over do.
 * `get` and `update` (writes fenced by resourceVersion) are limited by `resourceNames` to the
 * one Lease and the one model ConfigMap. `create` cannot be: RBAC checks `resourceNames`
 * against the name in the request URL, and a create has none, so a create rule with
 * `resourceNames` never matches; it is granted on its own, namespace-wide, for the first
 * replica that finds the Lease (or the ConfigMap) absent. No `list`, `watch`, `delete`.
 */
export function electionRole(c: DeployConfig): Manifest {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: {
      name: `${predictorAccount(c)}-election`,
      namespace: c.namespace,
      labels: predictorObjectLabels(c),
    },
    rules: [
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: [leaseName(c)],
        verbs: ['get', 'update'],
      },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: [modelConfigMapName(c)],
        verbs: ['get', 'update'],
      },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
    ],
  };
}

/** Binds {@link electionRole} to the predictor's ServiceAccount. */
export function electionRoleBinding(c: DeployConfig): Manifest {
  const name = `${predictorAccount(c)}-election`;
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace: c.namespace, labels: predictorObjectLabels(c) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name: predictorAccount(c), namespace: c.namespace }],
  };
}
