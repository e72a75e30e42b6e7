/**
 * A hostile upstream for the predictor sidecar's chaos tests and benchmarks: one loopback HTTP
 * server that is both a scrape target (`/metrics`: a `realtime_*` gauge and counter and
 * `process_start_time_seconds` in Prometheus text) and a fake Prometheus (`/api/v1/query_range`,
 * `/api/v1/query`, `/api/v1/status/buildinfo`), whose behaviour is switched at runtime: healthy,
 * or streaming forever, a body of hundreds of MB, stalling, HTML, garbage, a duplicate family,
 * a counter going down, a storm of 500s. Imports nothing but Node (bench scripts load it too).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What the server does with the next request (a request keeps the mode it arrived in):
 *
 * - `ok`: a valid answer (the exposition; a matrix with a value on every requested step).
 * - `endless`: 200 and a valid start, then padding at a steady rate for ever (never ends).
 * - `huge`: a valid answer behind `hugeBytes` of padding, with `content-length`, streamed.
 * - `huge-chunked`: the same without `content-length` (chunked).
 * - `stall-headers`: 200 and the headers, then nothing (the connection stays open).
 * - `stall-silent`: nothing at all, not even a status line.
 * - `html`: 200 `text/html`, an error page from a proxy.
 * - `garbage`: 200 with binary bytes.
 * - `duplicate`: `/metrics` repeats the `realtime_connections` family; Prometheus answers two
 *   series for the query.
 * - `error500`: every request answers 500.
 * - `counter-reset`: on the switch the counter drops to `counterResetTo` (then grows again)
 *   with the same `process_start_time_seconds` (a glitch, not a restart).
 * - `counter-restart`: on the switch the counter drops and the start time becomes now.
 * - `counter-reset-nostart`: on the switch the counter drops, and no start time is exposed while
 *   the mode lasts.
 */
export type ChaosMode =
  | 'ok'
  | 'endless'
  | 'huge'
  | 'huge-chunked'
  | 'stall-headers'
  | 'stall-silent'
  | 'html'
  | 'garbage'
  | 'duplicate'
  | 'error500'
  | 'counter-reset'
  | 'counter-restart'
  | 'counter-reset-nostart';

/** Every {@link ChaosMode}, `ok` first. */
export const CHAOS_MODES: readonly ChaosMode[] = [
  'ok',
  'endless',
  'huge',
  'huge-chunked',
  'stall-headers',
  'stall-silent',
  'html',
  'garbage',
  'duplicate',
  'error500',
  'counter-reset',
  'counter-restart',
  'counter-reset-nostart',
];

/** Which face of the server a request reached. */
export type ChaosEndpoint = 'scrape' | 'prometheus';

/** Options of {@link startChaosServer}. */
export interface ChaosServerOptions {
  /**
   * The names of the two series the target exposes, e.g. the catalogue's
   * `metricName('connections')` and `metricName('messages')` (test-utils imports no tidewatch
   * package, and names live in @tidewatch/conventions: the caller passes them).
   */
  metrics: { readonly gauge: string; readonly counter: string };
  /** The gauge (and every Prometheus value). Default 5. */
  connections?: number;
  /** Increase of the counter per second. Default 10. */
  counterPerSecond?: number;
  /**
   * What the counter drops to in the `counter-*` modes (it starts at 100,000). Default 0; a
   * value well above `counterPerSecond` makes a Prometheus-style rate over the reset (which
   * counts the new value as the increase) stand out from a skipped step.
   */
  counterResetTo?: number;
  /** Padding of `huge` and `huge-chunked`, bytes. Default 300 MB (300 x 2^20). */
  hugeBytes?: number;
  /** Rate of `endless`, bytes per second. Default 1 MiB/s (64 KiB every 62.5 ms). */
  endlessBytesPerSecond?: number;
  /** The start mode. Default `ok`. */
  mode?: ChaosMode;
}

