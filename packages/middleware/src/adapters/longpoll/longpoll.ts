import { type IncomingMessage, ServerResponse } from 'node:http';
import { classifierResult, RequestLabels } from '../../internal/classifier.js';
import type { HistogramSeries, ValueSeries } from '../../internal/family.js';
import { Instrumentation } from '../../internal/instrumentation.js';
import { labelOptions, readOptions } from '../../internal/options.js';
import { optInt, optSyncFunction } from '../../internal/validate.js';
import { internalsOf, type RealtimeMetrics, type RequestClassifier } from '../../metrics.js';
import {
  byteLength,
  isDead,
  isUtf8,
  kState,
  noteBackpressure,
  observeMany,
  type RealtimeMiddleware,
  type ResponseState,
  realtimeMiddleware,
  routeEndpoint,
  type TrackedResponse,
} from '../shared/response.js';

/** How a long poll ended (`outcome` of `poll_wait_seconds`). */
export type PollOutcome = 'data' | 'timeout' | 'aborted';

/** Options of {@link longPoll}. */
export interface LongPollOptions {
  /**
   * `endpoint` label: a name, or a classifier returning a **bounded** set of values (never
   * raw URLs). Default: the metrics option, else the express route pattern
   * (`req.route.path`, known when the middleware is mounted on the route:
   * `app.get('/poll', longPoll(metrics), handler)`), else `default`.
   */
  endpoint?: string | RequestClassifier;
  /** `client_type` classifier. Default: the metrics option, else `unknown`. */
  clientType?: RequestClassifier;
  /**
   * A stable identity of the polling client (a session id from a header, cookie or query
   * parameter) — enables `reconnects_total`: a poll counts as a retry when the same
   * client's previous poll ended without data (timeout, error response or aborted) at most
   * `retryWindowMs` earlier. Default: none, and no retries are counted — neither the
   * remote address (shared behind NAT and proxies) nor the socket (pooled by proxies and
   * browsers) identifies a client. Return `undefined` for requests without an id.
   */
  clientId?: (req: IncomingMessage) => string | undefined;
  /** See `clientId`. Default 60000 ms. */
  retryWindowMs?: number;
  /** Client ids remembered for retry detection, oldest forgotten first. Default 10000. */
  maxTrackedClients?: number;
  /**
   * Whether a finished response is an empty poll (`timeout`) rather than data. `body` is
   * the bytes written (collected only when this or `countMessages` is given). Default: a
   * 204 or 304 status, or a zero-length body.
   */
  isEmpty?: (res: ServerResponse, body: Buffer) => boolean;
  /** Messages in a data response (e.g. the length of a JSON array). Default 1. */
  countMessages?: (body: Buffer, res: ServerResponse) => number;
  /** `transport` label. Default `long_polling`. */
  transport?: string;
}

/** The series one (endpoint, client type) pair writes to, resolved once. */
interface PollGroup {
  readonly endpoint: string;
  readonly inFlight: ValueSeries;
  readonly msgOut: ValueSeries;
  readonly bytesOut: ValueSeries;
  readonly sizeOut: HistogramSeries;
}

/** Per-middleware state. */
interface PollContext {
  readonly recorder: ResponseState['recorder'];
  readonly transport: string;
  readonly labels: RequestLabels;
  readonly groups: Map<string, PollGroup>;
  /** Polls not answered yet (`requests_in_flight`). */
  readonly waiting: Set<Poll>;
  /** Client id -> `performance.now()` when its last poll ended without data. */
  readonly lastEmpty: Map<string, number>;
  readonly maxTracked: number;
  readonly isEmpty: LongPollOptions['isEmpty'];
  readonly countMessages: LongPollOptions['countMessages'];
  detached: boolean;
}

const WAITING = 0; // held open, nothing written yet
const ANSWERING = 1; // the answer is being written
const DONE = 2;

const MAX_GROUPS = 4096;
const NO_BODY = Buffer.alloc(0);

type Method = (...args: unknown[]) => unknown;

class Poll implements ResponseState {
  phase = WAITING;
  readonly ctx: PollContext;
  readonly res: ServerResponse;
  readonly g: PollGroup;
  readonly id: string;
  readonly start: number;
  readonly write: Method;
  readonly end: Method;
  answeredAt = 0;
  bytes = 0;
  /** The body, kept only for the user's `isEmpty`/`countMessages`. */
  chunks: Uint8Array[] | null;
  drainAt = 0;

  constructor(ctx: PollContext, res: ServerResponse, g: PollGroup, id: string, start: number) {
    this.ctx = ctx;
    this.res = res;
    this.g = g;
    this.id = id;
    this.start = start;
    this.write = res.write as Method;
    this.end = res.end as Method;
    this.chunks = ctx.isEmpty !== undefined || ctx.countMessages !== undefined ? [] : null;
  }

  get recorder() {
    return this.ctx.recorder;
  }

  get transport() {
    return this.ctx.transport;
  }

