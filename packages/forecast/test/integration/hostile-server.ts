/**
 * A hostile fake target on 127.0.0.1 (port 0) for the scrape and prometheus sources: one
 * server whose behaviour is switched at runtime with `set(mode)`, from a healthy `/metrics` to
 * an endless body, a huge one, a stall, HTML, garbage, duplicates, a 500 storm or a
 * Prometheus answer of millions of points, and back (`set({ kind: 'ok' })` heals it). Big
 * bodies are generated as they are sent (with backpressure), never built in memory.
 */
import type http from 'node:http';
import { type HttpServerHandle, startHttpServer } from '@tidewatch/test-utils';

/** What the target answers, to any path. */
export type HostileMode =
  /** A healthy exposition of {@link HostileTarget.state}. */
  | { kind: 'ok' }
  /** 200 and a body that never ends: `chunkBytes` every `everyMs`. */
  | { kind: 'endless'; chunkBytes: number; everyMs: number }
  /** 200 and a body that never ends, as fast as the client reads it. */
  | { kind: 'flood' }
  /** 200 and `bytes` bytes of comment lines, with or without a `Content-Length`. */
  | { kind: 'huge'; bytes: number; contentLength: boolean }
  /** 200 and the headers, then nothing, ever. */
  | { kind: 'stall-after-headers' }
  /** Nothing at all, ever. */
  | { kind: 'stall-before-headers' }
  /** 200 with an HTML error page (a proxy in the way). */
  | { kind: 'html' }
  /** 200 with bytes that are no text format. */
  | { kind: 'garbage' }
  /** The gauge family exposed twice (two `# TYPE` blocks): summed, it would count double. */
  | { kind: 'duplicate-family' }
  /** One series of the gauge exposed twice in its family. */
  | { kind: 'duplicate-series' }
  /** `code` with a short body, every time (a 500 storm). */
  | { kind: 'status'; code: number }
  /**
   * A Prometheus matrix answer: `points` points (default: exactly the requested range) on the
   * requested grid from the requested start, streamed.
   */
  | { kind: 'matrix'; points?: number };

/** The values a healthy exposition shows; change them between scrapes. */
export interface HostileState {
  /** `realtime_connections{transport="websocket"}`. */
  gauge: number;
  /** `realtime_messages_total{direction="in"}`. */
  counter: number;
  /** `process_start_time_seconds`; not exposed when `undefined`. */
  startTimeSeconds: number | undefined;
}

/** A running hostile target; dispose (or `close()`) to stop it. */
export interface HostileTarget extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  readonly url: string;
  /** `url + '/metrics'`. */
  readonly metricsUrl: string;
  readonly state: HostileState;
  /** Switches what every following request gets (requests in flight keep theirs). */
  set(mode: HostileMode): void;
  /** Requests received. */
  readonly hits: number;
  /** Body bytes written, all responses together. */
  readonly bytesSent: number;
  /** Responses whose connection closed before the whole body was sent (the client quit). */
  readonly cutOff: number;
  /** Responses sent whole. */
  readonly finished: number;
  close(): Promise<void>;
}

/** The exposition of a healthy target: a gauge, a counter and, if set, the start time. */
export function exposition(state: HostileState): string {
  const lines = [
    '# HELP realtime_connections Open connections.',
    '# TYPE realtime_connections gauge',
    `realtime_connections{transport="websocket"} ${state.gauge}`,
    '# HELP realtime_messages_total Messages.',
    '# TYPE realtime_messages_total counter',
    `realtime_messages_total{direction="in"} ${state.counter}`,
  ];
  if (state.startTimeSeconds !== undefined)
    lines.push(
      '# TYPE process_start_time_seconds gauge',
      `process_start_time_seconds ${state.startTimeSeconds}`,
    );
  return `${lines.join('\n')}\n`;
}

const FILLER_LINE = '# filler: a comment line of a body far larger than any /metrics needs\n';
const FILLER = Buffer.from(FILLER_LINE.repeat(Math.ceil(65_536 / FILLER_LINE.length)));

/** Writes `next()` chunks until it returns `undefined`, waiting for the client to read. */
function pump(
  res: http.ServerResponse,
  next: () => Buffer | undefined,
  onSent: (n: number) => void,
) {
  let stopped = false;
  res.once('close', () => {
    stopped = true;
  });
  const write = () => {
    while (!stopped) {
      const chunk = next();
      if (chunk === undefined) {
        res.end();
        return;
      }
      onSent(chunk.length);
      if (!res.write(chunk)) {
        res.once('drain', write);
        return;
      }
    }
  };
  write();
}

