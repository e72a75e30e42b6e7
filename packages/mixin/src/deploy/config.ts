/**
 * The one configuration every generated Kubernetes manifest is built from: names, images,
 * capacity, replica bounds and the lead time. Defaults make the committed `deploy/` examples;
 * {@link deployConfig} fills them and validates, naming the field that is wrong.
 */
import {
  type DeploySourceKind,
  metricName,
  PATCH_KINDS,
  type PatchKind,
  SOURCE_SCOPES,
} from '@tidewatch/conventions';
import {
  ConfigError,
  checker,
  choices,
  isDnsLabel,
  isHttpUrl,
  isInt,
  isMetricName,
  isNum,
  isOneOf,
  isShare,
} from '../validate.js';
import {
  checkIngress,
  DEFAULT_HEARTBEAT_SECONDS,
  type IngressConfig,
  type IngressConfigInput,
  resolveIngress,
} from './ingress-config.js';

/** The lead time parts (seconds) the sidecar's planner adds up (see docs/sidecar.md). */
export interface LeadTime {
  /** Pod scheduled -> containers started. Default 60. */
  podStartSeconds: number;
  /** Started -> Ready (and taking new connections). Default 30. */
  readinessSeconds: number;
  /** Load happens -> Prometheus has it (scrape interval plus slack). Default 30. */
  metricLagSeconds: number;
  /** KEDA `pollingInterval` (or the HPA's 15 s sync plus the adapter's cache). Default 30. */
  pollingSeconds: number;
}

/** Which autoscaling object patch mode writes to. */
export type { PatchKind } from '@tidewatch/conventions';

/**
 * KEDA `fallback.behavior` values (KEDA >= 2.17, kedacore/keda#6450; `scalingModifiers`,
 * KEDA >= 2.19, only fits a ScaledObject with scaling modifiers and is not offered). KEDA applies
 * fallback per failing metric: that metric reads `threshold x replicas` (replicas below), and
 * the HPA still takes the maximum over all metrics.
 * - `static`: replicas = `fallback.replicas`.
 * - `currentReplicas`: replicas = the workload's current count.
 * - `currentReplicasIfHigher`: max(current, `fallback.replicas`).
 * - `currentReplicasIfLower`: min(current, `fallback.replicas`).
 */
export const FALLBACK_BEHAVIORS = [
  'static',
  'currentReplicas',
  'currentReplicasIfHigher',
  'currentReplicasIfLower',
] as const;
/** A KEDA `fallback.behavior`. */
export type FallbackBehavior = (typeof FALLBACK_BEHAVIORS)[number];

/** A fully resolved deployment config (every field set). */
export interface DeployConfig {
  /** Namespace of every object except the Prometheus Adapter's ConfigMap. Default `realtime`. */
  namespace: string;
  /** Name of the Deployment, Service, ScaledObject/HPA and the Prometheus `job`. Default `realtime-server`. */
  name: string;
  /** The realtime server's image (an example). */
  image: string;
  /** The server's container port, serving WebSockets and `/metrics`. Default 8080. */
  port: number;
  /** The server's metrics path. Default `/metrics`. */
  metricsPath: string;
  /** The predictor image (runs `tidewatch-predictor serve`). */
  predictorImage: string;
  /** The sidecar's port. Default 9464 (the sidecar's own default). */
  predictorPort: number;
  /** Prometheus as KEDA, the adapter and the sidecar's `prometheus` source reach it. */
  prometheusUrl: string;
  /** The load metric (a gauge of the middleware catalogue). Default the catalogue's `connections`. */
  metric: string;
  /**
   * Where the sidecar reads history. `prometheus` (default): the fleet's sum, backfilled at
   * start, identical in every replica's sidecar, so the predicted query takes `max()` over
   * them. `scrape`: each sidecar scrapes only its own server (`127.0.0.1`), so the query sums
   * the per-pod forecasts; beware that an autoscaled fleet holds per-pod load near the target,
   * which leaves little for a forecast of one pod to see.
   */
  source: DeploySourceKind;
  /** Load one replica carries at 100 %. Default 500. */
  capacityPerReplica: number;
  /** Utilisation the autoscaler aims for, (0, 1]. Default 0.7. */
  targetUtilization: number;
  /** Default 2 (WebSocket servers never scale to zero: a client needs a pod to connect to). */
  minReplicas: number;
  /** Default 50. */
  maxReplicas: number;
  /**
   * KEDA `fallback.replicas`, used per failing metric once it failed more than 3 times in a
   * row (see {@link FallbackBehavior}). With the default behaviour it is a floor: the fleet
   * keeps max(current, this). Default `minReplicas` (hold what runs, never drop).
   */
  fallbackReplicas: number;
  /**
   * KEDA `fallback.behavior`. Default `currentReplicasIfHigher`: a failing metric (Prometheus
   * down, or an empty actual query because the ServiceMonitor lost its label) holds the current
   * count instead of sending the fleet to `fallback.replicas`. Needs KEDA >= 2.17: older KEDA
   * prunes the field and applies `static`, which with the default `fallbackReplicas` would
   * read the failing metric as `minReplicas` worth of load; set `fallbackReplicas` yourself
   * there.
   */
  fallbackBehavior: FallbackBehavior;
  /**
   * Leader election of the predictors (`TIDEWATCH_ELECTION_*`): one forecaster and one writer
   * per fleet. Default true with the `prometheus` source; must be false with `scrape` (every
   * sidecar forecasts its own pod and all must publish).
   */
  election: boolean;
  /**
   * Patch mode on (`patch.enabled` in the sidecar config). Default false. Only election or
   * patch mode needs the Kubernetes API, so only then is a token mounted (predictor container
   * only).
   */
  patchMode: boolean;
  /** Replicas of the standalone predictor Deployment (`deploy/predictor-standalone.yaml`). Default 2. */
  standaloneReplicas: number;
  /** Lead time parts, seconds. */
  lead: LeadTime;
  /** HPA scale-down stabilisation window, seconds (0..3600). Default 1800. */
  scaleDownStabilizationSeconds: number;
  /** Time the server gets after SIGTERM to close its WebSockets gradually, seconds. Default 300. */
  drainSeconds: number;
  /** preStop sleep before SIGTERM (endpoint removal propagates meanwhile), seconds. Default 15. */
  preStopSeconds: number;
  /** The object patch mode writes to (the RBAC Role is scoped to it). Default `scaledobject`. */
  patchKind: PatchKind;
  /** Namespace of the Prometheus Adapter (its ConfigMap). Default `monitoring`. */
  adapterNamespace: string;
  /**
   * The server's heartbeat (ping) interval, seconds, (0, 3600]: the Ingress timeouts are set
   * above it. Default 30, the middleware's ws heartbeat (Socket.IO pings every 25 s).
   */
  heartbeatSeconds: number;
  /** The Ingress (`deploy/ingress.yaml`, ingress-nginx); see {@link IngressConfig}. */
  ingress: IngressConfig;
}

