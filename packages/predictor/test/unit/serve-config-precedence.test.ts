/**
 * One precedence, field by field: flag > environment > file > default. A flag or variable
 * that sets one field of the source (its URLs) leaves the others (the token) where they came
 * from; only a change of the source's kind drops the file's source block.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  envOverrides,
  flagOverrides,
  loadServeConfig,
  parseServeConfig,
  type ServeConfig,
  type ServeFlags,
} from '../../src/serve/config.js';
import { setPath, valueAt } from '../../src/serve/config-fields.js';

const dir = mkdtempSync(join(tmpdir(), 'tw-serve-config-precedence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** A config file with `doc` (JSON). */
function file(doc: unknown): string {
  const path = join(dir, `c${files++}.json`);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

const SCRAPE = { kind: 'scrape', urls: ['http://file/metrics'] };
const PROMETHEUS = { kind: 'prometheus', url: 'http://file-prom:9090' };

/** Loads with warnings collected. */
function load(flags: ServeFlags, env: Record<string, string> = {}) {
  const warnings: string[] = [];
  const config = loadServeConfig({ flags, env, onWarning: (m) => warnings.push(m) });
  return { config, warnings };
}

/** The ConfigError's issues. */
function issues(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('the bearer token is not dropped when another origin gives the URLs', () => {
  const token = 's3cret';

  it.each<[string, ServeFlags, Record<string, string>, object]>([
    [
      'env token, --scrape',
      { scrape: ['http://flag/m'] },
      { TIDEWATCH_SOURCE_BEARER_TOKEN: token },
      {},
    ],
    [
      'env token, env URLs',
      {},
      { TIDEWATCH_SOURCE_BEARER_TOKEN: token, TIDEWATCH_SCRAPE_URLS: 'http://env/m' },
      {},
    ],
    [
      'file token, --scrape',
      { scrape: ['http://flag/m'] },
      {},
      { source: { ...SCRAPE, bearerToken: token } },
    ],
    [
      'file token, env URLs',
      {},
      { TIDEWATCH_SCRAPE_URLS: 'http://env/m' },
      { source: { ...SCRAPE, bearerToken: token } },
    ],
    [
      'file block without a kind, --scrape',
      { scrape: ['http://flag/m'] },
      {},
      { source: { bearerToken: token, timeoutSeconds: 3 } },
    ],
    [
      'env token, --prometheus over a file of the same kind',
      { prometheus: 'http://flag-prom:9090' },
      { TIDEWATCH_SOURCE_BEARER_TOKEN: token },
      { source: PROMETHEUS },
    ],
  ])('%s', (_name, flags, env, doc) => {
    const { config, warnings } = load({ ...flags, config: file(doc) }, env);
    expect(config.source.bearerToken).toBe(token);
    expect(warnings).toEqual([]);
  });
});

/** A field set by the file, a variable and a flag (where one exists), and its default. */
interface Case {
  field: string;
  base: Record<string, unknown>;
  fallback: unknown;
  file: unknown;
  env: [name: string, text: string, value: unknown];
  flag?: [key: keyof ServeFlags, given: string | string[], value: unknown];
}

const CASES: Case[] = [
  {
    field: 'source.urls',
    base: SCRAPE,
    fallback: SCRAPE.urls,
    file: SCRAPE.urls,
    env: ['TIDEWATCH_SCRAPE_URLS', 'http://env/m', ['http://env/m']],
    flag: ['scrape', ['http://flag/m'], ['http://flag/m']],
  },
  {
    field: 'source.url',
    base: PROMETHEUS,
    fallback: PROMETHEUS.url,
    file: PROMETHEUS.url,
    env: ['TIDEWATCH_PROMETHEUS_URL', 'http://env:9090', 'http://env:9090'],
    flag: ['prometheus', 'http://flag:9090', 'http://flag:9090'],
  },
  {
    field: 'source.bearerToken',
    base: SCRAPE,
    fallback: undefined,
    file: 'file-token',
    env: ['TIDEWATCH_SOURCE_BEARER_TOKEN', 'env-token', 'env-token'],
  },
  {
    field: 'source.timeoutSeconds',
    base: SCRAPE,
    fallback: 10,
    file: 1,
    env: ['TIDEWATCH_SOURCE_TIMEOUT_SECONDS', '2', 2],
  },
  {
    field: 'source.timeoutSeconds',
    base: PROMETHEUS,
    fallback: 30,
    file: 1,
    env: ['TIDEWATCH_SOURCE_TIMEOUT_SECONDS', '2.5', 2.5],
  },
  {
    field: 'source.maxBodyBytes',
    base: SCRAPE,
    fallback: 16_777_216,
    file: 1000,
    env: ['TIDEWATCH_SOURCE_MAX_BODY_BYTES', '2000', 2000],
    flag: ['sourceMaxBodyBytes', '3000', 3000],
  },
  {
    field: 'source.maxPoints',
    base: PROMETHEUS,
    fallback: 110_000,
    file: 50_000,
    env: ['TIDEWATCH_PROMETHEUS_MAX_POINTS', '60000', 60_000],
    flag: ['prometheusMaxPoints', '70000', 70_000],
  },
  {
    field: 'listen.port',
    base: SCRAPE,
    fallback: 9464,
    file: 1000,
    env: ['TIDEWATCH_PORT', '2000', 2000],
    flag: ['port', '3000', 3000],
  },
  {
    field: 'metric',
    base: SCRAPE,
    fallback: 'realtime_connections',
    file: 'file_metric',
    env: ['TIDEWATCH_METRIC', 'env_metric', 'env_metric'],
  },
  {
    field: 'shutdownTimeoutSeconds',
    base: SCRAPE,
    fallback: 15,
    file: 5,
    env: ['TIDEWATCH_SHUTDOWN_TIMEOUT_SECONDS', '10', 10],
    flag: ['shutdownTimeoutSeconds', '20', 20],
  },
];

/** Every combination of origins that set the field: [file, env, flag]. */
const COMBOS = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => [!!(n & 1), !!(n & 2), !!(n & 4)] as const);

describe('per field: flag > environment > file > default', () => {
  const rows = CASES.flatMap((c) =>
    COMBOS.filter(([, , flag]) => !flag || c.flag).map(
      ([inFile, inEnv, inFlag]) =>
        [
          `${c.field} (${c.base.kind}) from ${[inFile && 'file', inEnv && 'env', inFlag && 'flag'].filter(Boolean).join(' + ') || 'nothing'}`,
          c,
          inFile,
          inEnv,
          inFlag,
        ] as const,
    ),
  );

  it.each(rows)('%s', (_name, c, inFile, inEnv, inFlag) => {
    const path = c.field.split('.');
    const doc: Record<string, unknown> = { source: { ...c.base } };
    if (inFile) setPath(doc, path, c.file);
    const env = inEnv ? { [c.env[0]]: c.env[1] } : {};
    const flags: ServeFlags = { config: file(doc) };
    if (inFlag && c.flag) (flags as Record<string, unknown>)[c.flag[0]] = c.flag[1];
    const { config, warnings } = load(flags, env);
    const expected = inFlag && c.flag ? c.flag[2] : inEnv ? c.env[2] : inFile ? c.file : c.fallback;
    expect(valueAt(config, path)).toEqual(expected);
    expect(warnings).toEqual([]);
  });
});

describe('the source kind: the highest origin that selects one decides', () => {
  const tokenFile = () =>
    file({
      source: { ...SCRAPE, type: 'counter', bearerToken: 'scrape-token', timeoutSeconds: 3 },
    });

  it("a flag of another kind drops the file's source block (general variables still apply)", () => {
    const { config, warnings } = load(
      { config: tokenFile(), prometheus: 'http://flag:9090' },
      { TIDEWATCH_SOURCE_BEARER_TOKEN: 'prom-token' },
    );
    expect(config.source).toEqual({
      kind: 'prometheus',
      url: 'http://flag:9090',
      query: 'sum(realtime_connections)',
      timeoutSeconds: 30,
      bearerToken: 'prom-token',
      maxBodyBytes: 16_777_216,
      maxPoints: 110_000,
    });
    const path = join(dir, `c${files - 1}.json`);
    expect(warnings).toEqual([
      `${path}: source (kind "scrape") ignored: --prometheus selects the prometheus source`,
    ]);
  });

  it("a flag of another kind makes the environment's settings of the other kind ignored", () => {
    const { config, warnings } = load(
      { prometheus: 'http://flag:9090' },
      { TIDEWATCH_SCRAPE_URLS: 'http://env/m', TIDEWATCH_SCRAPE_TYPE: 'counter' },
    );
    expect(config.source.kind).toBe('prometheus');
    expect(warnings).toEqual([
      'TIDEWATCH_SCRAPE_URLS ignored: --prometheus selects the prometheus source',
      'TIDEWATCH_SCRAPE_TYPE ignored: --prometheus selects the prometheus source',
    ]);
  });

  it('a setting of another kind from the selecting origin or above is an error', () => {
    expect(
      issues(() => load({ query: 'sum(up)' }, { TIDEWATCH_SCRAPE_URLS: 'http://env/m' })),
    ).toEqual([
      '--query: source.query applies to the prometheus source only, but TIDEWATCH_SCRAPE_URLS selects the scrape source',
    ]);
    const path = file({ source: SCRAPE });
    expect(issues(() => load({ config: path, prometheusMaxPoints: '5' }))).toEqual([
      `--prometheus-max-points: source.maxPoints applies to the prometheus source only, but ${path}: source.kind selects the scrape source`,
    ]);
  });

  it('two kinds from one origin are an error, whatever the other origins say', () => {
    expect(
      issues(() =>
        load(
          { config: file({ source: SCRAPE }) },
          { TIDEWATCH_SCRAPE_URLS: 'http://env/m', TIDEWATCH_PROMETHEUS_URL: 'http://env:9090' },
        ),
      ),
    ).toEqual([
      'TIDEWATCH_PROMETHEUS_URL: source.url (prometheus) cannot be combined with TIDEWATCH_SCRAPE_URLS (scrape); configure one source',
    ]);
  });

  it('general source settings alone do not make a source', () => {
    expect(issues(() => load({}, { TIDEWATCH_SOURCE_BEARER_TOKEN: 't' }))).toEqual([
      'config: source is required: pass --scrape URL (repeatable) or --prometheus URL, set TIDEWATCH_SCRAPE_URLS or TIDEWATCH_PROMETHEUS_URL, or write source in the config file',
    ]);
  });

  it('a file source that is not an object, with a flag selecting a kind, is reported', () => {
    const path = file({ source: 'scrape' });
    expect(issues(() => load({ config: path, scrape: ['http://flag/m'] }))).toEqual([
      `${path}: source must be an object of settings, got "scrape"`,
    ]);
  });
});

describe('overrides passed to parseServeConfig', () => {
  it('are ranked by level, whatever their order: flags over variables', () => {
    const overrides = [
      ...flagOverrides({ port: '3000' }),
      ...envOverrides({ TIDEWATCH_PORT: '2000', TIDEWATCH_SCRAPE_URLS: 'http://env/m' }),
    ];
    const c: ServeConfig = parseServeConfig({ listen: { port: 1000 } }, overrides);
    expect(c.listen.port).toBe(3000);
  });

  it('without a level count as flags, in the order given', () => {
    const c = parseServeConfig({ source: SCRAPE }, [
      { origin: 'a', path: ['metric'], raw: 'a_m', value: 'a_m', sourceKind: undefined },
      ...envOverrides({ TIDEWATCH_METRIC: 'env_m' }),
      { origin: 'b', path: ['metric'], raw: 'b_m', value: 'b_m', sourceKind: undefined },
    ]);
    expect(c.metric).toBe('b_m');
  });

  it('name themselves in messages', () => {
    expect(
      issues(() =>
        parseServeConfig({ source: SCRAPE }, [
          { origin: 'the caller', path: ['stepSeconds'], raw: 0, value: 0, sourceKind: undefined },
        ]),
      ),
    ).toEqual(['the caller: stepSeconds must be an integer 1..86400, got 0']);
  });
});
