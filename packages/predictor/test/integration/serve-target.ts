/**
 * Helpers of the sidecar's integration tests: a real `ws` server instrumented with
 * @tidewatch/middleware whose connection count the test sets by opening real clients, and
 * which can go down, come back on the same port, or answer garbage; plus small HTTP helpers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRealtimeMetrics, metricsHandler } from '@tidewatch/middleware';
import { instrumentWs } from '@tidewatch/middleware/ws';
import { flightsHourly } from '@tidewatch/test-utils';
import { Registry } from 'prom-client';
import { WebSocket, WebSocketServer } from 'ws';

/** A scrape target whose `realtime_connections` is the number of open clients. */
export interface Target {
  readonly port: number;
  readonly metricsUrl: string;
  /** Opens or closes real clients until `n` are connected. */
  setConnections(n: number): Promise<void>;
  /** `garbage`: `/metrics` answers 200 with text that is no exposition. */
  setMode(mode: 'ok' | 'garbage'): void;
  /** Stops listening (clients are dropped). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a target on 127.0.0.1 (port 0 = any free port). */
export async function startTarget(): Promise<Target> {
  const registry = new Registry();
  const metrics = createRealtimeMetrics({ registry });
  const handler = metricsHandler(metrics);
  let mode: 'ok' | 'garbage' = 'ok';
  let server: http.Server;
  let wss: WebSocketServer;
  let detach: () => void;
  const clients: WebSocket[] = [];

  async function listen(port: number): Promise<number> {
    server = http.createServer((req, res) => {
      if (!req.url?.startsWith('/metrics')) {
        res.writeHead(404).end();
        return;
      }
      if (mode === 'garbage') {
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<html>oops {{{ not metrics</html>\n');
        return;
      }
      handler(req, res);
    });
    wss = new WebSocketServer({ server, path: '/ws' });
    detach = instrumentWs(wss, metrics);
    wss.on('connection', (ws) => ws.on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  const port = await listen(0);
  const target: Target = {
    port,
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    async setConnections(n) {
      while (clients.length > n) {
        const ws = clients.pop() as WebSocket;
        const closed = new Promise((resolve) => ws.once('close', resolve));
        ws.close();
        await closed;
      }
      while (clients.length < n) {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
        ws.on('error', () => {});
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        clients.push(ws);
      }
      // The server sees the close a moment after the client: wait until it counts right.
      for (let i = 0; i < 200 && wss.clients.size !== n; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
    },
    setMode(m) {
      mode = m;
    },
    async down() {
      for (const ws of clients.splice(0)) ws.terminate();
      detach();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async up() {
      await listen(port);
    },
    async close() {
      if (server.listening) await target.down();
    },
  };
  return target;
}

/** The first `n` hourly flights values: the seed a fresh sidecar forecasts from at once. */
export function seedValues(n: number): number[] {
  return Array.from(flightsHourly().values).slice(0, n);
}

/** CSV text of `values` (hourly timestamps from 2001-01-01). */
export function seedCsv(values: readonly number[]): string {
  const t0 = Date.parse('2001-01-01T00:00:00Z');
  const rows = values.map((v, k) => `${new Date(t0 + k * 3_600_000).toISOString()},${v}`);
  return `timestamp,value\n${rows.join('\n')}\n`;
}

/** GET (or another method) returning status, headers and body text. */
export async function request(
  url: string,
  method = 'GET',
): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, { method });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Samples of `/metrics` text: `name{labels}` -> value. */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Settings shared by the sidecars under test: 1 s steps, an hourly trace replayed per second. */
export const FAST = {
  stepSeconds: 1,
  schedule: { collect: '* * * * * *', forecast: '*/2 * * * * *', retrain: '0 0 3 * * *' },
  forecast: {
    horizonSteps: 30,
    models: ['seasonal-naive-weekly', 'holt-winters', 'seasonal-profile'],
    season: { daySteps: 24, weekSteps: 168 },
  },
  planner: {
    capacityPerReplica: 100,
    targetUtilization: 0.5,
    lead: { podStartSeconds: 0, readinessSeconds: 0, metricLagSeconds: 0, pollingSeconds: 5 },
  },
  // The live load (a few test clients) is nothing like the replayed trace: the live error
  // must not make the forecast stale here; staleness by error has its own unit tests.
  staleness: {
    maxDataAgeSeconds: 3,
    maxForecastAgeSeconds: 10,
    maxRollingMase: 1e9,
    maxModelMase: 10,
  },
} as const;
