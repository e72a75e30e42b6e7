import type { IncomingMessage } from 'node:http';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { CATALOG, DEFAULT_PREFIX, METRIC_KEYS, type MetricKey } from '@tidewatch/conventions';
import { Registry } from 'prom-client';
import { ErrorCodes, TidewatchConfigError } from './errors.js';
import { CoarseClock } from './internal/clock.js';
import { minSeriesCap, overflowLabelSets, seriesPerLabelSet } from './internal/family.js';
import { endpointOption } from './internal/options.js';
import { type ErrorHook, Recorder } from './internal/recorder.js';
import { DEFAULT_TOP_K, MAX_TOP_K, RoomRegistry } from './internal/rooms.js';
import { createHandshakeTracing, type HandshakeTracing } from './internal/tracing.js';
import {
  fail,
  noUnknownKeys,
  optFunction,
  optInt,
  optObject,
  optString,
  optSyncFunction,
} from './internal/validate.js';
import { VERSION } from './internal/version.js';
import {
  type ConnectionHandle,
  type ConnectionOptions,
  type HandshakeHandle,
  ManualApi,
} from './manual.js';
import { ManualRooms, type RoomsHandle } from './manual-rooms.js';
import { attachOtel } from './sinks/otel.js';
import { isTidewatchMetric, registerAll } from './sinks/prometheus.js';

/** Classifies a request into a bounded label value (endpoint, client type). */
export type RequestClassifier = (req: IncomingMessage) => string;

/** Options of {@link createRealtimeMetrics}. */
export interface RealtimeMetricsOptions {
  /** Prefix of every Prometheus name. Default `realtime_`. */
  prefix?: string;
  /** prom-client registry to register in. Default: a new `Registry`. */
  registry?: Registry;
  /**
   * OpenTelemetry meter provider. Default: the global one from `@opentelemetry/api`, read
   * once here — install your SDK before calling this, or pass the provider.
   */
  meterProvider?: MeterProvider;
  /**
   * Default `endpoint` label for adapters that are not given one: a fixed name or a
   * function of the upgrade/connect request. Must return a bounded set of values — never
   * raw URLs or ids. Default: the adapter's configured path, else `default`.
   */
  endpoint?: string | RequestClassifier;
  /** Default `client_type` classifier (e.g. from a header). Default: `unknown`. */
  clientType?: RequestClassifier;
  /** A connection with no data frame for this long counts as `idle`. Default 60000 ms. */
  idleAfterMs?: number;
  /**
   * Maximum exposed series per metric, overflow included: one number for all metrics, or
   * per catalogue key (`{ default: 2000, messages: 500 }`). A counter's or gauge's label
   * set counts as 1 series, a histogram's as buckets + 3 (`_bucket` per bound and `+Inf`,
   * `_sum`, `_count`). Room for the `__overflow__` label sets (one per combination of the
   * metric's closed labels) is reserved; past the rest, open-ended label values fold into
   * them. Default 2000 (the OpenTelemetry SDK's default cardinality limit). A cap below what
   * one label set plus the overflow room needs (306 for `connectionDuration`) throws.
   */
  seriesCap?: number | ({ default?: number } & Partial<Record<MetricKey, number>>);
  /** Called with every error caught inside the instrumentation (after it is counted). */
  onError?: ErrorHook;
  /**
   * Handshake spans through `@opentelemetry/api`, continuing the W3C `traceparent` of the
   * upgrade request: `true` for the global tracer provider, or `{ tracerProvider }`.
   * Default off (no cost).
   */
  tracing?: boolean | { tracerProvider?: TracerProvider };
  /**
   * Per-room figures (`room_messages_total{room}`, `room_members_current{room}`) for Socket.IO
   * rooms and rooms reported through {@link RealtimeMetrics.rooms}: `topK` rooms by message
   * rate are exported by name, per transport, and every other room adds up in
   * `room="__other__"`, so at most `topK + 1` series per transport and metric. Memory stays
   * O(topK) whatever the number of distinct room names. `topK` is an integer 0..1000,
   * default 20; 0 exports no room name at all (room names can carry user ids: a direct
   * message room), only `__other__`.
   */
  rooms?: { topK?: number };
}

/** Options after defaults. */
export interface ResolvedOptions {
  readonly prefix: string;
  readonly endpoint: string | RequestClassifier | undefined;
  readonly clientType: RequestClassifier | undefined;
  readonly idleAfterMs: number;
}

/** The internal handle adapters use; not part of the public API. */
export interface Internals {
  readonly recorder: Recorder;
  readonly clock: CoarseClock;
  readonly options: ResolvedOptions;
  readonly detachers: Set<() => void>;
  /** Handshake spans; undefined when tracing is off. */
  readonly tracing: HandshakeTracing | undefined;
  /** The top-K room trackers, one per transport. */
  readonly rooms: RoomRegistry;
}

