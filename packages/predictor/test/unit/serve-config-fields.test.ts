/**
 * Every field of the sidecar's config, set to a bad value through every origin that can set
 * it (the config file, its `TIDEWATCH_*` variable, its `serve` flag), fails with exactly one
 * message naming the origin and the field. The fields are walked from the schema, so a new
 * field fails here until it has a row.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { shown } from '../../src/fields.js';
import {
  ConfigError,
  configFields,
  configSchema,
  ENV_VARS,
  loadServeConfig,
  SERVE_FLAGS,
  type ServeFlags,
} from '../../src/serve/config.js';
import { pathText, setPath } from '../../src/serve/config-fields.js';

const dir = mkdtempSync(join(tmpdir(), 'tw-serve-config-fields-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Any non-blank text is a valid value of the field (a path, a label value, PromQL). */
const ANY = Symbol('any text');

/**
 * A bad value per field: `file` in the config file fails with `<file>: <says>, got <file>`;
 * `text` through a variable or flag with `<origin>: <textSays ?? says>, got <text>`.
 */
interface Bad {
  file: unknown;
  says: string;
  text?: string | typeof ANY;
  textSays?: string;
}

const CRON = 'must be a cron expression of 5 or 6 fields (seconds first), e.g. "*/15 * * * * *"';
const K8S = 'must be a Kubernetes object name (lower case, digits, "-" and ".")';
const MODELS =
  'naive, seasonal-naive-daily, seasonal-naive-weekly, holt-winters, seasonal-profile, lstm, ensemble:holt-winters+seasonal-profile, ensemble:holt-winters+seasonal-profile+lstm, mstl, ensemble:mstl+seasonal-profile';
const TOKEN = 'must be a bearer token (visible ASCII characters, no spaces)';