  /** The wait ends with the first body byte or `end()`, not with the headers: servers may flush headers early to keep proxies from timing the poll out. */
  answer(): void {
    if (this.phase !== WAITING) return;
    this.phase = ANSWERING;
    this.answeredAt = performance.now();
    this.ctx.waiting.delete(this);
  }

  wrote(chunk: unknown, encoding: unknown): void {
    const n = byteLength(chunk, encoding);
    if (n === 0) return;
    this.answer();
    this.bytes += n;
    if (this.chunks !== null) {
      this.chunks.push(
        typeof chunk === 'string'
          ? Buffer.from(chunk, isUtf8(encoding) ? 'utf8' : (encoding as BufferEncoding))
          : (chunk as Uint8Array),
      );
    }
  }

  /** The response's `close`: answered (finished) or abandoned by the client. */
  closed(): void {
    if (this.phase === DONE) return;
    const ctx = this.ctx;
    const r = ctx.recorder;
    this.answer();
    this.phase = DONE;
    const res = this.res;
    const wait = (this.answeredAt - this.start) / 1000;
    let outcome: PollOutcome | null;
    if (!res.writableFinished) outcome = 'aborted';
    else if (res.statusCode >= 400) {
      // Not a poll that waited for data: the application refused or failed it.
      r.inc('errors', [ctx.transport, res.statusCode >= 500 ? 'http_5xx' : 'http_4xx']);
      outcome = null;
    } else {
      const body = this.chunks === null ? NO_BODY : Buffer.concat(this.chunks);
      outcome = this.empty(body) ? 'timeout' : 'data';
      if (outcome === 'data') this.countData(body);
    }
    this.chunks = null;
    if (outcome !== null) r.observe('pollWait', [outcome], wait);
    if (this.id !== '') {
      if (outcome === 'data') ctx.lastEmpty.delete(this.id);
      else remember(ctx, this.id, performance.now());
    }
  }

  private empty(body: Buffer): boolean {
    const res = this.res;
    if (this.ctx.isEmpty !== undefined) {
      try {
        return this.ctx.isEmpty(res, body) === true;
      } catch (err) {
        this.ctx.recorder.error('longpoll.is_empty', err);
      }
    }
    return res.statusCode === 204 || res.statusCode === 304 || this.bytes === 0;
  }

  private countData(body: Buffer): void {
    let k = 1;
    const count = this.ctx.countMessages;
    if (count !== undefined) {
      try {
        const v = count(body, this.res);
        if (typeof v === 'number' && Number.isInteger(v) && v >= 0) k = v;
        else throw new TypeError(`countMessages returned ${String(v)}, not a count`);
      } catch (err) {
        this.ctx.recorder.error('longpoll.count_messages', err);
      }
    }
    const g = this.g;
    g.msgOut.value += k;
    g.bytesOut.value += this.bytes;
    if (k === 0) return;
    // Sizes of the messages inside one body are unknown: each gets the average, so the
    // histogram's count and sum still equal messages_total and message_bytes_total.
    const size = this.bytes / k;
    observeMany(g.sizeOut, size, k);
    const otel = this.ctx.recorder.otelPerMessage
      ? this.ctx.recorder.family('messageSize').otel
      : null;
    if (otel) for (let i = 0; i < k; i++) otel.record(size, g.sizeOut.attrs);
  }
}

function remember(ctx: PollContext, id: string, now: number): void {
  const m = ctx.lastEmpty;
  m.delete(id); // re-insert: Map order is the eviction order
  m.set(id, now);
  if (m.size > ctx.maxTracked) m.delete(m.keys().next().value!);
}

const protoWrite = ServerResponse.prototype.write as Method;
const protoEnd = ServerResponse.prototype.end as Method;

function pollOf(res: TrackedResponse): Poll | undefined {
  const s = res[kState];
  return s instanceof Poll ? s : undefined;
}

function lpWrite(this: TrackedResponse, chunk: unknown, encoding: unknown): unknown {
  const p = pollOf(this);
  if (p === undefined) return protoWrite.apply(this, arguments as unknown as unknown[]);
  const live = p.phase !== DONE && !isDead(this) && !p.ctx.detached;
  const ret = p.write.apply(this, arguments as unknown as unknown[]);
  if (live) {
    try {
      p.wrote(chunk, encoding);
      if (ret === false) noteBackpressure(p, this);
    } catch (err) {
      p.ctx.recorder.error('longpoll.write', err);
    }
  }
  return ret;
}

function lpEnd(this: TrackedResponse, chunk: unknown, encoding: unknown): unknown {
  const p = pollOf(this);
  if (p === undefined) return protoEnd.apply(this, arguments as unknown as unknown[]);
  const live = p.phase !== DONE && !isDead(this) && !p.ctx.detached;
  const ret = p.end.apply(this, arguments as unknown as unknown[]);
  if (live) {
    try {
      if (typeof chunk !== 'function') p.wrote(chunk, encoding);
      p.answer();
    } catch (err) {
      p.ctx.recorder.error('longpoll.end', err);
    }
  }
  return ret;
}

