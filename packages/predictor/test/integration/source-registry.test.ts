/**
 * The source seam: a third kind, registered in this file alone (a CSV replay), is validated by
 * the config loader, collected by the sidecar, forecast and published, with no change to the
 * sidecar's code. Training runs in the real worker thread (needs the forecast package built).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSeriesCsv, type Source, SourceError } from '@tidewatch/forecast';
import { hourlyCsv, parseSamples, pollUntil } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSidecar, type Sidecar } from '../../src/serve/app.js';
import { ConfigError, parseServeConfig, type ServeConfig } from '../../src/serve/config.js';
import { silentLogger } from '../../src/serve/log.js';
import type { ForecastJson } from '../../src/serve/routes.js';
import { builtinSourceRegistry, type SourceKind } from '../../src/sources/index.js';
import { request, seedValues, serveSettings } from './sidecar.js';

const dir = mkdtempSync(join(tmpdir(), 'tw-source-kind-'));
const WEEKS = 6;
const VALUES = seedValues(WEEKS * 168);
const csv = join(dir, 'replay.csv');
writeFileSync(csv, hourlyCsv(VALUES));
const missing = join(dir, 'missing.csv');

const replaySchema = z.strictObject({
  kind: z.literal('replay'),
  file: z.string({ error: 'must be a file path' }).min(1, { error: 'must be a file path' }),
});
type ReplayConfig = z.output<typeof replaySchema>;

/** How many reads each replay source has answered (the collector's calls, seen from the kind). */
const reads = new Map<string, number>();

/**
 * Replays a CSV's values cyclically, one per step of the grid: the point at time t is value
 * number (t / step) mod n. A source with a past, like Prometheus: it answers any range.
 */
const replayKind: SourceKind<ReplayConfig> = {
  kind: 'replay',
  schema: replaySchema,
  scope: 'fleet',
  live: false,
  names: (c) => ({ name: `replay:${c.file}`, errorSources: [`replay:${c.file}`] }),
  create(c, ctx): Source {
    const name = `replay:${c.file}`;
    return {
      name,
      async read(options = {}) {
        reads.set(name, (reads.get(name) ?? 0) + 1);
        let values: ArrayLike<number>;
        try {
          values = parseSeriesCsv(readFileSync(c.file, 'utf8'), name).values;
        } catch (error) {
          throw new SourceError(name, `cannot replay: ${(error as Error).message}`);
        }
        const step = ctx.stepMs;
        const end = Math.floor((options.endMs ?? ctx.now()) / step) * step;
        const start = Math.ceil((options.startMs ?? end) / step) * step;
        const out = new Float64Array(Math.max(0, (end - start) / step + 1));
        for (let k = 0; k < out.length; k++)
          out[k] = values[((start + k * step) / step) % values.length] as number;
        return { startMs: start, stepMs: step, values: out };
      },
    };
  },
};

const registry = builtinSourceRegistry().register(replayKind);

function configFor(file: string): ServeConfig {
  return parseServeConfig(
    serveSettings({
      source: { kind: 'replay', file },
      historyPoints: VALUES.length,
      target: 'replayed',
    }),
    [],
    { sources: registry },
  );
}

describe('a source kind registered by the caller', () => {
  it('the config loader asks the registry: unknown without it, validated with it', () => {
    const message = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('no ConfigError');
    };
    expect(message(() => parseServeConfig({ source: { kind: 'replay', file: csv } }))).toBe(
      'config: source.kind must be "scrape" or "prometheus", got "replay"',
    );
    expect(
      message(() => parseServeConfig({ source: { kind: 'nope' } }, [], { sources: registry })),
    ).toBe('config: source.kind must be "scrape", "prometheus" or "replay", got "nope"');
    expect(
      message(() =>
        parseServeConfig({ source: { kind: 'replay', file: '' } }, [], { sources: registry }),
      ),
    ).toBe('config: source.file must be a file path, got ""');
    expect(
      message(() =>
        parseServeConfig({ source: { kind: 'replay', file: csv, urls: [] } }, [], {
          sources: registry,
        }),
      ),
    ).toBe('config: source.urls is not a known setting');
    // A kind without flags or variables adds nothing to how a source can be given.
    expect(message(() => parseServeConfig({}, [], { sources: registry }))).toBe(
      'config: source is required: pass --scrape URL (repeatable) or --prometheus URL, set TIDEWATCH_SCRAPE_URLS or TIDEWATCH_PROMETHEUS_URL, or write source in the config file',
    );
  });

  it('createSidecar refuses a kind its registry does not know, naming the way out', () => {
    expect(() => createSidecar(configFor(csv), { log: silentLogger })).toThrow(
      'unknown source kind "replay" (registered: scrape, prometheus); pass the registry that parsed the config to createSidecar({ sources })',
    );
    expect(() => registry.register(replayKind)).toThrow(
      'source kind "replay" is already registered',
    );
  });
});

describe('the sidecar end to end on a registered kind', () => {
  let sidecar: Sidecar;
  let url: string;

  beforeAll(async () => {
    sidecar = createSidecar(configFor(csv), { log: silentLogger, sources: registry });
    ({ url } = await sidecar.start());
  });

  afterAll(async () => {
    await sidecar?.stop();
  });

  it('collects a full history from the source, forecasts and publishes the signals', async () => {
    const doc = await pollUntil(
      async () => JSON.parse((await request(`${url}/forecast`)).text) as ForecastJson,
      (d) => d.status === 'ok',
      { timeoutMs: 60_000, description: 'an ok forecast from the replayed source' },
    );
    expect(doc.source).toBe(`replay:${csv}`);
    expect(doc.metric).toBe('realtime_connections');
    const metrics = parseSamples((await request(`${url}/metrics`)).text);
    expect(metrics.get(`tidewatch_source_errors_total{source="replay:${csv}"}`)).toBe(0);
    // The first collection asked for the whole ring back: every point came from the replay.
    expect(metrics.get('tidewatch_history_points{metric="realtime_connections"}')).toBe(
      VALUES.length,
    );
    expect(metrics.get('tidewatch_recommended_replicas{target="replayed"}')).toBeGreaterThanOrEqual(
      1,
    );
    expect((reads.get(`replay:${csv}`) ?? 0) >= 1).toBe(true);
    // Not a live kind: no live figures on /forecast.
    expect(doc.live).toBeNull();
  });
});

describe('a registered kind that fails', () => {
  let sidecar: Sidecar;
  let url: string;

  beforeAll(async () => {
    sidecar = createSidecar(configFor(missing), { log: silentLogger, sources: registry });
    ({ url } = await sidecar.start());
  });

  afterAll(async () => {
    await sidecar?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is counted under its own name and makes the forecast say why', async () => {
    const name = `replay:${missing}`;
    const metrics = await pollUntil(
      async () => parseSamples((await request(`${url}/metrics`)).text),
      (m) => (m.get(`tidewatch_source_errors_total{source="${name}"}`) ?? 0) >= 1,
      { timeoutMs: 15_000, description: 'the failed collection counted' },
    );
    expect(metrics.get(`tidewatch_history_points{metric="realtime_connections"}`)).toBe(0);
    const doc = JSON.parse((await request(`${url}/forecast`)).text) as ForecastJson;
    expect(doc.status).not.toBe('ok');
    expect(doc.reasons.join('; ')).toContain(`source failing: ${name}: cannot replay:`);
  });
});