/** Source fields are keyed `<kind> source.<field>`, the others by their path. */
const BAD: Record<string, Bad> = {
  'listen.host': { file: 42, says: 'must be a host name or IP address', text: 'local host' },
  'listen.port': { file: 70000, says: 'must be an integer 0..65535', text: 'x' },
  'source.kind': { file: 'nope', says: 'must be "scrape" or "prometheus"' },
  'scrape source.urls': {
    file: 'http://a/m',
    says: 'must be a list of http(s) URLs',
    text: 'nope',
    textSays: 'source.urls[0] must be an http(s) URL',
  },
  'scrape source.type': { file: 'histogram', says: 'must be "gauge" or "counter"', text: 'sum' },
  'scrape source.labels': { file: ['a'], says: 'must be an object of label: value strings' },
  'scrape source.timeoutSeconds': { file: 0, says: 'must be a number > 0', text: 'soon' },
  'scrape source.bearerToken': { file: 42, says: TOKEN, text: 'two words' },
  'scrape source.maxBodyBytes': { file: 0, says: 'must be an integer 1..268435456', text: '1.5' },
  'prometheus source.url': { file: 'ftp://p', says: 'must be an http(s) URL', text: 'nope' },
  'prometheus source.query': {
    file: ' ',
    says: 'must be a non-empty PromQL expression',
    text: ANY,
  },
  'prometheus source.timeoutSeconds': { file: -1, says: 'must be a number > 0', text: '0' },
  'prometheus source.bearerToken': { file: 'a\nb', says: TOKEN, text: 'a\tb' },
  'prometheus source.maxBodyBytes': {
    file: 2 ** 40,
    says: 'must be an integer 1..268435456',
    text: 'big',
  },
  'prometheus source.maxPoints': { file: 0, says: 'must be an integer 1..10000000', text: 'many' },
  metric: { file: 'not a metric', says: 'must be a Prometheus metric name', text: 'a-b' },
  target: { file: 42, says: 'must be a non-empty label value', text: ANY },
  stepSeconds: { file: 0, says: 'must be an integer 1..86400', text: '1m' },
  historyPoints: { file: 1, says: 'must be an integer 2..5000000', text: '1' },
  dataDir: { file: 42, says: 'must be a directory path', text: ANY },
  shutdownTimeoutSeconds: { file: 0, says: 'must be a number > 0', text: '-5' },
  'schedule.collect': { file: 'every minute', says: CRON, text: '* * *' },
  'schedule.forecast': {
    file: 60,
    says: 'must be a cron expression',
    text: 'hourly',
    textSays: `schedule.forecast ${CRON}`,
  },
  'schedule.retrain': { file: '61 * * * *', says: CRON, text: '0 0 25 * * * *' },
  'schedule.timezone': {
    file: 'Mars/Olympus',
    says: 'must be an IANA time zone, e.g. "Europe/Berlin"',
    text: 'CEST+1',
  },
  'forecast.horizonSteps': { file: 0, says: 'must be an integer 1..100000', text: 'x' },
  'forecast.models': {
    file: 'naive',
    says: 'must be a list of model names',
    text: 'arima',
    textSays: `forecast.models[0] must be one of ${MODELS}`,
  },
  'forecast.origins': { file: 0, says: 'must be an integer 1..1000' },
  'forecast.timeBudgetSeconds': { file: 0, says: 'must be a number > 0', text: 'x' },
  'forecast.season.daySteps': { file: 0, says: 'must be a number > 0' },
  'forecast.season.weekSteps': { file: 'x', says: 'must be a number > 0' },
  'forecast.bandAdaptation.enabled': { file: 'yes', says: 'must be true or false' },
  'forecast.bandAdaptation.gamma': { file: 0.2, says: 'must be a number in (0, 0.1]' },
  'forecast.calendarFile': {
    file: 42,
    says: 'must be a file path',
    text: '/no/such/calendar.csv',
    textSays: 'forecast.calendarFile cannot be read (no such file)',
  },
  'planner.capacityPerReplica': { file: 0, says: 'must be a number > 0', text: 'lots' },
  'planner.targetUtilization': { file: 1.5, says: 'must be a number in (0, 1]', text: '0' },
  'planner.minReplicas': { file: -1, says: 'must be an integer 0..100000', text: 'one' },
  'planner.maxReplicas': { file: 0, says: 'must be an integer 1..100000', text: '2.5' },
  'planner.maxStep': { file: 0, says: 'must be an integer 1..100000' },
  'planner.lead.podStartSeconds': { file: -1, says: 'must be a number >= 0' },
  'planner.lead.readinessSeconds': { file: -1, says: 'must be a number >= 0' },
  'planner.lead.metricLagSeconds': { file: 'x', says: 'must be a number >= 0' },
  'planner.lead.pollingSeconds': { file: -1, says: 'must be a number >= 0' },
  'staleness.maxForecastAgeSeconds': { file: 0, says: 'must be a number > 0' },
  'staleness.maxDataAgeSeconds': { file: 0, says: 'must be a number > 0' },
  'staleness.maxRollingMase': { file: 0, says: 'must be a number > 0' },
  'staleness.maxModelMase': { file: 0, says: 'must be a number > 0' },
  'seed.file': { file: 42, says: 'must be a file path', text: ANY },
  'seed.retime': { file: 'yes', says: 'must be true or false' },
  historyMinutes: { file: 0, says: 'must be an integer 1..10080', text: '1h' },
  'patch.enabled': { file: 'yes', says: 'must be true or false', text: 'maybe' },
  'patch.kind': { file: 'deployment', says: 'must be "scaledobject" or "hpa"', text: 'keda' },
  'patch.namespace': { file: 'Real_Time', says: K8S, text: 'Real_Time' },
  'patch.name': { file: 'Chat Server', says: K8S, text: '-chat' },
  'patch.triggerName': { file: 42, says: 'must be a non-empty string', text: ANY },
  'patch.hysteresis': { file: 1, says: 'must be a number in [0, 1)' },
  'patch.timeoutSeconds': { file: 0, says: 'must be a number > 0' },
  'patch.fieldManager': { file: '', says: 'must be a non-empty string' },
  'live.prefix': { file: 'bad prefix', says: 'must be a metric name prefix, e.g. "realtime_"' },
  'live.windowSeconds': { file: 0, says: 'must be a number > 0' },
  'election.enabled': { file: 'yes', says: 'must be true or false', text: 'maybe' },
  'election.leaseName': { file: 'Lease_1', says: K8S, text: '-lease' },
  'election.namespace': { file: 'Real_Time', says: K8S, text: 'Real_Time' },
  'election.identity': { file: '', says: 'must be a non-empty identity (the pod name)', text: ANY },
  'election.leaseDurationSeconds': { file: 0, says: 'must be an integer 1..86400' },
  'election.renewDeadlineSeconds': { file: 0, says: 'must be a number > 0' },
  'election.retryPeriodSeconds': { file: -1, says: 'must be a number > 0' },
  'election.apiServer': { file: 'kube:443', says: 'must be an http(s) URL', text: 'kube:443' },
  'election.modelConfigMap': { file: 'Model CM', says: K8S, text: 'Model_CM' },
  'nowcast.enabled': { file: 'yes', says: 'must be true or false', text: 'maybe' },
  'nowcast.shortWindowSeconds': { file: 0, says: 'must be a number > 0' },
  'nowcast.longWindowSeconds': { file: -1, says: 'must be a number > 0' },
  'nowcast.surgeRatio': { file: -0.5, says: 'must be a number >= 0' },
  'nowcast.minExcessPerSecond': { file: 'x', says: 'must be a number >= 0' },
  'nowcast.minExtraConnections': { file: -1, says: 'must be a number >= 0' },
  'nowcast.minExtraShare': { file: -1, says: 'must be a number >= 0' },
  'nowcast.sustainSeconds': { file: -1, says: 'must be a number >= 0' },
  'nowcast.minArrivalShare': { file: 'x', says: 'must be a number >= 0' },
  'nowcast.minArrivalConnections': { file: -5, says: 'must be a number >= 0' },
  'nowcast.releaseRatio': { file: 1.5, says: 'must be a number in (0, 1]' },
  'nowcast.reconnectWindowSeconds': { file: 0, says: 'must be a number > 0' },
  'nowcast.decaySeconds': { file: 0, says: 'must be a number > 0' },
  'nowcast.maxMultiplier': { file: 0.5, says: 'must be a number >= 1' },
  mode: { file: 'passive', says: 'must be "active" or "shadow"', text: 'passive' },
  'shadow.prometheusUrl': { file: 'prom:9090', says: 'must be an http(s) URL', text: 'prom:9090' },
  'shadow.bearerToken': { file: 'a b', says: TOKEN },
  'shadow.replicas': { file: 'pods', says: 'must be "hpa" or "deployment"', text: 'pods' },
  'shadow.namespace': { file: 'Real_Time', says: K8S, text: 'Real_Time' },
  'shadow.name': { file: 'Chat Server', says: K8S, text: '-chat' },
  'shadow.replicasQuery': { file: 42, says: 'must be a non-empty string', text: ANY },
  'shadow.timeoutSeconds': { file: 0, says: 'must be a number > 0' },
  'shadow.maxGapSeconds': { file: 0, says: 'must be a number > 0' },
};

