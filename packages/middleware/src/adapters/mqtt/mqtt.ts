import { Socket } from 'node:net';
import { classifierResult } from '../../internal/classifier.js';
import { labelValue } from '../../internal/family.js';
import {
  type Instrumentation,
  type InstrumentationHandle,
  instrument,
  presetScrapeSeries,
} from '../../internal/instrumentation.js';
import {
  maxConnectionsOption,
  readOptions,
  slowConsumerOption,
  transportOption,
} from '../../internal/options.js';
import type { Recorder } from '../../internal/recorder.js';
import { collectGauges } from '../../internal/transport.js';
import { fail, optSyncFunction } from '../../internal/validate.js';
import { internalsOf, type RealtimeMetrics } from '../../metrics.js';
import {
  connOf,
  type MqttConn,
  type MqttContext,
  OPEN,
  type OpenMqttConn,
  release,
  track,
} from './conn.js';
import { type BrokerHooks, hookBroker } from './events.js';
import { defaultTopic } from './reasons.js';
import { RetainedTopics, TopicSeries } from './topics.js';
import type {
  AedesClientLike,
  AedesLike,
  ConnectionClassifier,
  ConnectPacketLike,
  TopicClassifier,
} from './types.js';

/** Options of {@link instrumentAedes}. */
export interface InstrumentAedesOptions {
  /**
   * `endpoint` label: a fixed name, or a bounded classifier of the client and its CONNECT
   * packet (the client's `id` is not set yet; `client.req` is the HTTP request when the app
   * passed one to `broker.handle`). Default: the listener, from the connection: `tcp` for a
   * TCP socket, `tls` for a TLS socket, `ws` for any other stream (a WebSocket stream).
   */
  endpoint?: string | ConnectionClassifier;
  /** `client_type` classifier of the client and its CONNECT packet. Default: `unknown`. */
  clientType?: ConnectionClassifier;
  /**
   * `topic` label of `subscriptions`: a bounded classifier of a topic filter. Default: the
   * first level and `/#` (`sensors/+/temp` -> `sensors/#`), one-level filters as they are
   * (`#`, `alerts`), and `$share/<group>/<filter>` by its filter. Runs once per distinct
   * filter at scrape time (cached), never per message.
   */
  topic?: TopicClassifier;
  /** A connection with more bytes than this queued counts as a slow consumer. Default 1 MiB. */
  slowConsumerBytes?: number;
  /** Capacity of this broker, for `capacity_utilization`. Default: unset (no series). */
  maxConnections?: number;
  /** `transport` label. Default `mqtt`. */
  transport?: string;
}

const kAttached = Symbol.for('tidewatch.mqtt.attached');

/**
 * Instruments an aedes 1.x broker (`await Aedes.createBroker()`), whichever listeners feed
 * `broker.handle`: TCP, TLS, WebSocket streams. A connection's handshake runs from its
 * CONNECT to the CONNACK: `success` (return code 0), `rejected` (a refusing CONNACK,
 * counted in `errors_total{type="connack_<name>"}`, or a `preConnect` refusal, type
 * `preconnect_rejected`), `error` (CONNACK 3 "server unavailable", a failure on the broker's
 * side) or `aborted` (the stream closed first). Messages `in` are PUBLISH packets the broker
 * accepted from clients, `out` every delivery to a subscriber; payload bytes; the broker's
 * `$SYS/` traffic and wills are not counted. Clients connected before the call are adopted.
 * Attaching the same metrics twice returns the first handle.
 *
 * Hooks aedes reads per call (`preConnect`, `authorizeForward`, `published`) stay wrapped when
 * the application assigns them later.
 *
 * @returns a handle that detaches everything when called (or through `.detach()`);
 *   idempotent. Counters keep their values.
 * @throws {TidewatchConfigError} for a bad option, or with code
 *   `TW_ERR_ALREADY_INSTRUMENTED` when another metrics instance instruments this broker.
 */
export function instrumentAedes(
  broker: AedesLike,
  metrics: RealtimeMetrics,
  options: InstrumentAedesOptions = {},
): InstrumentationHandle {
  if (
    typeof broker?.handle !== 'function' ||
    typeof broker.on !== 'function' ||
    typeof broker.registerClient !== 'function'
  ) {
    fail('broker', 'an aedes 1.x broker (await Aedes.createBroker())', broker);
  }
  const internals = internalsOf(metrics);
  const opts = parseOptions(options);
  return instrument(
    metrics,
    internals,
    'mqtt',
    { target: broker, key: kAttached, option: 'broker' },
    (inst) => attach(inst, broker, opts),
  );
}

type MqttOptions = ReturnType<typeof parseOptions>;

