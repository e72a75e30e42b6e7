import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { Registry } from 'prom-client';
import { type ServerOptions, WebSocket, WebSocketServer } from 'ws';
import {
  createRealtimeMetrics,
  metricsHandler,
  type RealtimeMetrics,
  type RealtimeMetricsOptions,
} from '../src/index.js';
import { type InstrumentWsOptions, instrumentWs } from '../src/ws.js';

/** One parsed metric family from the text exposition. */
export interface Family {
  name: string;
  type: string;
  metrics: Array<{
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }>;
}

export interface EchoServer extends AsyncDisposable {
  port: number;
  url: string;
  server: http.Server;
  wss: WebSocketServer;
  metrics: RealtimeMetrics;
  registry: Registry;
  detach: () => void;
  /** Server-side sockets by the client's `?id=` query value. */
  byId: Map<string, WebSocket>;
  scrape(token?: string): Promise<Family[]>;
  close(): Promise<void>;
}

export interface EchoServerOptions {
  metrics?: RealtimeMetricsOptions;
  ws?: Omit<ServerOptions, 'server' | 'port' | 'noServer'>;
  instrument?: InstrumentWsOptions;
  token?: string;
}

/** A real ws echo server on 127.0.0.1:0, instrumented, with `/metrics` on the same port. */
export async function startEchoServer(opts: EchoServerOptions = {}): Promise<EchoServer> {
  const registry = new Registry();
  const metrics = createRealtimeMetrics({ registry, ...opts.metrics });
  const server = http.createServer();
  const wss = new WebSocketServer({ server, path: '/ws', ...opts.ws });
  const detach = instrumentWs(wss, metrics, opts.instrument);
  const handler = metricsHandler(metrics, opts.token ? { auth: { bearer: opts.token } } : {});
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/metrics')) handler(req, res);
    else if (!res.headersSent) {
      // Tests may serve their own pages through a listener added before this one.
      res.writeHead(404);
      res.end();
    }
  });
  const byId = new Map<string, WebSocket>();
  wss.on('connection', (ws, req) => {
    const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id');
    if (id !== null) byId.set(id, ws);
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      if (ws.readyState === ws.OPEN) ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const close = async () => {
    detach();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    server,
    wss,
    metrics,
    registry,
    detach,
    byId,
    scrape: (token = opts.token) => scrape(`http://127.0.0.1:${port}/metrics`, token),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Scrapes a `/metrics` URL over HTTP and parses it with a Prometheus text parser. */
export async function scrape(url: string, token?: string): Promise<Family[]> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (res.status !== 200) throw new Error(`scrape ${url}: HTTP ${res.status}`);
  return parseExposition(await res.text());
}

const SAMPLE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL_RE = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Parses the Prometheus text format into families. Written here because the npm parser
 * (parse-prometheus-text-format 1.1.1) drops labels, _sum and _count of histograms.
 */
export function parseExposition(text: string): Family[] {
  const fams = new Map<string, Family>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      fams.set(name!, { name: name!, type: type!, metrics: [] });
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE_RE.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const [, sample, rawLabels = '', v] = m;
    const labels: Record<string, string> = {};
    for (const l of rawLabels.matchAll(LABEL_RE)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    const base = sample!.replace(/_(bucket|sum|count)$/, '');
    if (types.get(base) === 'histogram') {
      const fam = fams.get(base)!;
      const { le, ...rest } = labels;
      const key = JSON.stringify(rest);
      let series = fam.metrics.find((x) => JSON.stringify(x.labels) === key);
      if (!series) {
        series = { labels: rest, buckets: {}, count: '0', sum: '0' };
        fam.metrics.push(series);
      }
      if (sample!.endsWith('_bucket')) series.buckets![le!] = v!;
      else if (sample!.endsWith('_sum')) series.sum = v!;
      else series.count = v!;
      continue;
    }
    const fam = fams.get(sample!) ?? fams.get(base);
    if (!fam) throw new Error(`sample without TYPE: ${line}`);
    fam.metrics.push({ labels, value: v! });
  }
  return [...fams.values()];
}

/**
 * Exposed series per family of a text exposition: every sample line (a histogram's
 * `_bucket`, `_sum` and `_count` lines each count) under the `# TYPE` line before it.
 */
export function exposedSeries(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let family: string | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      family = line.split(' ')[2]!;
      out.set(family, 0);
    } else if (line !== '' && !line.startsWith('#')) {
      if (family === undefined) throw new Error(`sample without TYPE: ${line}`);
      out.set(family, out.get(family)! + 1);
    }
  }
  return out;
}

function matches(labels: Record<string, string> | undefined, want: Record<string, string>) {
  for (const [k, v] of Object.entries(want)) if (labels?.[k] !== v) return false;
  return true;
}

