/**
 * The nowcast in a real `serve` process (the built CLI): a loopback scrape target whose
 * exposition the test drives (connections, the handshake counter, abnormal closes) instead of
 * real clients, so a surge of hundreds of handshakes per second costs nothing. Steady, then a
 * handshake surge: `tidewatch_nowcast_load` appears and `tidewatch_predicted_load` rises to it,
 * above the seasonal plan; then calm: the `nowcast` block of `/forecast` goes inactive and the
 * signal falls back to the plan.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CATALOG, DEFAULT_PREFIX, SIGNALS } from '@tidewatch/conventions';
import { pollUntil } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltCli } from './run-cli.js';
import {
  type SeededDir,
  seededDir,
  sidecarClient,
  startServe,
  waitReady,
  writeServeConfig,
} from './sidecar.js';

/** A fleet whose figures advance with the wall clock at the rates the test sets. */
interface DrivenTarget {
  readonly metricsUrl: string;
  /** Handshakes per second from now on; those above `baselineRate` add connections. */
  setHandshakeRate(perSecond: number): void;
  close(): Promise<void>;
}

const BASELINE_CONNECTIONS = 2000;
/** Handshakes per second of the steady fleet (and as many closes: the level holds). */
const BASELINE_RATE = 5;

async function startDrivenTarget(): Promise<DrivenTarget> {
  const name = (key: keyof typeof CATALOG) => DEFAULT_PREFIX + CATALOG[key].name;
  const labels = 'transport="websocket",endpoint="/ws"';
  let rate = BASELINE_RATE;
  let connections = BASELINE_CONNECTIONS;
  let handshakes = 0;
  let lastMs = Date.now();
  const advance = () => {
    const now = Date.now();
    const dt = (now - lastMs) / 1000;
    lastMs = now;
    handshakes += rate * dt;
    connections += (rate - BASELINE_RATE) * dt;
  };
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith('/metrics')) {
      res.writeHead(404).end();
      return;
    }
    advance();
    const n = Math.floor(handshakes);
    const hs = name('handshakeDuration');
    const body = [
      `# TYPE ${name('connections')} gauge`,
      `${name('connections')}{${labels},state="active"} ${Math.round(connections)}`,
      `# TYPE ${hs} histogram`,
      `${hs}_bucket{${labels},outcome="success",le="0.005"} ${n}`,
      `${hs}_bucket{${labels},outcome="success",le="+Inf"} ${n}`,
      `${hs}_sum{${labels},outcome="success"} ${n * 0.001}`,
      `${hs}_count{${labels},outcome="success"} ${n}`,
      `# TYPE ${name('connectionsClosed')} counter`,
      `${name('connectionsClosed')}{${labels},reason="abnormal",initiator="client"} 0`,
      '',
    ].join('\n');
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    setHandshakeRate(perSecond) {
      advance();
      rate = perSecond;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const seeded: SeededDir = seededDir('tw-serve-nowcast-');
let target: DrivenTarget;

beforeAll(async () => {
  requireBuiltCli();
  target = await startDrivenTarget();
});
afterAll(async () => {
  await target?.close();
  seeded.remove();
});

const NOWCAST = SIGNALS.nowcastLoad.name;
const PREDICTED = SIGNALS.predictedLoad.name;
const FORECAST = SIGNALS.forecast.name;
/** What one sample is called in the parsed exposition: `name{labels}` in exposition order. */
const sample = (metric: string, labels: Record<string, string>) =>
  `${metric}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

describe('serve: nowcast', () => {
  it('a handshake surge raises the published load above the plan; calm returns it', async () => {
    const metric = DEFAULT_PREFIX + CATALOG.connections.name;
    const config = writeServeConfig(seeded.dir, 'nowcast', {
      seed: { file: seeded.seedFile },
      source: { kind: 'scrape', urls: [target.metricsUrl], timeoutSeconds: 0.5 },
      // Rates over 2 s (collections are every second): the nowcast sees a surge within a step.
      live: { windowSeconds: 2 },
      // Windows scaled to the test's 1 s steps and 5 s lead time.
      nowcast: {
        shortWindowSeconds: 2,
        longWindowSeconds: 120,
        minExcessPerSecond: 20,
        minExtraConnections: 20,
        decaySeconds: 3,
        // A surge of a few seconds at test scale: no sustain, no absolute arrival floor.
        sustainSeconds: 0,
        minArrivalConnections: 0,
      },
    });
    const run = startServe(['--config', config]);
    const url = await run.url;
    const client = sidecarClient(() => url);
    await waitReady(url);
    const horizon = `${(await client.forecast()).plan.leadTimeSeconds}s`;
    const labels = { metric, horizon };
    const planOf = (m: Map<string, number>) =>
      Math.max(
        m.get(sample(FORECAST, { ...labels, quantile: '0.5' })) ?? Number.NaN,
        0.5 * (m.get(sample(FORECAST, { ...labels, quantile: '0.9' })) ?? Number.NaN),
      );

    // Steady: the nowcast has seen the fleet and adds nothing; the signal is the plan.
    const steady = await pollUntil(
      () => client.forecast(),
      (f) =>
        f.status === 'ok' &&
        f.nowcast?.active === false &&
        f.nowcast.reason.startsWith('quiet: ') &&
        (f.live?.handshakesPerSecond ?? null) !== null,
      { timeoutMs: 30_000, description: 'an ok plan and a quiet nowcast' },
    );
    expect(steady.live?.abnormalClosesPerSecond).toBe(0);
    const calm = await client.metrics();
    expect([...calm.keys()].filter((k) => k.startsWith(NOWCAST))).toEqual([]);
    expect(calm.get(sample(PREDICTED, labels))).toBeCloseTo(planOf(calm), 6);

    // Surge: 400 handshakes per second, the connections climbing behind them.
    target.setHandshakeRate(400);
    const surging = await pollUntil(
      () => client.metrics(),
      (m) => {
        const nowcast = m.get(sample(NOWCAST, { metric }));
        return (
          nowcast !== undefined &&
          m.get(sample(PREDICTED, labels)) === nowcast &&
          nowcast > planOf(m) &&
          nowcast > BASELINE_CONNECTIONS
        );
      },
      { timeoutMs: 30_000, description: 'the nowcast published above the plan' },
    );
    expect(surging.get(sample(PREDICTED, labels))).toBeGreaterThan(planOf(surging));
    const during = await client.forecast();
    expect(during.nowcast?.active).toBe(true);
    expect(during.nowcast?.reason).toMatch(/^arrivals: /);

    // Calm: back to the steady rate; the wave is over once the level has caught up.
    target.setHandshakeRate(BASELINE_RATE);
    const after = await pollUntil(
      () => client.forecast(),
      (f) => f.nowcast?.active === false && f.status === 'ok',
      { timeoutMs: 30_000, description: 'the nowcast inactive again' },
    );
    expect(after.nowcast?.load).toBeNull();
    const back = await pollUntil(
      () => client.metrics(),
      (m) => ![...m.keys()].some((k) => k.startsWith(NOWCAST)),
      { timeoutMs: 10_000, description: 'tidewatch_nowcast_load gone' },
    );
    expect(back.get(sample(PREDICTED, labels))).toBeCloseTo(planOf(back), 6);

    run.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
  });
});
