/** One scrape job for the Prometheus under test. */
export interface ScrapeTarget {
  /** The job name (`job` label); unique within one Prometheus. */
  job: string;
  /**
   * The full metrics URL, e.g. `http://127.0.0.1:1234/metrics`. Scheme, host:port, path and
   * query parameters become the job's `scheme`, target, `metrics_path` and `params`.
   */
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  bearerToken?: string;
  /** Sent as HTTP basic auth. Mutually exclusive with `bearerToken`. */
  basicAuth?: { username: string; password: string };
}

/** What goes into the generated `prometheus.yml`. */
export interface PrometheusConfigOptions {
  /** Scrape jobs, one static target each. */
  scrapeTargets?: ScrapeTarget[];
  /** `scrape_interval` (and `scrape_timeout`) in seconds. Default 1. */
  scrapeIntervalSeconds?: number;
  /** `evaluation_interval` in seconds, for recording and alerting rules. Default 1. */
  evaluationIntervalSeconds?: number;
  /** Paths of rule files, written as-is into `rule_files`. */
  ruleFiles?: string[];
}

/** YAML scalar: JSON's double-quoted strings are valid YAML, escapes included. */
const q = (value: string): string => JSON.stringify(value);

function duration(seconds: number, what: string): string {
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new Error(`${what} must be a positive number of seconds, got ${seconds}`);
  }
  const ms = Math.round(seconds * 1000);
  if (ms < 1) throw new Error(`${what} must be at least 1 ms, got ${seconds} s`);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function parseTargetUrl(target: ScrapeTarget): URL {
  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    throw new Error(`scrape target '${target.job}': invalid url ${q(target.url)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`scrape target '${target.job}': url must be http(s), got ${q(target.url)}`);
  }
  if (url.username || url.password) {
    throw new Error(
      `scrape target '${target.job}': put credentials in basicAuth, not in the url ${q(target.url)}`,
    );
  }
  return url;
}

/**
 * Renders a complete `prometheus.yml` (valid for Prometheus 2.42) from the options: a global
 * section with the intervals, `rule_files`, and one `scrape_configs` job per target with a
 * single static target, its scheme, `metrics_path`, `params` and credentials.
 *
 * @param options - The jobs, intervals and rule files.
 * @returns The YAML text.
 * @throws Error on duplicate job names, non-http(s) URLs, or both kinds of credentials on a job.
 */
export function renderPrometheusConfig(options: PrometheusConfigOptions = {}): string {
  const interval = duration(options.scrapeIntervalSeconds ?? 1, 'scrapeIntervalSeconds');
  const evaluation = duration(options.evaluationIntervalSeconds ?? 1, 'evaluationIntervalSeconds');
  const lines = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    `  evaluation_interval: ${evaluation}`,
  ];
  const ruleFiles = options.ruleFiles ?? [];
  if (ruleFiles.length > 0) {
    lines.push('rule_files:', ...ruleFiles.map((file) => `  - ${q(file)}`));
  }
  const targets = options.scrapeTargets ?? [];
  lines.push(targets.length > 0 ? 'scrape_configs:' : 'scrape_configs: []');
  const jobs = new Set<string>();
  for (const target of targets) {
    if (!target.job) throw new Error('scrape target: job must be a non-empty string');
    if (jobs.has(target.job)) throw new Error(`scrape target: duplicate job name '${target.job}'`);
    jobs.add(target.job);
    if (target.bearerToken !== undefined && target.basicAuth !== undefined) {
      throw new Error(
        `scrape target '${target.job}': set bearerToken or basicAuth, not both ` +
          '(Prometheus rejects a job with two kinds of credentials)',
      );
    }
    const url = parseTargetUrl(target);
    lines.push(
      `  - job_name: ${q(target.job)}`,
      `    scheme: ${url.protocol.slice(0, -1)}`,
      `    metrics_path: ${q(url.pathname || '/')}`,
    );
    const params = new Map<string, string[]>();
    for (const [key, value] of url.searchParams)
      params.set(key, [...(params.get(key) ?? []), value]);
    if (params.size > 0) {
      lines.push('    params:');
      for (const [key, values] of params)
        lines.push(`      ${q(key)}: [${values.map(q).join(', ')}]`);
    }
    if (target.bearerToken !== undefined) {
      lines.push(
        '    authorization:',
        '      type: Bearer',
        `      credentials: ${q(target.bearerToken)}`,
      );
    }
    if (target.basicAuth !== undefined) {
      lines.push(
        '    basic_auth:',
        `      username: ${q(target.basicAuth.username)}`,
        `      password: ${q(target.basicAuth.password)}`,
      );
    }
    lines.push('    static_configs:', `      - targets: [${q(url.host)}]`);
  }
  return `${lines.join('\n')}\n`;
}
