/**
 * The sidecar reading its metric from a real Prometheus (which scrapes a real instrumented ws
 * server): the fleet sum arrives in the history, and Prometheus going away makes the
 * forecast stale, naming the source, without publishing forecast series.
 */
import { type PrometheusHandle, pollUntil, startPrometheus } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSidecar, type Sidecar } from '../../src/serve/app.js';
import { parseServeConfig } from '../../src/serve/config.js';
import { silentLogger } from '../../src/serve/log.js';
import { startTarget, type Target } from './serve-target.js';
import { FAST, seededDir, serveSettings, sidecarClient } from './sidecar.js';

const seeded = seededDir('tw-serve-prom-');

let target: Target;
let prometheus: PrometheusHandle;
let sidecar: Sidecar;
let url: string;

beforeAll(async () => {
  target = await startTarget();
  await target.setConnections(2);
  prometheus = await startPrometheus({ scrapeTargets: [{ job: 'chat', url: target.metricsUrl }] });
  await prometheus.waitFor('sum(realtime_connections)', (r) => r[0]?.value === 2, {
    timeoutMs: 20_000,
  });
  sidecar = createSidecar(
    parseServeConfig(
      serveSettings({
        source: { kind: 'prometheus', url: prometheus.url, timeoutSeconds: 2 },
        historyPoints: 5000,
        seed: { file: seeded.seedFile },
        // Prometheus' grid point for "now" lags a scrape: allow for it.
        staleness: { ...FAST.staleness, maxDataAgeSeconds: 5 },
      }),
    ),
    { log: silentLogger },
  );
  ({ url } = await sidecar.start());
});

afterAll(async () => {
  await sidecar?.stop();
  await prometheus?.stop();
  await target?.close();
  seeded.remove();
});

const client = sidecarClient(() => url);
const getForecast = () => client.forecast('?history=1');

describe('sidecar on a Prometheus source', () => {
  it('stores sum(realtime_connections) and forecasts', async () => {
    const doc = await pollUntil(
      getForecast,
      (d) => d.status === 'ok' && d.history.at(-1)?.value === 2,
      {
        timeoutMs: 30_000,
        description: 'ok with the fleet sum',
      },
    );
    expect(doc.source).toBe(`prometheus:${prometheus.url}`);
    expect(doc.history.at(-1)?.value).toBe(2);
  });

  it('Prometheus gone: stale naming it, no forecast series, errors counted', async () => {
    await prometheus.stop();
    const doc = await pollUntil(getForecast, (d) => d.status === 'stale', {
      timeoutMs: 20_000,
      description: 'stale',
    });
    expect(doc.reasons[0]?.startsWith(`source failing: prometheus:${prometheus.url}: `)).toBe(true);
    const m = await client.metrics();
    expect(
      [...m.keys()].filter((k) =>
        /^tidewatch_(forecast|recommended_replicas|scaling_threshold)\{/.test(k),
      ),
    ).toEqual([]);
    expect(
      m.get(`tidewatch_source_errors_total{source="prometheus:${prometheus.url}"}`),
    ).toBeGreaterThanOrEqual(1);
  });
});
