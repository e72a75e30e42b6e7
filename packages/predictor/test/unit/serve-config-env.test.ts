/**
 * Unknown `TIDEWATCH_*` variables: a typo must not leave a setting at its default without a
 * word, so each one is warned about once, with the closest known name.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ConfigError, ENV_VARS, loadServeConfig } from '../../src/serve/config.js';
import { closestName, editDistance, unknownVariableWarnings } from '../../src/serve/config-env.js';
import { builtinSourceRegistry, type SourceKind } from '../../src/sources/index.js';

const URLS = { TIDEWATCH_SCRAPE_URLS: 'http://127.0.0.1:9000/metrics' };

/** The warnings loading with `env` gives (the config must be valid). */
function warningsOf(env: Record<string, string>): string[] {
  const warnings: string[] = [];
  loadServeConfig({ env: { ...URLS, ...env }, onWarning: (m) => warnings.push(m) });
  return warnings;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('unknown TIDEWATCH_* variables', () => {
  it.each([
    ['TIDEWATCH_SCRAPE_URL', 'did you mean TIDEWATCH_SCRAPE_URLS?'],
    ['TIDEWATCH_PROMETHEUS_ULR', 'did you mean TIDEWATCH_PROMETHEUS_URL?'],
    ['TIDEWATCH_MAX_REPLICA', 'did you mean TIDEWATCH_MAX_REPLICAS?'],
    ['TIDEWATCH_BEARER_TOKEN', 'did you mean TIDEWATCH_SOURCE_BEARER_TOKEN?'],
    ['TIDEWATCH_TIMEZONE', 'did you mean TIDEWATCH_SCHEDULE_TIMEZONE?'],
    ['TIDEWATCH_SHUTDOWN_TIMEOUT', 'did you mean TIDEWATCH_SHUTDOWN_TIMEOUT_SECONDS?'],
    ['tidewatch_port', 'did you mean TIDEWATCH_PORT?'],
    ['TIDEWATCH_CONFIG_FILE', 'did you mean TIDEWATCH_CONFIG?'],
  ])('%s: warned once, with the closest known name', (name, hint) => {
    expect(warningsOf({ [name]: 'x' })).toEqual([`unknown variable ${name} ignored; ${hint}`]);
  });

  it('a name close to nothing is warned about without a guess', () => {
    expect(warningsOf({ TIDEWATCH_LOG_FORMAT: 'json' })).toEqual([
      'unknown variable TIDEWATCH_LOG_FORMAT ignored',
    ]);
  });

  it('one warning per variable, set-but-empty included, in the order of the environment', () => {
    expect(warningsOf({ TIDEWATCH_SCRAPE_URL: '', TIDEWATCH_PROT: '80' })).toEqual([
      'unknown variable TIDEWATCH_SCRAPE_URL ignored; did you mean TIDEWATCH_SCRAPE_URLS?',
      'unknown variable TIDEWATCH_PROT ignored; did you mean TIDEWATCH_PORT?',
    ]);
  });

  it('known variables, TIDEWATCH_CONFIG and other components’ variables are not warned about', () => {
    const known = Object.fromEntries(ENV_VARS.map((v) => [v.name, '']));
    expect(
      warningsOf({
        ...known,
        ...URLS,
        TIDEWATCH_CONFIG: '',
        TIDEWATCH_METRICS_PORT: '9464',
        TIDEWATCH_PROMETHEUS_BIN: '/usr/bin/prometheus',
        TIDEWATCH_WRITE_SCREENSHOT: '1',
        TIDEWATCH_WRITE_SCREENSHOTS: '1',
        PATH: '/usr/bin',
      }),
    ).toEqual([]);
  });

  it('are reported before validation, so a failing start still shows them', () => {
    const warnings: string[] = [];
    expect(() =>
      loadServeConfig({
        env: { TIDEWATCH_SCRAPE_URL: 'http://a/m' },
        onWarning: (m) => warnings.push(m),
      }),
    ).toThrow(ConfigError);
    expect(warnings).toEqual([
      'unknown variable TIDEWATCH_SCRAPE_URL ignored; did you mean TIDEWATCH_SCRAPE_URLS?',
    ]);
  });

  it("a registered kind's variables are known with its registry", () => {
    const replay: SourceKind<{ kind: 'replay'; file: string }> = {
      kind: 'replay',
      schema: z.strictObject({ kind: z.literal('replay'), file: z.string() }),
      scope: 'fleet',
      live: false,
      settings: [{ name: 'TIDEWATCH_REPLAY_FILE', field: 'file', type: 'string', selects: true }],
      names: (c) => ({ name: `replay:${c.file}`, errorSources: [] }),
      create: () => {
        throw new Error('not created here');
      },
    };
    const warnings: string[] = [];
    const c = loadServeConfig({
      env: { TIDEWATCH_REPLAY_FILE: '/r.csv', TIDEWATCH_REPLAY_FIL: 'x' },
      sources: builtinSourceRegistry().register(replay),
      onWarning: (m) => warnings.push(m),
    });
    expect(c.source).toEqual({ kind: 'replay', file: '/r.csv' });
    expect(warnings).toEqual([
      'unknown variable TIDEWATCH_REPLAY_FIL ignored; did you mean TIDEWATCH_REPLAY_FILE?',
    ]);
  });

  it('by default each is a JSON warn line on stderr, the shape of the sidecar log', () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    loadServeConfig({ env: { ...URLS, TIDEWATCH_SCRAPE_URL: 'http://a/m' } });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(line).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      level: 'warn',
      msg: 'unknown variable TIDEWATCH_SCRAPE_URL ignored; did you mean TIDEWATCH_SCRAPE_URLS?',
    });
  });
});

describe('the name guess', () => {
  it('edit distance counts inserts, deletes and substitutions', () => {
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('PORT', 'PORT')).toBe(0);
  });

  it('takes the closest candidate, and none that is far', () => {
    expect(closestName('prot', ['port', 'host'])).toBe('port');
    expect(closestName('TIDEWATCH_X', ['TIDEWATCH_PORT'])).toBeUndefined();
    expect(
      unknownVariableWarnings({ TIDEWATCH_HOTS: '1' }, ['TIDEWATCH_HOST', 'TIDEWATCH_PORT']),
    ).toEqual(['unknown variable TIDEWATCH_HOTS ignored; did you mean TIDEWATCH_HOST?']);
  });
});