interface Row {
  key: string;
  path: readonly string[];
  /** The source kind of a source block's field. */
  sourceKind: string | undefined;
  /** The kind of the config it is tested in. */
  kind: string;
  bad: Bad;
}

const ROWS: Row[] = configFields(configSchema)
  .filter((f) => !f.group)
  .map((f) => {
    const key = `${f.sourceKind ? `${f.sourceKind} ` : ''}${pathText(f.path)}`;
    const kind = f.sourceKind ?? 'scrape';
    return { key, path: f.path, sourceKind: f.sourceKind, kind, bad: BAD[key] as Bad };
  });

const BASE_SOURCE: Record<string, Record<string, unknown>> = {
  scrape: { kind: 'scrape', urls: ['http://127.0.0.1:9000/metrics'] },
  prometheus: { kind: 'prometheus', url: 'http://prom:9090' },
};

/** A valid config file of `kind` with `path` set to `value` (when given). */
function fileWith(kind: string, path?: readonly string[], value?: unknown): string {
  // seed.retime is only checked with a seed.file next to it.
  const doc: Record<string, unknown> = {
    source: { ...BASE_SOURCE[kind] },
    seed: { file: '/seed.csv' },
  };
  if (path) setPath(doc, path, value);
  const file = join(dir, `${kind}-${path ? path.join('.') : 'base'}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

/** The issues loading gives (none: the config is valid). */
function issues(flags: ServeFlags, env: Record<string, string> = {}): readonly string[] {
  try {
    loadServeConfig({
      flags,
      env,
      onWarning: (m) => {
        throw new Error(`unexpected warning: ${m}`);
      },
    });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues;
  }
}

/** The variables and flags that set a row's field. */
function originsOf(row: Row) {
  const sets = (s: { path: readonly string[]; appliesTo?: string }) =>
    pathText(s.path) === pathText(row.path) &&
    (s.appliesTo === undefined || s.appliesTo === row.kind);
  return [
    ...ENV_VARS.filter(sets).map((v) => ({ origin: v.name, env: true, key: undefined })),
    ...SERVE_FLAGS.filter(sets).map((f) => ({ origin: f.name, env: false, key: f.key })),
  ];
}

describe('every config field, through every origin', () => {
  it('has a bad value in the table (the schema is walked: a new field needs a row)', () => {
    expect(ROWS.map((r) => r.key).sort()).toEqual(Object.keys(BAD).sort());
    expect(ROWS.length).toBeGreaterThan(50);
  });

  it('every variable and flag sets a field of the schema', () => {
    for (const s of [...ENV_VARS, ...SERVE_FLAGS]) {
      // A general source setting is a field of both shipped kinds.
      const kinds =
        s.path[0] !== 'source'
          ? [undefined]
          : s.appliesTo
            ? [s.appliesTo]
            : ['scrape', 'prometheus'];
      for (const kind of kinds) {
        const set = ROWS.some(
          (r) => pathText(r.path) === pathText(s.path) && r.sourceKind === kind,
        );
        expect([s.name, kind, set]).toEqual([s.name, kind, true]);
      }
    }
  });

  it('serve declares every flag the loader reads, and no other', () => {
    const io = { stdout: process.stdout, stderr: process.stderr };
    const serve = buildProgram(io).commands.find((c) => c.name() === 'serve');
    expect(serve?.options.map((o) => o.long).sort()).toEqual(
      ['--config', ...SERVE_FLAGS.map((f) => f.name)].sort(),
    );
    expect(serve?.options.map((o) => o.attributeName()).sort()).toEqual(
      ['config', ...SERVE_FLAGS.map((f) => f.key)].sort(),
    );
  });

  it("docs/sidecar.md's configuration section lists every variable and flag", () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
    const doc = readFileSync(join(root, 'docs', 'sidecar.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Configuration'), doc.indexOf('## Endpoints'));
    const missing = [...ENV_VARS, ...SERVE_FLAGS]
      .map((s) => s.name)
      .filter((name) => !section.includes(`\`${name}`));
    expect(missing).toEqual([]);
  });

  it.each(ROWS.map((r) => [r.key, r] as const))('%s in the file', (_key, row) => {
    const file = fileWith(row.kind, row.path, row.bad.file);
    const field = pathText(row.path);
    expect(issues({ config: file })).toEqual([
      `${file}: ${field} ${row.bad.says}, got ${shown(row.bad.file)}`,
    ]);
  });

  const byOrigin = ROWS.flatMap((row) =>
    originsOf(row).map((o) => [`${row.key} by ${o.origin}`, row, o] as const),
  );

  it.each(byOrigin)('%s', (_name, row, o) => {
    const { text, textSays, says } = row.bad;
    expect(text, `${row.key} needs a bad text (or ANY) for ${o.origin}`).toBeDefined();
    const config = fileWith(row.kind);
    const given = text === ANY ? 'any text: "x" / y' : (text as string);
    const flags: ServeFlags = { config };
    if (o.key !== undefined)
      (flags as Record<string, unknown>)[o.key] = o.key === 'scrape' ? [given] : given;
    const found = issues(flags, o.env ? { [o.origin]: given } : {});
    if (text === ANY) {
      expect(found).toEqual([]);
      return;
    }
    const field = textSays ?? `${pathText(row.path)} ${says}`;
    expect(found).toEqual([`${o.origin}: ${field}, got ${shown(given)}`]);
  });
});