function lpOnClose(this: TrackedResponse): void {
  const p = pollOf(this);
  if (p === undefined || p.ctx.detached) return;
  try {
    p.closed();
  } catch (err) {
    p.ctx.waiting.delete(p); // never leave a stale in-flight poll behind
    p.phase = DONE;
    p.ctx.recorder.error('longpoll.close', err);
  }
}

/**
 * Express middleware (or a `node:http` helper) for a long-polling endpoint. Mount it on the
 * route before the handler that holds the request: `app.get('/poll', longPoll(metrics), handler)`.
 *
 * Counts: the hold time from the request reaching this middleware to the first body byte
 * or `end()` (`poll_wait_seconds{outcome}`: `data`, `timeout` for an empty answer, `aborted`
 * when the client went away before the answer was complete), polls held open (`requests_in_flight`, at scrape),
 * messages and body bytes of data answers (`messages_total{direction="out"}`, one per
 * answer unless `countMessages` says otherwise), retries (`reconnects_total`, with
 * `clientId`), backpressure and drain time. Answers with a 4xx/5xx status are not polls
 * that waited for data: they count in `errors_total{type="http_4xx"|"http_5xx"}` only.
 *
 * @throws {TidewatchConfigError} for a bad option.
 */
export function longPoll(
  metrics: RealtimeMetrics,
  options: LongPollOptions = {},
): RealtimeMiddleware {
  const internals = internalsOf(metrics);
  const opts = readOptions(options, [
    'endpoint',
    'clientType',
    'clientId',
    'retryWindowMs',
    'maxTrackedClients',
    'isEmpty',
    'countMessages',
    'transport',
  ]);
  const { transport, ...classifiers } = labelOptions(opts, internals, 'long_polling');
  const clientId = optSyncFunction<NonNullable<LongPollOptions['clientId']>>(
    'clientId',
    opts.clientId,
  );
  const retryWindowMs = optInt('retryWindowMs', opts.retryWindowMs, 1) ?? 60_000;
  const { recorder } = internals;
  const labels = new RequestLabels(
    recorder,
    classifiers.endpoint,
    classifiers.clientType,
    routeEndpoint,
  );
  const ctx: PollContext = {
    recorder,
    transport,
    labels,
    groups: new Map(),
    waiting: new Set(),
    lastEmpty: new Map(),
    maxTracked: optInt('maxTrackedClients', opts.maxTrackedClients, 1) ?? 10_000,
    isEmpty: optSyncFunction('isEmpty', opts.isEmpty),
    countMessages: optSyncFunction('countMessages', opts.countMessages),
    detached: false,
  };

  const groupOf = (endpoint: string, clientType: string): PollGroup => {
    const key = `${endpoint}\u0001${clientType}`;
    let g = ctx.groups.get(key);
    if (g === undefined) {
      g = {
        endpoint,
        inFlight: recorder.series('requestsInFlight', [transport, endpoint]),
        msgOut: recorder.series('messages', [transport, endpoint, 'out', clientType]),
        bytesOut: recorder.series('messageBytes', [transport, endpoint, 'out']),
        sizeOut: recorder.series('messageSize', [transport, 'out']),
      };
      if (ctx.groups.size < MAX_GROUPS) ctx.groups.set(key, g);
    }
    return g;
  };

  const retry = (req: IncomingMessage, endpoint: string, now: number): string => {
    let id = '';
    try {
      id = classifierResult(recorder, clientId!(req), 'classifier.client_id', '');
    } catch (err) {
      recorder.error('classifier.client_id', err);
    }
    if (id === '') return id;
    const at = ctx.lastEmpty.get(id);
    if (at !== undefined) {
      ctx.lastEmpty.delete(id);
      if (now - at <= retryWindowMs) recorder.inc('reconnects', [transport, endpoint]);
    }
    return id;
  };

  const inst = new Instrumentation(metrics, internals, 'longpoll');
  inst.collect(() => {
    for (const p of ctx.waiting) p.g.inFlight.value++;
  });
  inst.onDetach(() => {
    ctx.detached = true;
    ctx.waiting.clear();
    ctx.lastEmpty.clear();
  });

  return realtimeMiddleware(inst, 'longpoll.request', (req, res) => {
    if (res.writableEnded) return;
    const start = performance.now();
    const endpoint = labels.endpoint(req);
    const g = groupOf(endpoint, labels.clientType(req));
    const id = clientId === undefined ? '' : retry(req, endpoint, start);
    const p = new Poll(ctx, res, g, id, start);
    res[kState] = p;
    const w = res as unknown as Record<string, unknown>;
    w.write = lpWrite;
    w.end = lpEnd;
    res.on('close', lpOnClose);
    ctx.waiting.add(p);
  });
}