/** Sum of a counter/gauge over the series whose labels include `want`. */
export function value(fams: Family[], name: string, want: Record<string, string> = {}): number {
  const fam = fams.find((f) => f.name === name);
  if (!fam) throw new Error(`no metric ${name} in the scrape`);
  let sum = 0;
  for (const m of fam.metrics) if (matches(m.labels, want)) sum += Number(m.value);
  return sum;
}

/** Sum of a histogram's `_count` (or `_sum`) over the series whose labels include `want`. */
export function histogram(
  fams: Family[],
  name: string,
  want: Record<string, string> = {},
): { count: number; sum: number; buckets: Record<string, number> } {
  const fam = fams.find((f) => f.name === name);
  if (!fam) throw new Error(`no metric ${name} in the scrape`);
  const out = { count: 0, sum: 0, buckets: {} as Record<string, number> };
  for (const m of fam.metrics) {
    if (!matches(m.labels, want)) continue;
    out.count += Number(m.count);
    out.sum += Number(m.sum);
    for (const [le, c] of Object.entries(m.buckets ?? {})) {
      out.buckets[le] = (out.buckets[le] ?? 0) + Number(c);
    }
  }
  return out;
}

/**
 * The range a histogram's `_sum` must lie in given its buckets, for non-negative values:
 * each observation in bucket (a, b] adds more than a and at most b (the `+Inf` bucket has no
 * upper end). A check of consistency that holds on any machine, however slow, unlike a bound
 * on the measured durations themselves.
 */
export function sumBounds(h: { buckets: Record<string, number> }): { min: number; max: number } {
  const bounds = Object.entries(h.buckets)
    .map(([le, cum]) => [le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), cum] as const)
    .sort((x, y) => x[0] - y[0]);
  let min = 0;
  let max = 0;
  let prevLe = 0;
  let prevCum = 0;
  for (const [le, cum] of bounds) {
    const n = cum - prevCum;
    if (n < 0) throw new Error(`buckets not cumulative at le=${le}`);
    if (n > 0) {
      min += n * prevLe;
      max += n * le;
    }
    prevLe = le;
    prevCum = cum;
  }
  // Float sums of many observations round: allow a relative hair either way.
  return { min: min * (1 - 1e-9), max: max * (1 + 1e-9) };
}

/** Number of series of a metric (histograms: label sets). */
export function seriesCount(fams: Family[], name: string): number {
  return fams.find((f) => f.name === name)?.metrics.length ?? 0;
}

/** Polls `fn` until it returns true; bounded by `timeoutMs`. */
export async function until(
  what: string,
  fn: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Opens a ws client and waits for `open` (rejects on error or unexpected response). */
export function connect(url: string, options?: ConstructorParameters<typeof WebSocket>[2]) {
  return new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

/** Resolves when the client socket has fully closed. */
export function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve(1006);
    else ws.once('close', (code) => resolve(code));
  });
}

/**
 * Sends a raw HTTP upgrade request on a plain TCP socket and returns the socket and the
 * first response line (or '' when the server closes without answering).
 */
export function rawUpgrade(
  port: number,
  request: string,
): Promise<{ socket: net.Socket; status: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let buf = '';
    const done = () => resolve({ socket, status: buf.split('\r\n')[0] ?? '' });
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) {
        socket.removeAllListeners('data');
        done();
      }
    });
    socket.on('error', reject);
    socket.on('close', done);
  });
}

/** A valid upgrade request for `path`. */
export function upgradeRequest(path: string, extra = ''): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}

/** Scrapes until `realtime_connections_closed_total` reaches `closes`; returns that scrape. */
export async function scrapeAfterCloses(
  s: Pick<EchoServer, 'scrape'>,
  closes: number,
  timeoutMs = 10_000,
): Promise<Family[]> {
  let fams: Family[] = [];
  await until(
    `${closes} closes counted`,
    async () => {
      fams = await s.scrape();
      return value(fams, 'realtime_connections_closed_total') === closes;
    },
    timeoutMs,
  );
  return fams;
}

/** Each client sends `count` messages (`payload(i, j)`); resolves when every echo is back. */
export function echoAll(
  clients: WebSocket[],
  count: number,
  payload: (i: number, j: number) => string | Buffer,
): Promise<void> {
  return Promise.all(
    clients.map(
      (ws, i) =>
        new Promise<void>((resolve) => {
          let echoes = 0;
          ws.on('message', () => {
            if (++echoes === count) resolve();
          });
          for (let j = 0; j < count; j++) ws.send(payload(i, j));
        }),
    ),
  ).then(() => {});
}
