/**
 * The scrape target of the sidecar's integration tests: a real `ws` server instrumented with
 * @tidewatch/middleware whose connection count the test sets by opening real clients, and
 * which can go down, come back on the same port, or misbehave on `/metrics` (garbage, a 500,
 * a body that never ends, a huge body, a duplicated series, a negative gauge). The sidecar
 * side (seed, settings, a client for its endpoints) is in ./sidecar.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRealtimeMetrics, metricsHandler } from '@tidewatch/middleware';
import { instrumentWs } from '@tidewatch/middleware/ws';
import { pollUntil } from '@tidewatch/test-utils';
import { Registry } from 'prom-client';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * How `/metrics` answers: `ok` the real exposition; `garbage` 200 with text that is no
 * exposition; `stall` headers and the start of a body, then nothing, ever (until the target
 * closes); `error500` HTTP 500; `huge` a 2 MiB exposition; `duplicate` the real exposition
 * with a `realtime_connections` series repeated; `negative` `realtime_connections` summing to -5.
 */
export type TargetMode =
  | 'ok'
  | 'garbage'
  | 'stall'
  | 'error500'
  | 'huge'
  | 'duplicate'
  | 'negative';

/** A scrape target whose `realtime_connections` is the number of open clients. */
export interface Target {
  readonly port: number;
  readonly metricsUrl: string;
  /** Opens or closes real clients until `n` are connected and the server counts `n`. */
  setConnections(n: number): Promise<void>;
  /** How `/metrics` answers from now on (see {@link TargetMode}). */
  setMode(mode: TargetMode): void;
  /** `/metrics` requests answered (or, for `stall`, begun) in `mode` so far. */
  served(mode: TargetMode): number;
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
  let mode: TargetMode = 'ok';
  const served = new Map<TargetMode, number>();
  const REAL = /^realtime_connections\{.*\} \d+$/m;
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
      served.set(mode, (served.get(mode) ?? 0) + 1);
      const text = 'text/plain; version=0.0.4; charset=utf-8';
      switch (mode) {
        case 'garbage':
          res
            .writeHead(200, { 'content-type': 'text/html' })
            .end('<html>oops {{{ not metrics</html>\n');
          return;
        case 'stall':
          res.writeHead(200, { 'content-type': text });
          res.write('# HELP realtime_connections Open connections.\n');
          return;
        case 'error500':
          res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
          return;
        case 'huge':
          res
            .writeHead(200, { 'content-type': text })
            .end(`${'# padding '.padEnd(1023, 'x')}\n`.repeat(2048));
          return;
        case 'negative':
          res
            .writeHead(200, { 'content-type': text })
            .end(
              [
                '# TYPE realtime_connections gauge',
                'realtime_connections{transport="websocket",endpoint="/ws",state="active"} -6',
                'realtime_connections{transport="websocket",endpoint="/ws",state="idle"} 1',
                '',
              ].join('\n'),
            );
          return;
        case 'duplicate':
          void metrics.registry.metrics().then((body) => {
            const line = REAL.exec(body)?.[0] ?? 'realtime_connections 0';
            res.writeHead(200, { 'content-type': text }).end(`${body}${line}\n`);
          });
          return;
        default:
          handler(req, res);
      }
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
      await pollUntil(
        async () => wss.clients.size,
        (size) => size === n,
        { timeoutMs: 5_000, intervalMs: 10, description: `the target to count ${n} clients` },
      );
    },
    setMode(m) {
      mode = m;
    },
    served: (m) => served.get(m) ?? 0,
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
