/**
 * `@tidewatch/mixin/deploy`: the generated `deploy/` manifests (the server's Deployment with
 * the predictor sidecar or the standalone predictor Deployment, the Ingress, KEDA ScaledObject, HPA + Prometheus Adapter, ServiceMonitor,
 * patch-mode RBAC) from one {@link DeployConfig}. Its own entry so that importing it loads
 * only `yaml` and the conventions, not the dashboard and rule generators.
 * @packageDocumentation
 */

// Names the manifests share with patch mode live in @tidewatch/conventions; re-exported here
// for the generator's users.
export {
  ACTUAL_EXTERNAL_METRIC,
  ACTUAL_TRIGGER,
  formatQuantity,
  PREDICTED_EXTERNAL_METRIC,
  PREDICTED_TRIGGER,
} from '@tidewatch/conventions';
export { ConfigError } from '../validate.js';
export {
  adapterConfigMap,
  adapterRules,
  behavior,
  FALLBACK_FAILURE_THRESHOLD,
  horizontalPodAutoscaler,
  patchResource,
  patchRole,
  patchRoleBinding,
  scaledObject,
  serviceMonitor,
} from './autoscaling.js';
export {
  DEFAULT_DEPLOY_CONFIG,
  type DeployConfig,
  DeployConfigError,
  type DeployConfigInput,
  deployConfig,
  FALLBACK_BEHAVIORS,
  type FallbackBehavior,
  type LeadTime,
  leadTimeSeconds,
  type PatchKind,
  targetPerReplica,
} from './config.js';
export {
  electionEnv,
  electionRole,
  electionRoleBinding,
  leaseName,
  modelConfigMapName,
  needsApi,
  predictorAccount,
  TOKEN_MOUNT_PATH,
  tokenMounts,
  tokenVolumes,
} from './election.js';
export {
  ingress,
  ingressAnnotations,
  ingressNotes,
  NGINX,
  nginxSize,
} from './ingress.js';
export {
  checkIngress,
  DEFAULT_HEARTBEAT_SECONDS,
  DEFAULT_INGRESS,
  defaultTimeoutSeconds,
  type IngressConfig,
  type IngressConfigInput,
  resolveIngress,
} from './ingress-config.js';
export {
  actualQuery,
  deployment,
  type Manifest,
  type ObjectMeta,
  predictedFold,
  predictedQuery,
  predictorContainer,
  predictorName,
  SIDECAR_CONFIG_PATH,
  SIDECAR_DATA_DIR,
  serverContainer,
  service,
  serviceAccount,
  sidecarConfig,
  sidecarConfigMap,
} from './manifests.js';
export {
  type DeployDocument,
  type DeployFile,
  type DeployNote,
  deployFiles,
  GENERATED_HEADER,
  generateDeployFiles,
  renderDeployFile,
} from './render.js';
export {
  serverOnlyDeployment,
  serverOnlyService,
  standaloneConfig,
  standaloneDeployment,
  standaloneDisruptionBudget,
  standalonePodLabels,
  standaloneService,
} from './standalone.js';