const kInternals = Symbol.for('tidewatch.internals');
const kInstances = Symbol.for('tidewatch.instances');

/** A set of realtime metrics registered in one prom-client registry (and OpenTelemetry). */
export interface RealtimeMetrics {
  readonly prefix: string;
  readonly registry: Registry;
  /** Full Prometheus name of each catalogue metric, e.g. `names.messages`. */
  readonly names: Readonly<Record<MetricKey, string>>;
  /**
   * Starts tracking one connection of a transport tidewatch has no adapter for (or that
   * your own adapter reports). Never throws; the handle's methods never throw.
   */
  connection(options?: ConnectionOptions): ConnectionHandle;
  /**
   * Starts timing a handshake (upgrade or connect request); end it with `open()` or
   * `fail(outcome)`. Counts in `handshakes_in_flight` until then.
   */
  handshake(options?: Omit<ConnectionOptions, 'bufferedAmount'>): HandshakeHandle;
  /** Observes one broadcast to `recipients` connections (`broadcast_fanout`). */
  broadcast(recipients: number, transport?: string): void;
  /**
   * Rooms of a transport tidewatch does not see rooms of (ws, SSE, your own protocol):
   * report messages, joins and leaves, and read the busiest rooms back. Returns the same
   * handle for the same `transport` (default `custom`; an invalid name reports as `custom`).
   * Socket.IO rooms are counted by `instrumentSocketIo` on its own.
   */
  rooms(transport?: string): RoomsHandle;
  /**
   * Detaches every adapter attached to these metrics and stops their timers. Counters
   * keep their values; the registry keeps the metrics.
   */
  close(): void;
  /** @internal */
  readonly [kInternals]: Internals;
}

const PREFIX_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const DEFAULT_CAP = 2000;

/**
 * The series cap of each catalogue metric, checked against what one label set of that
 * metric costs next to its overflow room.
 * @throws {TidewatchConfigError} naming `seriesCap`, `seriesCap.default` or
 *   `seriesCap.<key>` (whichever set the cap) when a cap is not an integer >= 1 or is below
 *   {@link minSeriesCap} of a metric it applies to.
 */
function resolveCaps(value: unknown): (key: MetricKey) => number {
  let capOf: (key: MetricKey) => [cap: number, option: string];
  if (value === undefined) capOf = () => [DEFAULT_CAP, 'seriesCap'];
  else if (typeof value === 'number') {
    const cap = optInt('seriesCap', value, 1)!;
    capOf = () => [cap, 'seriesCap'];
  } else {
    const obj = optObject('seriesCap', value)!;
    noUnknownKeys('seriesCap', obj, ['default', ...METRIC_KEYS]);
    const def = optInt('seriesCap.default', obj.default, 1) ?? DEFAULT_CAP;
    for (const key of METRIC_KEYS) optInt(`seriesCap.${key}`, obj[key], 1);
    capOf = (key) =>
      obj[key] !== undefined
        ? [obj[key] as number, `seriesCap.${key}`]
        : [def, obj.default !== undefined ? 'seriesCap.default' : 'seriesCap'];
  }
  for (const key of METRIC_KEYS) {
    const [cap, option] = capOf(key);
    const spec = CATALOG[key];
    const min = minSeriesCap(spec);
    if (cap < min) {
      fail(
        option,
        `at least ${min} for ${spec.name}: the cap counts exposed series, one label set costs ` +
          `${seriesPerLabelSet(spec)} and its overflow needs room for ${overflowLabelSets(spec)} more`,
        cap,
      );
    }
  }
  return (key) => capOf(key)[0];
}

/**
 * Creates the realtime metrics: registers every catalogue metric in the prom-client
 * registry and creates the matching OpenTelemetry instruments. Does no I/O and starts no
 * timer; adapters (`instrumentWs`, ...) start what they need.
 *
 * Calling it again for the same registry and prefix returns the first instance, so
 * double registration never throws.
 *
 * @throws {TidewatchConfigError} for a bad option (the message names it), or with code
 *   `TW_ERR_NAME_CONFLICT` when a metric name is taken by a metric tidewatch does not own.
 */