/** A running chaos server; dispose (or `close()`) to stop it and drop every socket. */
export interface ChaosServer extends AsyncDisposable {
  readonly port: number;
  /** `http://127.0.0.1:<port>`: the fake Prometheus' base URL. */
  readonly url: string;
  /** `<url>/metrics`: the scrape target. */
  readonly metricsUrl: string;
  /** The current mode. */
  readonly mode: ChaosMode;
  /** Switches the mode for the requests that arrive from now on. */
  setMode(mode: ChaosMode): void;
  /** `setMode('ok')`. */
  heal(): void;
  /** Sets the gauge (and the Prometheus values). */
  setConnections(n: number): void;
  /** The gauge value now. */
  readonly connections: number;
  /** The counter now (what an `ok` scrape would show). */
  counterValue(): number;
  /**
   * Requests that arrived in `mode` (all modes when omitted), on `endpoint` (both when
   * omitted). Unknown paths are not counted.
   */
  requests(mode?: ChaosMode, endpoint?: ChaosEndpoint): number;
  /** Responses still open (stalled, streaming) right now. */
  openResponses(mode?: ChaosMode): number;
  /** Body bytes written so far to requests of `mode` (all when omitted). */
  bytesSent(mode?: ChaosMode): number;
  /** Closes every socket (open responses included) and the listener; idempotent. */
  close(): Promise<void>;
}

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
/** The sample labels of the fake middleware's series. */
const WS = 'transport="websocket",endpoint="/ws"';

/** A filler of `bytes` bytes that is a comment in Prometheus text (`# xxxx...\n`). */
function commentFiller(bytes: number): Buffer {
  const b = Buffer.alloc(bytes, 'x');
  if (bytes > 0) b[bytes - 1] = 0x0a;
  if (bytes > 1) b[0] = 0x23;
  if (bytes > 2) b[1] = 0x20;
  return b;
}

