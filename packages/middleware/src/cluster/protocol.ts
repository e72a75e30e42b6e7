/**
 * The wire format between an aggregating process (cluster primary, thread owner) and the
 * processes or threads it collects from. Both ends may be different copies or versions of
 * this package, so everything here is plain data checked on arrival.
 */

/** Every message of ours carries a `type` starting with this, so apps can filter them out. */
export const MESSAGE_PREFIX = 'tidewatch:metrics:';
/** Aggregator -> worker: send your metrics. */
export const REQUEST = `${MESSAGE_PREFIX}request`;
/** Worker -> aggregator: the metrics (or an error). */
export const RESPONSE = `${MESSAGE_PREFIX}response`;

/** One sample of a metric, as prom-client's `getMetricsAsJSON()` gives it. */
export interface SampleJson {
  /**
   * A number; over JSON IPC, non-finite numbers travel as `"NaN"`, `"+Inf"`, `"-Inf"`
   * because JSON would turn them into `null`.
   */
  value: number | string;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** One metric family, as prom-client's `getMetricsAsJSON()` gives it. */
export interface MetricJson {
  name: string;
  help: string;
  type: string;
  /** prom-client aggregator name (`sum`, `first`, `min`, `max`, `average`, `omit`). */
  aggregator?: string;
  values: SampleJson[];
}

export interface MetricsRequest {
  type: typeof REQUEST;
  /** Unique per aggregator instance and request; answers echo it. */
  id: string;
  /** How long the worker may spend collecting before it answers with what it has (ms). */
  budgetMs: number;
}

export interface MetricsResponse {
  type: typeof RESPONSE;
  id: string;
  metrics: MetricJson[];
  /**
   * Metrics whose collector failed or did not finish within the budget. The aggregator
   * keeps its last good copy of them, so one failing collector does not make a counter
   * drop (which Prometheus would read as a reset).
   */
  failed?: string[];
  /** Set when nothing could be collected or sent; `metrics` is then empty. */
  error?: string;
}

/**
 * True for the IPC / `postMessage` messages tidewatch's cluster and worker-thread
 * aggregation exchanges. They travel over the same channel as your own messages; skip them
 * in your own `message` listeners.
 */
export function isTidewatchMessage(message: unknown): boolean {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string' &&
    (message as { type: string }).type.startsWith(MESSAGE_PREFIX)
  );
}

export function isRequest(message: unknown): message is MetricsRequest {
  return (
    isTidewatchMessage(message) &&
    (message as MetricsRequest).type === REQUEST &&
    typeof (message as MetricsRequest).id === 'string'
  );
}

export function isResponse(message: unknown): message is MetricsResponse {
  return (
    isTidewatchMessage(message) &&
    (message as MetricsResponse).type === RESPONSE &&
    typeof (message as MetricsResponse).id === 'string'
  );
}

/** For JSON channels: non-finite numbers as the strings Prometheus uses for them. */
export function encodeNonFinite(metrics: MetricJson[]): MetricJson[] {
  return metrics.map((m) => {
    if (m.values.every((v) => typeof v.value !== 'number' || Number.isFinite(v.value))) return m;
    return {
      ...m,
      values: m.values.map((v) =>
        typeof v.value === 'number' && !Number.isFinite(v.value)
          ? { ...v, value: Number.isNaN(v.value) ? 'NaN' : v.value > 0 ? '+Inf' : '-Inf' }
          : v,
      ),
    };
  });
}

const DECODED: Record<string, number> = { NaN: Number.NaN, '+Inf': Infinity, '-Inf': -Infinity };

/**
 * Checks an answer's metrics and restores non-finite numbers. Malformed families or
 * samples are dropped (and named in `problems`) rather than failing the whole answer.
 */
export function decodeMetrics(raw: unknown, problems: string[]): MetricJson[] {
  if (!Array.isArray(raw)) {
    problems.push('metrics is not an array');
    return [];
  }
  const out: MetricJson[] = [];
  for (const m of raw as unknown[]) {
    const fam = m as Partial<MetricJson> | null;
    if (
      typeof fam !== 'object' ||
      fam === null ||
      typeof fam.name !== 'string' ||
      typeof fam.type !== 'string' ||
      !Array.isArray(fam.values)
    ) {
      problems.push('a metric without name, type or values');
      continue;
    }
    const values: SampleJson[] = [];
    for (const v of fam.values as unknown[]) {
      const s = v as Partial<SampleJson> | null;
      if (typeof s !== 'object' || s === null) continue;
      const value = typeof s.value === 'string' ? DECODED[s.value] : s.value;
      if (typeof value !== 'number') {
        problems.push(`${fam.name}: a sample without a numeric value`);
        continue;
      }
      const labels = typeof s.labels === 'object' && s.labels !== null ? s.labels : {};
      values.push(
        typeof s.metricName === 'string'
          ? { value, labels, metricName: s.metricName }
          : { value, labels },
      );
    }
    out.push({
      name: fam.name,
      help: typeof fam.help === 'string' ? fam.help : '',
      type: fam.type,
      ...(typeof fam.aggregator === 'string' ? { aggregator: fam.aggregator } : {}),
      values,
    });
  }
  return out;
}