/** What a caller passes: any subset (lead parts individually). */
export type DeployConfigInput = Partial<
  Omit<DeployConfig, 'lead' | 'fallbackReplicas' | 'election' | 'ingress'>
> & {
  lead?: Partial<LeadTime>;
  ingress?: IngressConfigInput;
  fallbackReplicas?: number;
  election?: boolean;
};

/** An invalid deployment config; the message names the field and the value given. */
export class DeployConfigError extends ConfigError {
  override readonly name = 'DeployConfigError';
}

const check = checker('deploy config', (field, message) => new DeployConfigError(field, message));

/**
 * Defaults of every field but `fallbackReplicas` (which follows `minReplicas`), `election`
 * (which follows `source`) and `ingress` (`DEFAULT_INGRESS`; its TLS secret follows `name`, its
 * timeouts `heartbeatSeconds`).
 */
export const DEFAULT_DEPLOY_CONFIG: Readonly<
  Omit<DeployConfig, 'fallbackReplicas' | 'election' | 'ingress'>
> = {
  namespace: 'realtime',
  name: 'realtime-server',
  image: 'ghcr.io/example/realtime-server:1.0.0',
  port: 8080,
  metricsPath: '/metrics',
  predictorImage: 'ghcr.io/tidewatch/predictor:0.1.0',
  predictorPort: 9464,
  prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090',
  metric: metricName('connections'),
  source: 'prometheus',
  capacityPerReplica: 500,
  targetUtilization: 0.7,
  minReplicas: 2,
  maxReplicas: 50,
  lead: { podStartSeconds: 60, readinessSeconds: 30, metricLagSeconds: 30, pollingSeconds: 30 },
  scaleDownStabilizationSeconds: 1800,
  drainSeconds: 300,
  preStopSeconds: 15,
  patchKind: 'scaledobject',
  adapterNamespace: 'monitoring',
  fallbackBehavior: 'currentReplicasIfHigher',
  patchMode: false,
  standaloneReplicas: 2,
  heartbeatSeconds: DEFAULT_HEARTBEAT_SECONDS,
};

/**
 * Fills the defaults and validates.
 * @throws DeployConfigError naming the first bad field, e.g.
 *   `deploy config: capacityPerReplica must be a number > 0, got -1`.
 */
