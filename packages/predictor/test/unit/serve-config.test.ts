/**
 * The sidecar's configuration: defaults, precedence (file < env < flags) and one exact
 * message per bad field, naming where the value came from and the field. Every field through
 * every origin: serve-config-fields.test.ts; precedence field by field:
 * serve-config-precedence.test.ts; unknown variables: serve-config-env.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  ENV_VARS,
  envOverrides,
  flagOverrides,
  loadServeConfig,
  parseServeConfig,
} from '../../src/serve/config.js';

const dir = mkdtempSync(join(tmpdir(), 'tw-serve-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scrape = { kind: 'scrape', urls: ['http://127.0.0.1:9000/metrics'] };
const calendarFile = join(dir, 'calendar.csv');
writeFileSync(calendarFile, 'name,start\n');

/** The message parseServeConfig throws for `raw` with `env` applied. */
function problem(raw: unknown, env: Record<string, string> = {}): string {
  try {
    parseServeConfig(raw, envOverrides(env));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  it('a scrape URL alone is a complete configuration', () => {
    const c = loadServeConfig({ flags: { scrape: ['http://127.0.0.1:9000/metrics'] }, env: {} });
    expect(c).toEqual({
      listen: { host: '127.0.0.1', port: 9464 },
      source: {
        kind: 'scrape',
        urls: ['http://127.0.0.1:9000/metrics'],
        type: 'gauge',
        labels: {},
        timeoutSeconds: 10,
        maxBodyBytes: 16_777_216,
      },
      metric: 'realtime_connections',
      target: 'default',
      stepSeconds: 60,
      historyPoints: 40_320,
      shutdownTimeoutSeconds: 15,
      schedule: { collect: '*/15 * * * * *', forecast: '0 * * * * *', retrain: '0 0 3 * * *' },
      forecast: {
        horizonSteps: 60,
        models: [
          'naive',
          'seasonal-naive-daily',
          'seasonal-naive-weekly',
          'holt-winters',
          'seasonal-profile',
          'lstm',
          'ensemble:holt-winters+seasonal-profile',
          'ensemble:holt-winters+seasonal-profile+lstm',
          'mstl',
          'ensemble:mstl+seasonal-profile',
        ],
        origins: 7,
        timeBudgetSeconds: 300,
        bandAdaptation: { enabled: true, gamma: 0.005 },
      },
      planner: {
        capacityPerReplica: 1000,
        capacityConfigured: false,
        targetUtilization: 0.7,
        minReplicas: 1,
        maxReplicas: 100,
        lead: {},
      },
      staleness: {},
      historyMinutes: 360,
      patch: {
        enabled: false,
        kind: 'scaledobject',
        hysteresis: 0.05,
        timeoutSeconds: 10,
        fieldManager: 'tidewatch-predictor',
      },
      live: { prefix: 'realtime_', windowSeconds: 30 },
      election: {
        enabled: false,
        leaseName: 'tidewatch-predictor',
        leaseDurationSeconds: 15,
        renewDeadlineSeconds: 10,
        retryPeriodSeconds: 2,
      },
      nowcast: { enabled: true },
      mode: 'active',
      shadow: { replicas: 'hpa', timeoutSeconds: 10, maxGapSeconds: 120 },
    });
  });

  it('historyPoints defaults to 28 days of steps; the Prometheus query to sum(metric)', () => {
    const c = parseServeConfig({
      source: { kind: 'prometheus', url: 'http://prom:9090' },
      metric: 'realtime_messages_total',
      stepSeconds: 30,
    });
    expect(c.historyPoints).toBe(80_640);
    expect(c.source).toEqual({
      kind: 'prometheus',
      url: 'http://prom:9090',
      query: 'sum(realtime_messages_total)',
      timeoutSeconds: 30,
      maxBodyBytes: 16_777_216,
      maxPoints: 110_000,
    });
  });

  it('a configured capacity is marked as such', () => {
    const c = parseServeConfig({ source: scrape, planner: { capacityPerReplica: 500 } });
    expect(c.planner.capacityPerReplica).toBe(500);
    expect(c.planner.capacityConfigured).toBe(true);
  });
});