/** Starts a hostile target answering `mode` (default `ok`). */
export async function startHostileTarget(
  mode: HostileMode = { kind: 'ok' },
): Promise<HostileTarget> {
  let current = mode;
  const state: HostileState = { gauge: 3, counter: 0, startTimeSeconds: undefined };
  let hits = 0;
  let bytesSent = 0;
  let cutOff = 0;
  let finished = 0;
  const sent = (n: number) => {
    bytesSent += n;
  };
  const handler: http.RequestListener = (req, res) => {
    hits++;
    req.resume();
    let done = false;
    res.once('finish', () => {
      done = true;
      finished++;
    });
    res.once('close', () => {
      if (!done) cutOff++;
    });
    const m = current;
    const text = (code: number, body: string | Buffer, type = 'text/plain; version=0.0.4') => {
      res.writeHead(code, { 'content-type': type });
      sent(body.length);
      res.end(body);
    };
    switch (m.kind) {
      case 'ok':
        return text(200, exposition(state));
      case 'endless': {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        const chunk = FILLER.subarray(0, m.chunkBytes);
        const timer = setInterval(() => {
          sent(chunk.length);
          res.write(chunk);
        }, m.everyMs);
        res.once('close', () => clearInterval(timer));
        return;
      }
      case 'flood':
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        return pump(res, () => FILLER, sent);
      case 'huge': {
        res.writeHead(200, {
          'content-type': 'text/plain; version=0.0.4',
          ...(m.contentLength ? { 'content-length': String(m.bytes) } : {}),
        });
        let left = m.bytes;
        return pump(
          res,
          () => {
            if (left <= 0) return undefined;
            const chunk = FILLER.subarray(0, Math.min(left, FILLER.length));
            left -= chunk.length;
            return chunk;
          },
          sent,
        );
      }
      case 'stall-after-headers':
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.flushHeaders();
        return;
      case 'stall-before-headers':
        return;
      case 'html':
        return text(200, '<html><body><h1>502 Bad Gateway</h1></body></html>', 'text/html');
      case 'garbage':
        return text(200, Buffer.from([0x00, 0xff, 0x7b, 0x22, 0x0a, 0x80, 0x41, 0x20, 0x31]));
      case 'duplicate-family':
        return text(
          200,
          `${exposition(state)}# TYPE realtime_connections gauge\nrealtime_connections{transport="websocket"} ${state.gauge}\n`,
        );
      case 'duplicate-series':
        return text(
          200,
          [
            '# TYPE realtime_connections gauge',
            `realtime_connections{transport="websocket",state="active"} ${state.gauge}`,
            'realtime_connections{transport="websocket",state="idle"} 1',
            `realtime_connections{state="active",transport="websocket"} ${state.gauge}`,
            '',
          ].join('\n'),
        );
      case 'status':
        return text(m.code, `upstream says ${m.code}`);
      case 'matrix':
        return matrix(req, res, m.points, sent);
    }
  };
  const server: HttpServerHandle = await startHttpServer(handler);
  return {
    url: server.url,
    metricsUrl: `${server.url}/metrics`,
    state,
    set(next) {
      current = next;
    },
    get hits() {
      return hits;
    },
    get bytesSent() {
      return bytesSent;
    },
    get cutOff() {
      return cutOff;
    },
    get finished() {
      return finished;
    },
    close: server.close,
    [Symbol.asyncDispose]: server.close,
  };
}

/** Streams a matrix answer of `points` points (default: the requested range) on the grid. */
function matrix(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  points: number | undefined,
  sent: (n: number) => void,
): void {
  const params = new URL(req.url ?? '/', 'http://x').searchParams;
  const start = Number(params.get('start'));
  const step = Number(params.get('step'));
  const end = Number(params.get('end'));
  const total = points ?? Math.round((end - start) / step) + 1;
  res.writeHead(200, { 'content-type': 'application/json' });
  let k = 0;
  let state: 'head' | 'points' | 'done' = 'head';
  pump(
    res,
    () => {
      if (state === 'head') {
        state = 'points';
        return Buffer.from(
          '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[',
        );
      }
      if (state === 'points' && k < total) {
        const parts: string[] = [];
        for (let n = 0; n < 2_000 && k < total; n++, k++)
          parts.push(`${k === 0 ? '' : ','}[${start + k * step},"1"]`);
        return Buffer.from(parts.join(''));
      }
      if (state !== 'done') {
        state = 'done';
        return Buffer.from(']}]}}');
      }
      return undefined;
    },
    sent,
  );
}
