/**
 * The standalone shape: one small predictor Deployment per fleet (2 replicas, one elected
 * leader), reading the fleet's load from Prometheus, next to a realtime server without a
 * sidecar. Same names as the sidecar shape for the ServiceAccount, config, Lease and model
 * ConfigMap, so a fleet moves between the shapes without a second leader or a retraining.
 */
import type { DeployConfig } from './config.js';
import { predictorAccount, tokenVolumes } from './election.js';
import { labels, type Manifest, predictorContainer, serverContainer } from './manifests.js';

/** The config as the standalone predictor sees it: always the fleet from Prometheus, elected. */
export function standaloneConfig(c: DeployConfig): DeployConfig {
  return { ...c, source: 'prometheus', election: true };
}

/** Labels of the standalone predictor's pods (not the server's: its selector must not match). */
export function standalonePodLabels(c: DeployConfig): Record<string, string> {
  return {
    'app.kubernetes.io/name': predictorAccount(c),
    'app.kubernetes.io/component': 'predictor',
    'app.kubernetes.io/part-of': 'tidewatch',
  };
}

const podSecurity = {
  runAsNonRoot: true,
  runAsUser: 10001,
  runAsGroup: 10001,
  fsGroup: 10001,
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The realtime server alone: no sidecar, no ServiceAccount token, no API access. */
export function serverOnlyDeployment(c: DeployConfig): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: c.name, namespace: c.namespace, labels: labels(c) },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': c.name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels(c) },
        spec: {
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: c.preStopSeconds + c.drainSeconds + 15,
          securityContext: podSecurity,
          containers: [serverContainer(c)],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
    },
  };
}

/** The server's Service without the predictor port. */
export function serverOnlyService(c: DeployConfig): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: c.name, namespace: c.namespace, labels: labels(c) },
    spec: {
      selector: { 'app.kubernetes.io/name': c.name },
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/**
 * The predictor Deployment: `standaloneReplicas` (2) pods on different nodes if possible; one
 * leads, the other follows and takes over within the lease duration. Its own rollout never
 * coincides with the server's.
 */
export function standaloneDeployment(input: DeployConfig): Manifest {
  const c = standaloneConfig(input);
  const podLabels = standalonePodLabels(c);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: predictorAccount(c), namespace: c.namespace, labels: podLabels },
    spec: {
      replicas: c.standaloneReplicas,
      selector: { matchLabels: { 'app.kubernetes.io/name': predictorAccount(c) } },
      // One new follower first, then the old pod goes (and its lease with it).
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: podLabels },
        spec: {
          serviceAccountName: predictorAccount(c),
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 30,
          securityContext: podSecurity,
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    topologyKey: 'kubernetes.io/hostname',
                    labelSelector: {
                      matchLabels: { 'app.kubernetes.io/name': predictorAccount(c) },
                    },
                  },
                },
              ],
            },
          },
          containers: [predictorContainer(c)],
          volumes: [
            { name: 'config', configMap: { name: predictorAccount(c) } },
            // Prometheus is the history of record; the model survives in its ConfigMap.
            { name: 'history', emptyDir: { sizeLimit: '256Mi' } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            ...tokenVolumes(c),
          ],
        },
      },
    },
  };
}

/** At least one predictor survives a node drain. */
export function standaloneDisruptionBudget(c: DeployConfig): Manifest {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: {
      name: predictorAccount(c),
      namespace: c.namespace,
      labels: standalonePodLabels(c),
    },
    spec: {
      minAvailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': predictorAccount(c) } },
    },
  };
}

/**
 * The predictor's Service. Its metadata carries the server's labels so that
 * deploy/servicemonitor.yaml selects it (its `predictor` endpoint sets `job` to the server's
 * name, the `job` the predicted query reads); its selector picks the predictor pods only.
 */
export function standaloneService(c: DeployConfig): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: predictorAccount(c),
      namespace: c.namespace,
      labels: { ...labels(c), 'app.kubernetes.io/component': 'predictor' },
    },
    spec: {
      selector: { 'app.kubernetes.io/name': predictorAccount(c) },
      ports: [
        { name: 'predictor', port: c.predictorPort, targetPort: 'predictor', protocol: 'TCP' },
      ],
    },
  };
}