/** Validates instrumentAedes options (throws naming the option) and applies defaults. */
function parseOptions(options: unknown) {
  const opts = readOptions(options, [
    'endpoint',
    'clientType',
    'topic',
    'slowConsumerBytes',
    'maxConnections',
    'transport',
  ]);
  const endpoint = opts.endpoint;
  if (endpoint !== undefined && typeof endpoint !== 'string' && typeof endpoint !== 'function') {
    fail('endpoint', 'a string or a function (client, connect) => string', endpoint);
  }
  return {
    endpoint:
      typeof endpoint === 'function'
        ? optSyncFunction<ConnectionClassifier>('endpoint', endpoint)!
        : endpoint === undefined
          ? undefined
          : labelValue(endpoint, 'default'),
    clientType: optSyncFunction<ConnectionClassifier>('clientType', opts.clientType),
    topic: optSyncFunction<TopicClassifier>('topic', opts.topic) ?? defaultTopic,
    slowConsumerBytes: slowConsumerOption(opts.slowConsumerBytes),
    maxConnections: maxConnectionsOption(opts.maxConnections),
    transport: transportOption(opts.transport, 'mqtt'),
  };
}

/** The listener a connection came through: `tcp`, `tls`, or `ws` for any other stream. */
function listenerOf(client: AedesClientLike): string {
  const conn = client.conn as unknown;
  if (conn instanceof Socket) return (conn as { encrypted?: unknown }).encrypted ? 'tls' : 'tcp';
  return 'ws';
}

/** Runs a connection classifier guarded; `unknown` for a throwing or non-string one. */
function classify(
  recorder: Recorder,
  fn: ConnectionClassifier,
  client: AedesClientLike,
  connect: ConnectPacketLike | undefined,
  site: string,
): string {
  let v: unknown;
  try {
    v = fn(client, connect);
  } catch (err) {
    recorder.error(site, err);
    return 'unknown';
  }
  return classifierResult(recorder, v, site);
}

function attach(inst: Instrumentation, broker: AedesLike, opts: MqttOptions): undefined {
  const { recorder, clock } = inst;
  const t = opts.transport;
  const ctx: MqttContext = {
    recorder,
    clock,
    transport: t,
    closeCodes: undefined,
    groups: new Map(),
    pending: new Set<MqttConn>(),
    conns: [],
    qosIn: [0, 1, 2].map((q) => recorder.series('qosMessages', [t, 'in', String(q)])),
    qosOut: [0, 1, 2].map((q) => recorder.series('qosMessages', [t, 'out', String(q)])),
    dropped: recorder.series('messagesDropped', [t, 'not_open']),
    shuttingDown: false,
  };
  const topics = new TopicSeries(recorder, t, opts.topic);
  const retained = new RetainedTopics();

  const endpointOf = (client: AedesClientLike, connect: ConnectPacketLike | undefined) => {
    const e = opts.endpoint;
    if (e === undefined) return listenerOf(client);
    if (typeof e === 'string') return e;
    // An adopted client's CONNECT is gone: a classifier cannot be asked fairly.
    if (connect === undefined) return 'unknown';
    return classify(recorder, e, client, connect, 'classifier.endpoint');
  };
  const clientTypeOf = (client: AedesClientLike, connect: ConnectPacketLike | undefined) => {
    const fn = opts.clientType;
    if (fn === undefined || connect === undefined) return 'unknown';
    return classify(recorder, fn, client, connect, 'classifier.client_type');
  };

  // Held before adopting open clients, which stamp their last activity from it.
  inst.useClock();

  const hooks: BrokerHooks = {
    begin(client, connect) {
      return track(ctx, client, endpointOf(client, connect), clientTypeOf(client, connect), false);
    },
    retained,
  };
  hookBroker(inst, broker, ctx, hooks);

  inst.collect((r) => {
    const idleAfter = inst.internals.options.idleAfterMs;
    collectGauges(
      r,
      t,
      ctx.conns as OpenMqttConn[],
      clock.tick(),
      idleAfter,
      opts.slowConsumerBytes,
      sendBuffer,
    );
    r.series('handshakesInFlight', [t]).value += ctx.pending.size;
    if (opts.maxConnections !== undefined) r.capacity(t, ctx.conns.length, opts.maxConnections);
    let q1 = 0;
    let q2 = 0;
    for (const c of ctx.conns) {
      q1 += c.inflight1;
      q2 += c.inflight2;
      const subs = c.client.subscriptions;
      if (subs === null || typeof subs !== 'object') continue;
      for (const filter in subs) topics.of(filter).value++;
    }
    r.series('inflightMessages', [t, '1']).value += q1;
    r.series('inflightMessages', [t, '2']).value += q2;
    r.series('retainedMessages', [t]).value += retained.size;
  });
  presetScrapeSeries(recorder, t);
  recorder.series('retainedMessages', [t]);
  recorder.series('inflightMessages', [t, '1']);
  recorder.series('inflightMessages', [t, '2']);

  inst.onDetach(() => {
    for (const c of [...ctx.pending, ...ctx.conns]) release(c);
  });

  for (const client of Object.values(broker.clients ?? {})) {
    inst.guard('mqtt.adopt', () => {
      if (client === undefined || !client.connected || client.closed) return;
      if (connOf(ctx, client) !== undefined) return;
      track(ctx, client, endpointOf(client, undefined), 'unknown', true);
    });
  }
  return undefined;
}

/** Bytes queued on an open connection's stream. */
function sendBuffer(c: MqttConn): number {
  const conn = c.client.conn;
  if (c.phase !== OPEN || conn.destroyed === true) return 0;
  return typeof conn.writableLength === 'number' ? conn.writableLength : 0;
}

/** The default `topic` classifier, to fall back on from a classifier of your own. */
export { defaultTopic };
