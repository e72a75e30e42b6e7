/**
 * Kubernetes: the generated `deploy/` manifests (sidecar Deployment, KEDA ScaledObject, HPA +
 * Prometheus Adapter, ServiceMonitor, patch-mode RBAC) and the opt-in patch mode.
 */
export {
  adapterConfigMap,
  adapterRules,
  behavior,
  FALLBACK_FAILURE_THRESHOLD,
  formatQuantity,
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
  type LeadTime,
  leadTimeSeconds,
  type PatchKind,
  targetPerReplica,
} from './config.js';
export {
  ACTUAL_EXTERNAL_METRIC,
  ACTUAL_TRIGGER,
  actualQuery,
  deployment,
  type Manifest,
  type ObjectMeta,
  PREDICTED_EXTERNAL_METRIC,
  PREDICTED_TRIGGER,
  predictedQuery,
  predictorName,
  SIDECAR_CONFIG_PATH,
  SIDECAR_DATA_DIR,
  service,
  serviceAccount,
  sidecarConfig,
  sidecarConfigMap,
} from './manifests.js';
export {
  createPatcher,
  type Patcher,
  type PatcherOptions,
  type PatcherStats,
  type PatchResult,
  type PatchStep,
  parseQuantity,
} from './patch.js';
export {
  type DeployDocument,
  type DeployFile,
  type DeployNote,
  deployFiles,
  GENERATED_HEADER,
  generateDeployFiles,
  renderDeployFile,
} from './render.js';