export function deployConfig(input: DeployConfigInput = {}): DeployConfig {
  const d = DEFAULT_DEPLOY_CONFIG;
  const minReplicas = input.minReplicas ?? d.minReplicas;
  const source = input.source ?? d.source;
  const c: DeployConfig = {
    ...d,
    ...stripUndefined(input),
    lead: { ...d.lead, ...stripUndefined(input.lead ?? {}) },
    fallbackReplicas: input.fallbackReplicas ?? minReplicas,
    election: input.election ?? SOURCE_SCOPES[source] === 'fleet',
    ingress: resolveIngress(
      input.ingress,
      input.name ?? d.name,
      input.heartbeatSeconds ?? d.heartbeatSeconds,
    ),
  };
  for (const field of ['namespace', 'name', 'adapterNamespace'] as const)
    check(
      field,
      c[field],
      isDnsLabel(c[field]),
      'a DNS label (a-z, 0-9, "-", at most 63 characters)',
    );
  for (const field of ['image', 'predictorImage'] as const)
    check(
      field,
      c[field],
      typeof c[field] === 'string' && /^\S+$/.test(c[field]),
      'an image reference',
    );
  for (const field of ['port', 'predictorPort'] as const)
    check(field, c[field], isInt(c[field], 1, 65535), 'an integer 1..65535');
  check('predictorPort', c.predictorPort, c.predictorPort !== c.port, 'different from port');
  check(
    'metricsPath',
    c.metricsPath,
    typeof c.metricsPath === 'string' && /^\/\S*$/.test(c.metricsPath),
    'a path starting with "/"',
  );
  check('prometheusUrl', c.prometheusUrl, isHttpUrl(c.prometheusUrl), 'an http(s) URL');
  check('metric', c.metric, isMetricName(c.metric), 'a Prometheus metric name');
  const sources = Object.keys(SOURCE_SCOPES);
  check('source', c.source, isOneOf(c.source, sources), choices(sources));
  check(
    'capacityPerReplica',
    c.capacityPerReplica,
    isNum(c.capacityPerReplica) && c.capacityPerReplica > 0,
    'a number > 0',
  );
  check(
    'targetUtilization',
    c.targetUtilization,
    isShare(c.targetUtilization),
    'a number in (0, 1]',
  );
  check('minReplicas', c.minReplicas, isInt(c.minReplicas, 1, 100_000), 'an integer 1..100000');
  check(
    'maxReplicas',
    c.maxReplicas,
    isInt(c.maxReplicas, c.minReplicas, 100_000),
    `an integer ${c.minReplicas} (minReplicas)..100000`,
  );
  check(
    'fallbackReplicas',
    c.fallbackReplicas,
    isInt(c.fallbackReplicas, c.minReplicas, c.maxReplicas),
    `an integer ${c.minReplicas}..${c.maxReplicas} (minReplicas..maxReplicas)`,
  );
  for (const part of [
    'podStartSeconds',
    'readinessSeconds',
    'metricLagSeconds',
    'pollingSeconds',
  ] as const)
    check(`lead.${part}`, c.lead[part], isNum(c.lead[part]) && c.lead[part] >= 0, 'a number >= 0');
  check(
    'lead.pollingSeconds',
    c.lead.pollingSeconds,
    isInt(c.lead.pollingSeconds, 1, 3600),
    'an integer 1..3600 (it is also KEDA pollingInterval)',
  );
  // The HPA rejects windows above one hour.
  check(
    'scaleDownStabilizationSeconds',
    c.scaleDownStabilizationSeconds,
    isInt(c.scaleDownStabilizationSeconds, 0, 3600),
    'an integer 0..3600',
  );
  check('drainSeconds', c.drainSeconds, isInt(c.drainSeconds, 0, 86_400), 'an integer 0..86400');
  check('preStopSeconds', c.preStopSeconds, isInt(c.preStopSeconds, 0, 600), 'an integer 0..600');
  check('patchKind', c.patchKind, isOneOf(c.patchKind, PATCH_KINDS), choices(PATCH_KINDS));
  check(
    'fallbackBehavior',
    c.fallbackBehavior,
    isOneOf(c.fallbackBehavior, FALLBACK_BEHAVIORS),
    choices(FALLBACK_BEHAVIORS),
  );
  for (const field of ['election', 'patchMode'] as const)
    check(field, c[field], typeof c[field] === 'boolean', 'true or false');
  // Per-pod forecasts are summed: a single elected publisher would report one pod's load.
  check(
    'election',
    c.election,
    !(c.election && SOURCE_SCOPES[c.source] !== 'fleet'),
    `false with source "${c.source}" (every sidecar forecasts its own pod and must publish)`,
  );
  check(
    'standaloneReplicas',
    c.standaloneReplicas,
    isInt(c.standaloneReplicas, 1, 10),
    'an integer 1..10',
  );
  checkIngress(check, c.heartbeatSeconds, c.ingress);
  return c;
}

/**
 * The per-replica target both triggers share: capacity x target utilisation, rounded to
 * milli-units (what a Kubernetes quantity can hold). 500 x 0.7 = 350.
 */
export function targetPerReplica(
  c: Pick<DeployConfig, 'capacityPerReplica' | 'targetUtilization'>,
): number {
  return Math.round(c.capacityPerReplica * c.targetUtilization * 1000) / 1000;
}

/** The lead time, seconds: the sum of its parts (150 with the defaults). */
export function leadTimeSeconds(c: Pick<DeployConfig, 'lead'>): number {
  const l = c.lead;
  return l.podStartSeconds + l.readinessSeconds + l.metricLagSeconds + l.pollingSeconds;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
