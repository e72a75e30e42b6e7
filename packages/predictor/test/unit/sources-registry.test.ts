import { SOURCE_SCOPES } from '@tidewatch/conventions';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from '../../src/serve/config.js';
import {
  BUILTIN_SOURCE_KINDS,
  builtinSourceRegistry,
  DEFAULT_SOURCES,
  kindList,
} from '../../src/sources/index.js';

describe('the shipped source kinds', () => {
  it('declare the scopes the generated manifests fold the predicted load by', () => {
    expect(Object.fromEntries(BUILTIN_SOURCE_KINDS.map((k) => [k.kind, k.scope]))).toEqual(
      SOURCE_SCOPES,
    );
  });

  it('only the scrape kind feeds the live figures', () => {
    expect(BUILTIN_SOURCE_KINDS.filter((k) => k.live).map((k) => k.kind)).toEqual(['scrape']);
  });

  it('contribute their variables to ENV_VARS in the documented order, each bound to its kind', () => {
    expect(ENV_VARS.slice(0, 10).map((v) => [v.name, v.sourceKind, v.appliesTo])).toEqual([
      ['TIDEWATCH_HOST', undefined, undefined],
      ['TIDEWATCH_PORT', undefined, undefined],
      ['TIDEWATCH_SCRAPE_URLS', 'scrape', 'scrape'],
      ['TIDEWATCH_SCRAPE_TYPE', undefined, 'scrape'],
      ['TIDEWATCH_PROMETHEUS_URL', 'prometheus', 'prometheus'],
      ['TIDEWATCH_PROMETHEUS_QUERY', undefined, 'prometheus'],
      ['TIDEWATCH_PROMETHEUS_MAX_POINTS', undefined, 'prometheus'],
      // General source settings apply to whichever kind is selected.
      ['TIDEWATCH_SOURCE_TIMEOUT_SECONDS', undefined, undefined],
      ['TIDEWATCH_SOURCE_BEARER_TOKEN', undefined, undefined],
      ['TIDEWATCH_SOURCE_MAX_BODY_BYTES', undefined, undefined],
    ]);
  });

  it('the default registry is sealed; a built-in one takes more kinds', () => {
    expect(() => DEFAULT_SOURCES.register(BUILTIN_SOURCE_KINDS[0])).toThrow(
      'the default source registry is sealed: register on builtinSourceRegistry()',
    );
    const r = builtinSourceRegistry();
    expect(kindList(r)).toBe('"scrape" or "prometheus"');
    expect(r.require('prometheus')).toBe(BUILTIN_SOURCE_KINDS[1]);
    expect(r.get('nope')).toBeUndefined();
  });

  it('name sources as the signals count them', () => {
    const scrape = BUILTIN_SOURCE_KINDS[0].names({
      kind: 'scrape',
      urls: ['http://a:1/metrics', 'http://b:2/metrics'],
      type: 'gauge',
      labels: {},
      timeoutSeconds: 10,
      maxBodyBytes: 16_777_216,
    });
    expect(scrape).toEqual({
      name: 'scrape:http://a:1/metrics,http://b:2/metrics',
      errorSources: ['scrape:http://a:1/metrics', 'scrape:http://b:2/metrics'],
    });
    const prom = BUILTIN_SOURCE_KINDS[1].names({
      kind: 'prometheus',
      url: 'http://prom:9090/',
      timeoutSeconds: 30,
      maxBodyBytes: 16_777_216,
      maxPoints: 110_000,
    });
    expect(prom).toEqual({
      name: 'prometheus:http://prom:9090',
      errorSources: ['prometheus:http://prom:9090'],
    });
  });
});