/** Deterministic non-text bytes (NUL, control characters, invalid UTF-8). */
function garbageBytes(n: number): Buffer {
  const out = Buffer.alloc(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const HTML =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n' +
  '<body><h1>502 Bad Gateway</h1><p>The upstream server is temporarily unavailable.</p></body></html>\n';

/**
 * Starts the chaos server on 127.0.0.1 (any free port) and resolves once it listens.
 *
 * @param options - The healthy values, the sizes and rates of the hostile modes, the start mode.
 * @returns The server: its URLs, the mode switch, per-mode request counts, and close().
 */
export async function startChaosServer(options: ChaosServerOptions): Promise<ChaosServer> {
  const { gauge, counter } = options.metrics;
  let connections = options.connections ?? 5;
  const counterPerSecond = options.counterPerSecond ?? 10;
  const counterResetTo = options.counterResetTo ?? 0;
  const hugeBytes = options.hugeBytes ?? 300 * MiB;
  const endlessRate = options.endlessBytesPerSecond ?? MiB;
  let mode: ChaosMode = options.mode ?? 'ok';

  // The counter: base + counterPerSecond x seconds since zeroMs; a reset sets base and zeroMs.
  let startSeconds = Math.floor(Date.now() / 1000) - 3600;
  let counterBase = 100_000;
  let counterZeroMs = Date.now();
  const counterNow = () =>
    counterBase + Math.floor((counterPerSecond * (Date.now() - counterZeroMs)) / 1000);

  const counts = new Map<string, number>();
  const bytes = new Map<ChaosMode, number>();
  const open = new Map<ChaosMode, number>();
  const sockets = new Set<Socket>();
  const bump = <K>(m: Map<K, number>, k: K, by = 1) => m.set(k, (m.get(k) ?? 0) + by);

  function exposition(m: ChaosMode): string {
    const lines = [
      `# HELP ${gauge} Open realtime connections.`,
      `# TYPE ${gauge} gauge`,
      `${gauge}{${WS},state="active"} ${connections}`,
      `# HELP ${counter} Data messages.`,
      `# TYPE ${counter} counter`,
      `${counter}{${WS},direction="in",client_type="unknown"} ${counterNow()}`,
    ];
    if (m === 'duplicate')
      lines.push(
        `# HELP ${gauge} Open realtime connections.`,
        `# TYPE ${gauge} gauge`,
        `${gauge}{transport="sse",endpoint="/events",state="active"} ${connections}`,
      );
    if (m !== 'counter-reset-nostart')
      lines.push(
        '# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.',
        '# TYPE process_start_time_seconds gauge',
        `process_start_time_seconds ${startSeconds}`,
      );
    return `${lines.join('\n')}\n`;
  }

  /** The `values` of a range query, one per step of [start, end] (capped by the caller). */
  function rangeValues(start: number, end: number, step: number): string {
    const out: string[] = [];
    for (let k = 0; start + k * step <= end + 1e-9; k++)
      out.push(`[${+(start + k * step).toFixed(3)},"${connections}"]`);
    return out.join(',');
  }

  /** The healthy Prometheus answer for `path` and its query, or an error answer. */
  function prometheusBody(
    path: string,
    q: URLSearchParams,
    m: ChaosMode,
  ): { status: number; body: string } {
    const ok = (data: unknown) => ({
      status: 200,
      body: JSON.stringify({ status: 'success', data }),
    });
    if (path === '/api/v1/status/buildinfo')
      return ok({ version: '2.42.0', revision: 'chaos', branch: 'HEAD', goVersion: 'go1.19' });
    if (path === '/api/v1/query') {
      const at = Number(q.get('time') ?? Date.now() / 1000);
      const one = { metric: {}, value: [at, String(connections)] };
      return ok({ resultType: 'vector', result: m === 'duplicate' ? [one, one] : [one] });
    }
    const start = Number(q.get('start'));
    const end = Number(q.get('end'));
    const step = Number(q.get('step'));
    if (![start, end, step].every(Number.isFinite) || step <= 0 || end < start)
      return {
        status: 400,
        body: JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'bad range' }),
      };
    if ((end - start) / step + 1 > 11_000)
      return {
        status: 400,
        body: JSON.stringify({
          status: 'error',
          errorType: 'bad_data',
          error:
            'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
        }),
      };
    const values = rangeValues(start, end, step);
    const series = (metric: string) => `{"metric":${metric},"values":[${values}]}`;
    const result =
      m === 'duplicate' ? `${series('{"job":"a"}')},${series('{"job":"b"}')}` : series('{}');
    return {
      status: 200,
      body: `{"status":"success","data":{"resultType":"matrix","result":[${result}]}}`,
    };
  }

  /** `n` bytes of padding: comment lines in Prometheus text, string characters in JSON. */
  const padding = (endpoint: ChaosEndpoint, n: number) =>
    endpoint === 'scrape' ? commentFiller(n) : Buffer.alloc(n, 'x');

  /** A body in two parts around the padding: prefix + padding + suffix is a valid answer. */
  function padded(endpoint: ChaosEndpoint, valid: string): { head: Buffer; tail: Buffer } {
    if (endpoint === 'scrape') return { head: Buffer.alloc(0), tail: Buffer.from(valid) };
    // `{"padding":"xxxx...","status":...}`: JSON.parse would accept every byte of it.
    return {
      head: Buffer.from('{"padding":"'),
      tail: Buffer.from(`",${valid.slice(1)}`),
    };
  }

  /**
   * Writes `chunk`, waiting for 'drain' when the socket buffers; false once the client left.
   * Always yields to the event loop (a fast reader must not starve the process's timers and
   * I/O, e.g. the test polling next to it).
   */
  function write(res: http.ServerResponse, m: ChaosMode, chunk: Buffer): Promise<boolean> {
    if (res.destroyed || res.writableEnded) return Promise.resolve(false);
    bump(bytes, m, chunk.length);
    if (res.write(chunk)) return new Promise((resolve) => setImmediate(() => resolve(true)));
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        res.off('drain', onDrain);
        res.off('close', onClose);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      res.on('drain', onDrain);
      res.on('close', onClose);
    });
  }

  /** `huge` / `huge-chunked`: head, `hugeBytes` of padding, tail; stops when the client goes. */
  async function streamHuge(
    res: http.ServerResponse,
    m: ChaosMode,
    endpoint: ChaosEndpoint,
    valid: string,
    type: string,
  ): Promise<void> {
    const parts = padded(endpoint, valid);
    const total = parts.head.length + hugeBytes + parts.tail.length;
    res.writeHead(200, {
      'content-type': type,
      ...(m === 'huge' ? { 'content-length': String(total) } : {}),
    });
    const filler = padding(endpoint, CHUNK);
    if (!(await write(res, m, parts.head))) return;
    let left = hugeBytes;
    while (left > 0) {
      const n = Math.min(CHUNK, left);
      const chunk = n === CHUNK ? filler : padding(endpoint, n);
      if (!(await write(res, m, chunk))) return;
      left -= n;
    }
    if (await write(res, m, parts.tail)) res.end();
  }

  /** `endless`: head, then padding at `endlessRate` until the client goes or the server closes. */
  function streamEndless(
    res: http.ServerResponse,
    m: ChaosMode,
    endpoint: ChaosEndpoint,
    type: string,
  ): void {
    res.writeHead(200, { 'content-type': type });
    // A valid start (the exposition; JSON up to an open string), then padding that never ends.
    const head = endpoint === 'scrape' ? exposition('ok') : '{"padding":"';
    void write(res, m, Buffer.from(head));
    const every = 50;
    const piece = Math.max(1, Math.round((endlessRate * every) / 1000));
    const filler = padding(endpoint, piece);
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return; // a slow reader: keep the rate, do not queue
      busy = true;
      void write(res, m, filler).then((ok) => {
        busy = false;
        if (!ok) clearInterval(timer);
      });
    }, every);
    timer.unref();
    res.once('close', () => clearInterval(timer));
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://chaos');
    const endpoint: ChaosEndpoint | undefined =
      u.pathname === '/metrics'
        ? 'scrape'
        : u.pathname.startsWith('/api/v1/')
          ? 'prometheus'
          : undefined;
    if (!endpoint) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const m = mode;
    bump(counts, `${m} ${endpoint}`);
    bump(open, m);
    res.once('close', () => bump(open, m, -1));
    // Range queries may come as a form POST (Prometheus accepts both).
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      const q = new URLSearchParams(u.search);
      if (req.method === 'POST')
        for (const [k, v] of new URLSearchParams(Buffer.concat(body).toString())) q.set(k, v);
      respond(res, m, endpoint, u.pathname, q);
    });
  }

  function respond(
    res: http.ServerResponse,
    m: ChaosMode,
    endpoint: ChaosEndpoint,
    path: string,
    q: URLSearchParams,
  ): void {
    const type =
      endpoint === 'scrape' ? 'text/plain; version=0.0.4; charset=utf-8' : 'application/json';
    const send = (status: number, contentType: string, payload: string | Buffer) => {
      const b = typeof payload === 'string' ? Buffer.from(payload) : payload;
      bump(bytes, m, b.length);
      res.writeHead(status, { 'content-type': contentType, 'content-length': b.length }).end(b);
    };
    const valid = () => {
      if (endpoint === 'scrape') return { status: 200, body: exposition(m) };
      return prometheusBody(path, q, m);
    };
    switch (m) {
      case 'stall-silent':
        return; // the socket stays open until the client gives up or close()
      case 'stall-headers':
        res.writeHead(200, { 'content-type': type });
        res.flushHeaders();
        return;
      case 'endless':
        streamEndless(res, m, endpoint, type);
        return;
      case 'huge':
      case 'huge-chunked':
        void streamHuge(res, m, endpoint, valid().body, type);
        return;
      case 'html':
        send(200, 'text/html; charset=utf-8', HTML);
        return;
      case 'garbage':
        send(200, type, garbageBytes(4096));
        return;
      case 'error500':
        if (endpoint === 'prometheus')
          send(
            500,
            type,
            JSON.stringify({ status: 'error', errorType: 'internal', error: 'chaos: error500' }),
          );
        else send(500, 'text/plain', 'internal server error (chaos: error500)\n');
        return;
      default: {
        const ok = valid();
        send(ok.status, type, ok.body);
      }
    }
  }

  const server = http.createServer(handle);
  // Stalled requests must not be cut by Node's own timeouts: the client decides.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.keepAliveTimeout = 5_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const gone = [...sockets].map((s) => new Promise((resolve) => s.once('close', resolve)));
      // A reset, not a FIN: a client must not drain what the kernel still buffers.
      for (const s of sockets) s.resetAndDestroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.all(gone);
      // The responses' own 'close' handlers (the open counts) run after their socket's.
      await new Promise((resolve) => setImmediate(resolve));
    })();
    return closing;
  };

  const sum = (m: Map<string, number>, match: (key: string) => boolean) => {
    let n = 0;
    for (const [k, v] of m) if (match(k)) n += v;
    return n;
  };

  return {
    port,
    url,
    metricsUrl: `${url}/metrics`,
    get mode() {
      return mode;
    },
    setMode(next) {
      if (
        next === 'counter-reset' ||
        next === 'counter-restart' ||
        next === 'counter-reset-nostart'
      ) {
        counterBase = counterResetTo;
        counterZeroMs = Date.now();
        if (next === 'counter-restart') startSeconds = Math.floor(Date.now() / 1000);
      }
      mode = next;
    },
    heal() {
      mode = 'ok';
    },
    setConnections(n) {
      connections = n;
    },
    get connections() {
      return connections;
    },
    counterValue: counterNow,
    requests(m, endpoint) {
      return sum(counts, (k) => {
        const [km, ke] = k.split(' ');
        return (m === undefined || km === m) && (endpoint === undefined || ke === endpoint);
      });
    },
    openResponses(m) {
      return m === undefined ? [...open.values()].reduce((a, b) => a + b, 0) : (open.get(m) ?? 0);
    },
    bytesSent(m) {
      return m === undefined ? [...bytes.values()].reduce((a, b) => a + b, 0) : (bytes.get(m) ?? 0);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