describe('each bad field names itself and shows the value', () => {
  it.each([
    [
      { planner: { capacityPerReplica: 'abc' } },
      'config: planner.capacityPerReplica must be a number > 0, got "abc"',
    ],
    [
      { planner: { capacityPerReplica: 0 } },
      'config: planner.capacityPerReplica must be a number > 0, got 0',
    ],
    [
      { planner: { targetUtilization: 1.2 } },
      'config: planner.targetUtilization must be a number in (0, 1], got 1.2',
    ],
    [
      { planner: { minReplicas: 1.5 } },
      'config: planner.minReplicas must be an integer 0..100000, got 1.5',
    ],
    [
      { planner: { minReplicas: 5, maxReplicas: 2 } },
      'config: planner.maxReplicas must be >= planner.minReplicas (5), got 2',
    ],
    [
      { planner: { lead: { podStartSeconds: -1 } } },
      'config: planner.lead.podStartSeconds must be a number >= 0, got -1',
    ],
    [{ listen: { port: 70000 } }, 'config: listen.port must be an integer 0..65535, got 70000'],
    [{ listen: { host: '' } }, 'config: listen.host must be a host name or IP address, got ""'],
    [
      { listen: { prot: 1 } },
      'config: listen.prot is not a known setting; did you mean listen.port?',
    ],
    [{ listen: { tls: true } }, 'config: listen.tls is not a known setting'],
    [{ planer: {} }, 'config: planer is not a known setting; did you mean planner?'],
    [{ stepSeconds: 0 }, 'config: stepSeconds must be an integer 1..86400, got 0'],
    [{ historyPoints: 1 }, 'config: historyPoints must be an integer 2..5000000, got 1'],
    [
      { metric: 'not a metric' },
      'config: metric must be a Prometheus metric name, got "not a metric"',
    ],
    [
      { schedule: { collect: 'every minute' } },
      'config: schedule.collect must be a cron expression of 5 or 6 fields (seconds first), e.g. "*/15 * * * * *", got "every minute"',
    ],
    [
      { forecast: { models: ['naive', 'arima'] } },
      'config: forecast.models[1] must be one of naive, seasonal-naive-daily, seasonal-naive-weekly, holt-winters, seasonal-profile, lstm, ensemble:holt-winters+seasonal-profile, ensemble:holt-winters+seasonal-profile+lstm, mstl, ensemble:mstl+seasonal-profile, got "arima"',
    ],
    [
      { forecast: { models: [] } },
      'config: forecast.models must be a non-empty list of model names, got []',
    ],
    [
      { forecast: { horizonSteps: 2 } },
      "config: forecast.horizonSteps must cover the planner's lead time of 150 s (at least 3 steps of 60 s), got 2",
    ],
    [
      { stepSeconds: 1 },
      "config: forecast.horizonSteps must cover the planner's lead time of 150 s (at least 150 steps of 1 s), got 60 (the default)",
    ],
    [
      { staleness: { maxRollingMase: 'high' } },
      'config: staleness.maxRollingMase must be a number > 0, got "high"',
    ],
    [{ seed: { retime: true } }, 'config: seed.file is required (must be a file path)'],
    [{ historyMinutes: 20_000 }, 'config: historyMinutes must be an integer 1..10080, got 20000'],
    [{ patch: { enabled: 'yes' } }, 'config: patch.enabled must be true or false, got "yes"'],
    [
      { patch: { enabled: true, namespace: 'realtime' } },
      'config: patch.name is required (must be set when patch.enabled is true)',
    ],
    [
      { patch: { enabled: true, name: 'Realtime_Server', namespace: 'realtime' } },
      'config: patch.name must be a Kubernetes object name (lower case, digits, "-" and "."), got "Realtime_Server"',
    ],
    [
      { patch: { kind: 'deployment' } },
      'config: patch.kind must be "scaledobject" or "hpa", got "deployment"',
    ],
    [{ patch: { hysteresis: 1 } }, 'config: patch.hysteresis must be a number in [0, 1), got 1'],
    [
      { patch: { enabeld: true } },
      'config: patch.enabeld is not a known setting; did you mean patch.enabled?',
    ],
    [
      { schedule: { timezone: 'Mars/Olympus' } },
      'config: schedule.timezone must be an IANA time zone, e.g. "Europe/Berlin", got "Mars/Olympus"',
    ],
    [{ shutdownTimeoutSeconds: 0 }, 'config: shutdownTimeoutSeconds must be a number > 0, got 0'],
  ])('%j', (fields, message) => {
    expect(problem({ source: scrape, ...fields })).toBe(message);
  });

  it.each([
    [{ kind: 'nope' }, 'config: source.kind must be "scrape" or "prometheus", got "nope"'],
    [{ kind: 'scrape', urls: [] }, 'config: source.urls must be a non-empty list of URLs, got []'],
    [
      { kind: 'scrape', urls: ['http://a/metrics', 'ftp://b'] },
      'config: source.urls[1] must be an http(s) URL, got "ftp://b"',
    ],
    [
      { kind: 'scrape', urls: ['http://a/m'], type: 'histogram' },
      'config: source.type must be "gauge" or "counter", got "histogram"',
    ],
    [
      { kind: 'scrape', urls: ['http://a/m'], query: 'up' },
      'config: source.query is not a known setting',
    ],
    [
      { kind: 'scrape', urls: ['http://a/m'], timeoutSecond: 5 },
      'config: source.timeoutSecond is not a known setting; did you mean source.timeoutSeconds?',
    ],
    [
      { kind: 'prometheus', url: 'http://p', maxPoint: 5 },
      'config: source.maxPoint is not a known setting; did you mean source.maxPoints?',
    ],
    [
      { kind: 'scrape', urls: ['http://a/m'], bearerToken: 'two words' },
      'config: source.bearerToken must be a bearer token (visible ASCII characters, no spaces), got "two words"',
    ],
    [
      { kind: 'scrape', urls: ['http://a/m'], maxBodyBytes: 0 },
      'config: source.maxBodyBytes must be an integer 1..268435456, got 0',
    ],
    [{ kind: 'prometheus' }, 'config: source.url is required (must be an http(s) URL)'],
    [
      { kind: 'prometheus', url: 'http://p', query: ' ' },
      'config: source.query must be a non-empty PromQL expression, got " "',
    ],
  ])('source %j', (source, message) => {
    expect(problem({ source })).toBe(message);
  });

  it('lists every problem, in order', () => {
    const error = (() => {
      try {
        parseServeConfig({ source: scrape, listen: { port: -1 }, stepSeconds: 'x' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error?.issues).toEqual([
      'config: listen.port must be an integer 0..65535, got -1',
      'config: stepSeconds must be an integer 1..86400, got "x"',
    ]);
  });

  it('no source at all says how to give one', () => {
    expect(problem({})).toBe(
      'config: source is required: pass --scrape URL (repeatable) or --prometheus URL, set TIDEWATCH_SCRAPE_URLS or TIDEWATCH_PROMETHEUS_URL, or write source in the config file',
    );
  });

  it('a document that is not an object', () => {
    expect(problem(['a'])).toBe('config: must be an object of settings, got ["a"]');
  });
});

describe('environment', () => {
  it.each([
    [{ TIDEWATCH_PORT: 'x' }, 'TIDEWATCH_PORT: listen.port must be an integer 0..65535, got "x"'],
    [
      { TIDEWATCH_PORT: '8080.5' },
      'TIDEWATCH_PORT: listen.port must be an integer 0..65535, got "8080.5"',
    ],
    [
      { TIDEWATCH_CAPACITY_PER_REPLICA: 'lots' },
      'TIDEWATCH_CAPACITY_PER_REPLICA: planner.capacityPerReplica must be a number > 0, got "lots"',
    ],
    [
      { TIDEWATCH_PATCH_ENABLED: 'maybe' },
      'TIDEWATCH_PATCH_ENABLED: patch.enabled must be true or false, got "maybe"',
    ],
    [
      { TIDEWATCH_SCRAPE_URLS: 'http://a/m,nope' },
      'TIDEWATCH_SCRAPE_URLS: source.urls[1] must be an http(s) URL, got "nope"',
    ],
    [
      { TIDEWATCH_SCHEDULE_RETRAIN: '61 * * * *' },
      'TIDEWATCH_SCHEDULE_RETRAIN: schedule.retrain must be a cron expression of 5 or 6 fields (seconds first), e.g. "*/15 * * * * *", got "61 * * * *"',
    ],
    [
      { TIDEWATCH_SCHEDULE_TIMEZONE: 'Mars/Olympus' },
      'TIDEWATCH_SCHEDULE_TIMEZONE: schedule.timezone must be an IANA time zone, e.g. "Europe/Berlin", got "Mars/Olympus"',
    ],
    [
      { TIDEWATCH_PROMETHEUS_URL: 'http://p:9090', TIDEWATCH_SCRAPE_URLS: 'http://x/m' },
      'TIDEWATCH_PROMETHEUS_URL: source.url (prometheus) cannot be combined with TIDEWATCH_SCRAPE_URLS (scrape); configure one source',
    ],
    [
      { TIDEWATCH_PROMETHEUS_QUERY: 'sum(up)' },
      'TIDEWATCH_PROMETHEUS_QUERY: source.query applies to the prometheus source only, but config: source.kind selects the scrape source',
    ],
  ])('%j', (env, message) => {
    expect(problem({ source: scrape }, env)).toBe(message);
  });

  it('overrides the file, and typed values are converted', () => {
    const c = parseServeConfig(
      {
        source: scrape,
        listen: { port: 1000 },
        planner: { capacityPerReplica: 10, minReplicas: 2 },
      },
      envOverrides({
        TIDEWATCH_PORT: '2000',
        TIDEWATCH_CAPACITY_PER_REPLICA: '250.5',
        TIDEWATCH_FORECAST_MODELS: 'holt-winters, seasonal-profile',
        TIDEWATCH_PATCH_ENABLED: 'false',
        TIDEWATCH_TARGET: 'chat',
        TIDEWATCH_HOST: '',
      }),
    );
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 2000 });
    expect(c.planner.capacityPerReplica).toBe(250.5);
    expect(c.planner.minReplicas).toBe(2);
    expect(c.forecast.models).toEqual(['holt-winters', 'seasonal-profile']);
    expect(c.patch.enabled).toBe(false);
    expect(c.target).toBe('chat');
  });

  it('a source variable of the other kind replaces the file source, with a warning', () => {
    const warnings: string[] = [];
    const c = parseServeConfig(
      { source: { ...scrape, type: 'counter' } },
      envOverrides({
        TIDEWATCH_PROMETHEUS_URL: 'http://prom:9090',
        TIDEWATCH_PROMETHEUS_QUERY: 'sum(x)',
      }),
      { onWarning: (m) => warnings.push(m) },
    );
    expect(c.source).toEqual({
      kind: 'prometheus',
      url: 'http://prom:9090',
      query: 'sum(x)',
      timeoutSeconds: 30,
      maxBodyBytes: 16_777_216,
      maxPoints: 110_000,
    });
    expect(warnings).toEqual([
      'config: source (kind "scrape") ignored: TIDEWATCH_PROMETHEUS_URL selects the prometheus source',
    ]);
  });

  it('every variable sets its field', () => {
    const samples: Record<string, [string, unknown]> = {
      TIDEWATCH_HOST: ['0.0.0.0', '0.0.0.0'],
      TIDEWATCH_PORT: ['8080', 8080],
      TIDEWATCH_SCRAPE_URLS: ['http://a/m, http://b/m', ['http://a/m', 'http://b/m']],
      TIDEWATCH_SCRAPE_TYPE: ['counter', 'counter'],
      TIDEWATCH_PROMETHEUS_URL: ['http://prom:9090', 'http://prom:9090'],
      TIDEWATCH_PROMETHEUS_QUERY: ['sum(up)', 'sum(up)'],
      TIDEWATCH_SOURCE_TIMEOUT_SECONDS: ['2.5', 2.5],
      TIDEWATCH_SOURCE_BEARER_TOKEN: ['s3cret', 's3cret'],
      TIDEWATCH_SOURCE_MAX_BODY_BYTES: ['1048576', 1_048_576],
      TIDEWATCH_PROMETHEUS_MAX_POINTS: ['50000', 50_000],
      TIDEWATCH_SHUTDOWN_TIMEOUT_SECONDS: ['20.5', 20.5],
      TIDEWATCH_METRIC: ['realtime_messages_total', 'realtime_messages_total'],
      TIDEWATCH_TARGET: ['chat', 'chat'],
      TIDEWATCH_STEP_SECONDS: ['30', 30],
      TIDEWATCH_HISTORY_POINTS: ['1000', 1000],
      TIDEWATCH_DATA_DIR: ['/var/lib/tw', '/var/lib/tw'],
      TIDEWATCH_SCHEDULE_COLLECT: ['*/5 * * * * *', '*/5 * * * * *'],
      TIDEWATCH_SCHEDULE_FORECAST: ['*/30 * * * * *', '*/30 * * * * *'],
      TIDEWATCH_SCHEDULE_RETRAIN: ['0 4 * * *', '0 4 * * *'],
      TIDEWATCH_SCHEDULE_TIMEZONE: ['Europe/Berlin', 'Europe/Berlin'],
      TIDEWATCH_FORECAST_HORIZON_STEPS: ['90', 90],
      TIDEWATCH_FORECAST_MODELS: ['naive', ['naive']],
      TIDEWATCH_FORECAST_TIME_BUDGET_SECONDS: ['60', 60],
      // Read at validation: a real (empty) calendar (serve-config-calendar.test.ts has more).
      TIDEWATCH_FORECAST_CALENDAR_FILE: [calendarFile, calendarFile],
      TIDEWATCH_CAPACITY_PER_REPLICA: ['500', 500],
      TIDEWATCH_TARGET_UTILIZATION: ['0.8', 0.8],
      TIDEWATCH_MIN_REPLICAS: ['2', 2],
      TIDEWATCH_MAX_REPLICAS: ['20', 20],
      TIDEWATCH_SEED_FILE: ['/seed.csv', '/seed.csv'],
      TIDEWATCH_HISTORY_MINUTES: ['60', 60],
      TIDEWATCH_PATCH_ENABLED: ['false', false],
      TIDEWATCH_PATCH_KIND: ['hpa', 'hpa'],
      TIDEWATCH_PATCH_NAMESPACE: ['realtime', 'realtime'],
      TIDEWATCH_PATCH_NAME: ['chat-server', 'chat-server'],
      TIDEWATCH_PATCH_TRIGGER: ['load', 'load'],
      TIDEWATCH_ELECTION_ENABLED: ['false', false],
      TIDEWATCH_ELECTION_LEASE_NAME: ['chat', 'chat'],
      TIDEWATCH_ELECTION_NAMESPACE: ['realtime', 'realtime'],
      TIDEWATCH_ELECTION_IDENTITY: ['chat-0', 'chat-0'],
      TIDEWATCH_ELECTION_API_SERVER: ['http://127.0.0.1:8001', 'http://127.0.0.1:8001'],
      TIDEWATCH_ELECTION_MODEL_CONFIGMAP: ['chat-model', 'chat-model'],
      TIDEWATCH_NOWCAST_ENABLED: ['false', false],
      TIDEWATCH_MODE: ['active', 'active'],
      TIDEWATCH_SHADOW_PROMETHEUS_URL: ['http://prom:9090', 'http://prom:9090'],
      TIDEWATCH_SHADOW_REPLICAS: ['deployment', 'deployment'],
      TIDEWATCH_SHADOW_NAMESPACE: ['realtime', 'realtime'],
      TIDEWATCH_SHADOW_NAME: ['chat', 'chat'],
      TIDEWATCH_SHADOW_REPLICAS_QUERY: ['sum(up)', 'sum(up)'],
    };
    expect(Object.keys(samples).sort()).toEqual(ENV_VARS.map((v) => v.name).sort());
    for (const v of ENV_VARS) {
      const [text, value] = samples[v.name] as [string, unknown];
      const base =
        v.appliesTo === 'prometheus'
          ? { source: { kind: 'prometheus', url: 'http://p:9090' } }
          : { source: scrape };
      const config = parseServeConfig(base, envOverrides({ [v.name]: text }), {
        onWarning: (m) => {
          throw new Error(`unexpected warning: ${m}`);
        },
      }) as unknown;
      let at = config;
      for (const p of v.path) at = (at as Record<string, unknown>)[p];
      expect([v.name, at]).toEqual([v.name, value]);
    }
  });
});

describe('flags and files', () => {
  it('flags override the environment, which overrides the file', () => {
    const file = join(dir, 'c.yaml');
    writeFileSync(
      file,
      'listen:\n  port: 1000\n  host: 0.0.0.0\nsource:\n  kind: scrape\n  urls: [http://file/metrics]\n',
    );
    const c = loadServeConfig({
      flags: {
        config: file,
        port: '3000',
        scrape: ['http://flag-a/metrics', 'http://flag-b/metrics'],
      },
      env: {
        TIDEWATCH_PORT: '2000',
        TIDEWATCH_HOST: '::1',
        TIDEWATCH_SCRAPE_URLS: 'http://env/metrics',
      },
    });
    expect(c.listen).toEqual({ host: '::1', port: 3000 });
    expect(c.source.kind === 'scrape' && c.source.urls).toEqual([
      'http://flag-a/metrics',
      'http://flag-b/metrics',
    ]);
  });

  it('TIDEWATCH_CONFIG names the file when --config is absent; JSON files parse as JSON', () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ source: scrape, stepSeconds: 30 }));
    expect(loadServeConfig({ env: { TIDEWATCH_CONFIG: file } }).stepSeconds).toBe(30);
  });

  it('a bad flag names the flag', () => {
    expect(() =>
      parseServeConfig({}, flagOverrides({ scrape: ['http://a/m'], port: 'eighty' })),
    ).toThrow('--port: listen.port must be an integer 0..65535, got "eighty"');
    expect(() =>
      parseServeConfig({}, flagOverrides({ scrape: ['http://a/m'], prometheus: 'http://p:9090' })),
    ).toThrow(
      '--prometheus: source.url (prometheus) cannot be combined with --scrape (scrape); configure one source',
    );
  });

  it('an unreadable or unparsable file names the file', () => {
    const missing = join(dir, 'missing.yaml');
    expect(() => loadServeConfig({ flags: { config: missing }, env: {} })).toThrow(
      `config: cannot read ${missing}: no such file`,
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"source": ');
    expect(() => loadServeConfig({ flags: { config: bad }, env: {} })).toThrow(
      new RegExp(`^config: cannot parse ${bad}: `),
    );
    const badYaml = join(dir, 'bad.yaml');
    writeFileSync(badYaml, 'source: [unclosed\n');
    expect(() => loadServeConfig({ flags: { config: badYaml }, env: {} })).toThrow(
      new RegExp(`^config: cannot parse ${badYaml}: `),
    );
  });

  it('an empty YAML file is no settings', () => {
    const file = join(dir, 'empty.yaml');
    writeFileSync(file, '');
    const c = loadServeConfig({ flags: { config: file, scrape: ['http://a/m'] }, env: {} });
    expect(c.listen.port).toBe(9464);
  });
});