export function createRealtimeMetrics(options: RealtimeMetricsOptions = {}): RealtimeMetrics {
  const opts = optObject('options', options) ?? {};
  noUnknownKeys('', opts, [
    'prefix',
    'registry',
    'meterProvider',
    'endpoint',
    'clientType',
    'idleAfterMs',
    'seriesCap',
    'onError',
    'tracing',
    'rooms',
  ]);
  const prefix = optString('prefix', opts.prefix, PREFIX_RE) ?? DEFAULT_PREFIX;
  const registry = (opts.registry as Registry | undefined) ?? new Registry();
  if (typeof registry.registerMetric !== 'function' || typeof registry.metrics !== 'function') {
    fail('registry', 'a prom-client Registry', registry);
  }
  const meterProvider = opts.meterProvider as MeterProvider | undefined;
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== 'function') {
    fail('meterProvider', 'an OpenTelemetry MeterProvider', meterProvider);
  }
  const endpoint = endpointOption(opts.endpoint);
  const clientType = optSyncFunction<RequestClassifier>('clientType', opts.clientType);
  const idleAfterMs = optInt('idleAfterMs', opts.idleAfterMs, 1) ?? 60_000;
  const caps = resolveCaps(opts.seriesCap);
  const onError = optFunction<ErrorHook>('onError', opts.onError);
  let tracing: HandshakeTracing | undefined;
  if (opts.tracing === true) tracing = createHandshakeTracing();
  else if (opts.tracing !== undefined && opts.tracing !== false) {
    const t = optObject('tracing', opts.tracing)!;
    noUnknownKeys('tracing', t, ['tracerProvider']);
    const tp = t.tracerProvider as TracerProvider | undefined;
    if (tp !== undefined && typeof tp?.getTracer !== 'function') {
      fail('tracing.tracerProvider', 'an OpenTelemetry TracerProvider', tp);
    }
    tracing = createHandshakeTracing(tp);
  }

  const roomOpts = optObject('rooms', opts.rooms) ?? {};
  noUnknownKeys('rooms', roomOpts, ['topK']);
  const topK = optInt('rooms.topK', roomOpts.topK, 0, MAX_TOP_K) ?? DEFAULT_TOP_K;

  const instances = instancesOf(registry);
  const existing = instances.get(prefix);
  if (existing) return existing;
  for (const key of METRIC_KEYS) {
    const name = prefix + CATALOG[key].name;
    const taken = registry.getSingleMetric(name);
    if (taken !== undefined && !isTidewatchMetric(taken)) {
      throw new TidewatchConfigError(
        'prefix',
        `gives "${name}", which is already registered by another metric in this registry; choose another prefix`,
        ErrorCodes.NAME_CONFLICT,
      );
    }
  }

  const recorder = new Recorder(prefix, caps, onError);
  registerAll(recorder, registry);
  const detachOtel = attachOtel(recorder, meterProvider, `${prefix.replace(/_+$/, '')}.`, VERSION);
  const internals: Internals = {
    recorder,
    // Idle state may be stamped up to one tick early: 5 % of idleAfterMs, within 10 ms..1 s.
    clock: new CoarseClock(Math.min(1000, Math.max(10, Math.floor(idleAfterMs / 20)))),
    options: { prefix, endpoint, clientType, idleAfterMs },
    detachers: new Set(),
    tracing,
    rooms: new RoomRegistry(recorder, topK),
  };
  const names = Object.fromEntries(METRIC_KEYS.map((k) => [k, prefix + CATALOG[k].name])) as Record<
    MetricKey,
    string
  >;
  const manual = new ManualApi(recorder, internals.clock, () => idleAfterMs);
  const manualRooms = new ManualRooms(internals.rooms);
  const metrics: RealtimeMetrics = {
    prefix,
    registry,
    names,
    connection: (o) => manual.connection(o ?? {}),
    handshake: (o) => manual.handshake(o ?? {}),
    broadcast: (recipients, transport) => manual.broadcast(recipients, transport),
    rooms: (transport) => manualRooms.handle(transport),
    close() {
      for (const d of [...internals.detachers]) d();
      manual.stop();
      detachOtel();
    },
    [kInternals]: internals,
  };
  instances.set(prefix, metrics);
  return metrics;
}

function instancesOf(registry: Registry): Map<string, RealtimeMetrics> {
  const holder = registry as unknown as { [kInstances]?: Map<string, RealtimeMetrics> };
  if (!holder[kInstances]) {
    Object.defineProperty(holder, kInstances, { value: new Map(), enumerable: false });
  }
  return holder[kInstances]!;
}

/**
 * The internals of a metrics object, for adapters.
 * @throws {TidewatchConfigError} when `metrics` is not from `createRealtimeMetrics`.
 */
export function internalsOf(metrics: RealtimeMetrics, option = 'metrics'): Internals {
  const i = (metrics as { [kInternals]?: Internals } | undefined)?.[kInternals];
  if (!i) fail(option, 'the object returned by createRealtimeMetrics()', metrics);
  return i;
}
