/**
 * The source settings reach `@tidewatch/forecast`: what each shipped kind's `create()` passes
 * to the library's factory (the factories are replaced by recorders here), and the kinds'
 * own cross-checks against the rest of the config.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadServeConfig } from '../../src/serve/config.js';
import {
  type CounterResetEvent,
  prometheusKind,
  type SourceContext,
  scrapeKind,
} from '../../src/sources/index.js';

const calls = vi.hoisted(() => ({ scrape: [] as unknown[], prometheus: [] as unknown[] }));

vi.mock('@tidewatch/forecast', async (importOriginal) => {
  const original = await importOriginal<typeof import('@tidewatch/forecast')>();
  const fake = (name: string) => ({
    name,
    read: async () => ({ startMs: 0, stepMs: 1, values: [] }),
  });
  return {
    ...original,
    createScrapeSource: (options: unknown) => {
      calls.scrape.push(options);
      return fake('scrape');
    },
    createPrometheusSource: (options: unknown) => {
      calls.prometheus.push(options);
      return fake('prometheus');
    },
  };
});

beforeEach(() => {
  calls.scrape.length = 0;
  calls.prometheus.length = 0;
});

const now = () => 1_700_000_000_000;
const context: SourceContext = { metric: 'realtime_connections', stepMs: 60_000, now };

/** The config's source block from `env` alone. */
function sourceOf(env: Record<string, string>) {
  return loadServeConfig({ env, onWarning: () => {} }).source;
}

const KINDS = { scrape: scrapeKind, prometheus: prometheusKind };

/**
 * What the `kind` source `env` configures passes to the library's factory (the recorded calls),
 * created with `hooks` in its context.
 */
function passed(
  kind: keyof typeof KINDS,
  env: Record<string, string>,
  hooks: Partial<SourceContext> = {},
): unknown[] {
  KINDS[kind].create(sourceOf(env) as never, { ...context, ...hooks });
  return calls[kind];
}

describe('the scrape kind', () => {
  it('passes the timeout, the token, maxBodyBytes and the hooks', () => {
    const onExposition = () => {};
    const onCounterReset = (_e: CounterResetEvent) => {};
    const env = {
      TIDEWATCH_SCRAPE_URLS: 'http://a/m,http://b/m',
      TIDEWATCH_SOURCE_TIMEOUT_SECONDS: '2.5',
      TIDEWATCH_SOURCE_BEARER_TOKEN: 'tok\n',
      TIDEWATCH_SOURCE_MAX_BODY_BYTES: '1048576',
    };
    expect(passed('scrape', env, { onExposition, onCounterReset })).toEqual([
      {
        urls: ['http://a/m', 'http://b/m'],
        metric: 'realtime_connections',
        labels: {},
        kind: 'gauge',
        stepMs: 60_000,
        timeoutMs: 2500,
        maxBodyBytes: 1_048_576,
        now,
        // Trimmed: the line break a token file ends with is not part of the token.
        bearerToken: 'tok',
        onExposition,
        onCounterReset,
      },
    ]);
  });

  it('passes no hook it was not given, and the default body cap', () => {
    expect(passed('scrape', { TIDEWATCH_SCRAPE_URLS: 'http://a/m' })).toEqual([
      {
        urls: ['http://a/m'],
        metric: 'realtime_connections',
        labels: {},
        kind: 'gauge',
        stepMs: 60_000,
        timeoutMs: 10_000,
        maxBodyBytes: 16_777_216,
        now,
      },
    ]);
  });
});

describe('the prometheus kind', () => {
  it('passes maxBodyBytes, maxPoints and one retry (timeouts are not retried by the library)', () => {
    const env = {
      TIDEWATCH_PROMETHEUS_URL: 'http://prom:9090',
      TIDEWATCH_PROMETHEUS_MAX_POINTS: '200000',
      TIDEWATCH_SOURCE_MAX_BODY_BYTES: '33554432',
      TIDEWATCH_SOURCE_BEARER_TOKEN: 'tok',
    };
    expect(passed('prometheus', env)).toEqual([
      {
        url: 'http://prom:9090',
        query: 'sum(realtime_connections)',
        stepMs: 60_000,
        timeoutMs: 30_000,
        retries: 1,
        maxBodyBytes: 33_554_432,
        maxPoints: 200_000,
        bearerToken: 'tok',
      },
    ]);
  });

  it('refuses a maxPoints the first collection (the whole history ring) would exceed', () => {
    const message = (env: Record<string, string>) => {
      try {
        loadServeConfig({ env, onWarning: () => {} });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      return 'no error';
    };
    // 28 days at a 15 s step is 161,280 points: more than the default 110,000.
    expect(
      message({ TIDEWATCH_PROMETHEUS_URL: 'http://p:9090', TIDEWATCH_STEP_SECONDS: '15' }),
    ).toBe(
      'config: source.maxPoints must be >= historyPoints (161280): the first collection reads the whole history, got 110000 (the default)',
    );
    expect(
      message({
        TIDEWATCH_PROMETHEUS_URL: 'http://p:9090',
        TIDEWATCH_HISTORY_POINTS: '5000',
        TIDEWATCH_PROMETHEUS_MAX_POINTS: '4000',
      }),
    ).toBe(
      'TIDEWATCH_PROMETHEUS_MAX_POINTS: source.maxPoints must be >= historyPoints (5000): the first collection reads the whole history, got "4000"',
    );
    expect(
      message({
        TIDEWATCH_PROMETHEUS_URL: 'http://p:9090',
        TIDEWATCH_STEP_SECONDS: '15',
        TIDEWATCH_PROMETHEUS_MAX_POINTS: '161280',
      }),
    ).toBe('no error');
  });
});
