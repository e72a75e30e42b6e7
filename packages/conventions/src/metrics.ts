/**
 * The metric catalogue: the single source of every `realtime_*` metric's name, type, help,
 * unit, labels and buckets. The middleware's Prometheus and OpenTelemetry sinks,
 * `docs/metrics.md`, the generated dashboards and alert rules and the sidecar's live figures
 * all read this table, so they cannot drift apart.
 *
 * Names here are *suffixes*: the exported name is `prefix + name` (default prefix
 * {@link DEFAULT_PREFIX}), and the OpenTelemetry name is `otelPrefix + otel` (default
 * `realtime.`).
 */

/** The Prometheus prefix of every catalogue metric unless the user picks another. */
export const DEFAULT_PREFIX = 'realtime_';

/** The metric types the catalogue uses. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** How the `cluster` aggregator combines one metric across worker processes. */
export type Aggregation = 'sum' | 'max' | 'min' | 'average';

/** One label of a catalogue metric. */
export interface LabelSpec {
  /** The label name as exported to Prometheus and used as OpenTelemetry attribute key. */
  readonly name: string;
  /** What the label means, for docs. */
  readonly help: string;
  /**
   * The closed set of values this label takes. A label without `values` is open-ended
   * (endpoint, client type, error type): it passes the cardinality guard and folds into
   * `__overflow__` past the metric's series cap.
   */
  readonly values?: readonly string[];
}

/** One row of the catalogue. */
export interface MetricSpec {
  /** Name after the prefix, e.g. `connections_opened_total`. */
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  /** Base unit (`seconds`, `bytes`) or a count noun; empty for dimensionless ratios. */
  readonly unit: string;
  /** UCUM unit for OpenTelemetry (`s`, `By`, `{connection}`, `1`). */
  readonly otelUnit: string;
  /** Name after the OpenTelemetry prefix, e.g. `server.connections.opened`. */
  readonly otel: string;
  readonly labels: readonly LabelSpec[];
  /** Upper bucket bounds for histograms, ascending, in the metric's unit. */
  readonly buckets?: readonly number[];
  /** How a multi-process aggregator combines it. */
  readonly aggregation: Aggregation;
  /** `scrape` gauges are computed from live state at collection time and cannot drift. */
  readonly source: 'event' | 'scrape';
  /** Which adapters feed it (documentation only). */
  readonly transports: string;
}

/** Values the `transport` label takes across adapters. */
export const TRANSPORTS = [
  'websocket',
  'socketio_websocket',
  'socketio_polling',
  'socketio_webtransport',
  'socketio',
  'sse',
  'long_polling',
  'mqtt',
  'grpc',
  'custom',
] as const;

/** The normalised close reasons (`reason` label). */
export const CLOSE_REASONS = [
  'normal',
  'going_away',
  'ping_timeout',
  'idle_timeout',
  'protocol_error',
  'message_too_big',
  'slow_consumer',
  'auth',
  'server_shutdown',
  'abnormal',
  'error',
  'takeover',
  'cancelled',
  'deadline_exceeded',
  'unavailable',
  'resource_exhausted',
] as const;
/** A normalised close reason. */
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** Handshake outcomes (`outcome` label of `handshake_duration_seconds`). */
export const HANDSHAKE_OUTCOMES = ['success', 'rejected', 'error', 'aborted'] as const;
/** A handshake outcome. */
export type HandshakeOutcome = (typeof HANDSHAKE_OUTCOMES)[number];

/** The label value that open-ended labels fold into past the series cap. */
export const OVERFLOW_VALUE = '__overflow__';

/**
 * The `room` label value of everything outside the top K rooms (`room_messages_total`,
 * `room_members_current`): the rooms not shown by name add up here, so summing a metric over
 * `room` gives the exact total.
 */
export const OTHER_ROOM = '__other__';

const transport: LabelSpec = {
  name: 'transport',
  help: 'Wire transport: websocket, sse, long_polling, socketio_websocket, socketio_polling, socketio_webtransport, mqtt, grpc, custom; broadcast_fanout of Socket.IO uses socketio (a broadcast spans transports).',
};
const endpoint: LabelSpec = {
  name: 'endpoint',
  help: 'Endpoint as classified by the `endpoint` option (a static name or a bounded function of the request). Socket.IO: the namespace if allowlisted, else `other`; `unknown` before the client asked for one.',
};
const direction: LabelSpec = {
  name: 'direction',
  help: '`in` = received from clients, `out` = sent to clients.',
  values: ['in', 'out'],
};
const clientType: LabelSpec = {
  name: 'client_type',
  help: 'Client class from the `clientType` classifier (default `unknown`).',
};
const reason: LabelSpec = {
  name: 'reason',
  help: 'Normalised close reason (see the close-reason table).',
  values: CLOSE_REASONS,
};

/** Seconds buckets from 1 s to 24 h: connection lifetimes span minutes to days. */
const LIFETIME_BUCKETS = [
  1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 43200, 86400,
];
/** Handshake latency from 0.5 ms to 10 s. */
const HANDSHAKE_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** Powers of four from 64 B to 16 MiB, so a message-size lookup scans at most 11 bounds. */
const SIZE_BUCKETS = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];
/** Ping round trips from 100 µs to 10 s. */
const RTT_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** Publish-to-socket-write lag from 0.5 ms to 30 s: a broker hop is milliseconds, a backlog seconds. */
const LAG_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
const broker: LabelSpec = {
  name: 'broker',
  help: 'The broker a message crossed: `redis` (plain pub/sub), `socketio_redis` (the Socket.IO Redis adapter), or the name given to the broker helper.',
};
const qos = (values: readonly string[]): LabelSpec => ({
  name: 'qos',
  help: 'MQTT quality of service of the message as delivered.',
  values,
});
const POLL_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];
const COUNT_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000];

/**
 * The catalogue, keyed by a stable identifier used in code and in per-metric options
 * (e.g. `seriesCap: { messages: 500 }`).
 */
export const CATALOG = {
  connections: {
    name: 'connections',
    type: 'gauge',
    help: 'Open connections; idle = no data frame in either direction for idleAfterMs. Computed at scrape.',
    unit: 'connections',
    otelUnit: '{connection}',
    otel: 'server.connections',
    labels: [
      transport,
      endpoint,
      { name: 'state', help: '`active` or `idle`.', values: ['active', 'idle'] },
    ],
    aggregation: 'sum',
    source: 'scrape',
    transports: 'all',
  },
  connectionsOpened: {
    name: 'connections_opened_total',
    type: 'counter',
    help: 'Connections opened (handshake completed).',
    unit: 'connections',
    otelUnit: '{connection}',
    otel: 'server.connections.opened',
    labels: [transport, endpoint],
    aggregation: 'sum',
    source: 'event',
    transports: 'all',
  },
  connectionsClosed: {
    name: 'connections_closed_total',
    type: 'counter',
    help: 'Connections closed, by normalised reason and by which side initiated the close.',
    unit: 'connections',
    otelUnit: '{connection}',
    otel: 'server.connections.closed',
    labels: [
      transport,
      endpoint,
      reason,
      {
        name: 'initiator',
        help: '`server` when the server sent the close or dropped the socket first, else `client`.',
        values: ['client', 'server'],
      },
    ],
    aggregation: 'sum',
    source: 'event',
    transports: 'all',
  },
  connectionDuration: {
    name: 'connection_duration_seconds',
    type: 'histogram',
    help: 'Connection lifetime from open to close.',
    unit: 'seconds',
    otelUnit: 's',
    otel: 'server.connection.duration',
    labels: [transport, endpoint, reason],
    buckets: LIFETIME_BUCKETS,
    aggregation: 'sum',
    source: 'event',
    transports: 'all',
  },
  handshakeDuration: {
    name: 'handshake_duration_seconds',
    type: 'histogram',
    help: 'Time from the upgrade/connect request arriving to the connection opening, or to its rejection, error or abort.',
    unit: 'seconds',
    otelUnit: 's',
    otel: 'server.handshake.duration',
    labels: [
      transport,
      endpoint,
      {
        name: 'outcome',
        help: '`success`; `rejected` (4xx or dropped by the server: verifyClient, auth, origin, bad headers, Socket.IO middleware `next(err)` or engine.io `connection_error`); `error` (5xx or a server fault); `aborted` (the client went away first).',
        values: HANDSHAKE_OUTCOMES,
      },
    ],
    buckets: HANDSHAKE_BUCKETS,
    aggregation: 'sum',
    source: 'event',
    transports: 'all',
  },
  handshakesInFlight: {
    name: 'handshakes_in_flight',
    type: 'gauge',
    help: 'Handshakes started and not yet finished. Computed at scrape.',
    unit: 'handshakes',
    otelUnit: '{handshake}',
    otel: 'server.handshakes.in_flight',
    labels: [transport],
    aggregation: 'sum',
    source: 'scrape',
    transports: 'all',
  },
  messages: {
    name: 'messages_total',
    type: 'counter',
    help: 'Data messages (text and binary; not ping/pong/close control frames).',
    unit: 'messages',
    otelUnit: '{message}',
    otel: 'server.messages',
    labels: [transport, endpoint, direction, clientType],
    aggregation: 'sum',
    source: 'event',
    transports: 'all',
  },
  messageBytes: {
    name: 'message_bytes_total',
    type: 'counter',
    help: 'Payload bytes of data messages (real bytes on the wire before framing, not JSON estimates).',
    unit: 'bytes',
    otelUnit: 'By',
    otel: 'server.message.bytes',
    labels: [transport, endpoint, direction],
    aggregation: 'sum',
    source: 'event',
    transports: 'all',
  },
  messageSize: {
    name: 'message_size_bytes',
    type: 'histogram',
    help: 'Payload size of data messages.',
    unit: 'bytes',
    otelUnit: 'By',
    otel: 'server.message.size',
    labels: [transport, direction],
    buckets: SIZE_BUCKETS,
    aggregation: 'sum',
    source: 'event',
    transports: 'all',
  },
  heartbeats: {
    name: 'heartbeats_total',
    type: 'counter',
    help: 'Heartbeat outcomes: a pong answering a ping, or a peer terminated after missing pongs.',
    unit: 'heartbeats',
    otelUnit: '{heartbeat}',
    otel: 'server.heartbeats',
    labels: [
      transport,
      { name: 'outcome', help: '`pong` or `timeout`.', values: ['pong', 'timeout'] },
    ],
    aggregation: 'sum',
    source: 'event',
    transports: 'websocket, socket.io',
  },
  pingRtt: {
    name: 'ping_rtt_seconds',
    type: 'histogram',
    help: 'Round trip from a server ping to the matching pong.',
    unit: 'seconds',
    otelUnit: 's',
    otel: 'server.ping.rtt',
    labels: [transport],
    buckets: RTT_BUCKETS,
    aggregation: 'sum',
    source: 'event',
    transports: 'websocket, socket.io',
  },
  sendBuffer: {
    name: 'send_buffer_bytes',
    type: 'gauge',
    help: 'Bytes queued for sending, summed over OPEN connections. Computed at scrape.',
    unit: 'bytes',
    otelUnit: 'By',
    otel: 'server.send_buffer.size',
    labels: [transport],
    aggregation: 'sum',
    source: 'scrape',
    transports: 'all',
  },
  slowConsumers: {
    name: 'slow_consumers',
    type: 'gauge',
    help: 'OPEN connections whose send buffer exceeds slowConsumerBytes. Computed at scrape.',
    unit: 'connections',
    otelUnit: '{connection}',
    otel: 'server.slow_consumers',
    labels: [transport],
    aggregation: 'sum',
    source: 'scrape',
    transports: 'all',
  },
  messagesDropped: {
    name: 'messages_dropped_total',
    type: 'counter',
    help: 'Messages the application tried to send that never left: `not_open` (socket closing or closed), `backpressure`.',
    unit: 'messages',
    otelUnit: '{message}',
    otel: 'server.messages.dropped',
    labels: [transport, { name: 'reason', help: '`not_open` or `backpressure`.' }],
    aggregation: 'sum',
    source: 'event',
    transports: 'all',
  },
  errors: {
    name: 'errors_total',
    type: 'counter',
    help: 'Transport errors by normalised type (e.g. invalid_opcode, unsupported_message_length, econnreset).',
    unit: 'errors',
    otelUnit: '{error}',
    otel: 'server.errors',
    labels: [
      transport,
      {
        name: 'type',
        help: 'Error code, lower-cased, `WS_ERR_` dropped; long-polling answers with an error status: `http_4xx`, `http_5xx`; Socket.IO: engine.io connection_error codes (`forbidden`, `unknown_sid`, ...), `poll_closed_prematurely`, `message_too_big`, `invalid_frame`, `parse_error`, `invalid_packet`.',
      },
    ],
    aggregation: 'sum',
    source: 'event',
    transports: 'all',
  },
  pollWait: {
    name: 'poll_wait_seconds',
    type: 'histogram',
    help: 'Long-polling hold time until data, an empty answer (timeout), or the client leaving.',
    unit: 'seconds',
    otelUnit: 's',
    otel: 'server.poll.wait',
    labels: [
      {
        name: 'outcome',
        help: '`data`, `timeout` (an empty answer), or `aborted` (the client went away before the answer was complete).',
        values: ['data', 'timeout', 'aborted'],
      },
    ],
    buckets: POLL_BUCKETS,
    aggregation: 'sum',
    source: 'event',
    transports: 'long_polling',
  },
  rooms: {
    name: 'rooms',
    type: 'gauge',
    help: 'Rooms with at least one member. Computed at scrape.',
    unit: 'rooms',
    otelUnit: '{room}',
    otel: 'server.rooms',
    labels: [{ name: 'namespace', help: 'Socket.IO namespace (allowlisted).' }],
    aggregation: 'sum',
    source: 'scrape',
    transports: 'socket.io',
  },
  roomMembers: {
    name: 'room_members',
    type: 'histogram',
    help: 'Distribution of room sizes at scrape time.',
    unit: 'members',
    otelUnit: '{member}',
    otel: 'server.room.members',
    labels: [{ name: 'namespace', help: 'Socket.IO namespace (allowlisted).' }],
    buckets: COUNT_BUCKETS,
    aggregation: 'sum',
    source: 'scrape',
    transports: 'socket.io',
  },
  roomMessages: {
    name: 'room_messages_total',
    type: 'counter',
    help: 'Messages sent to a room (one per publish or broadcast, not per recipient) for the top K rooms by message rate; every other room adds up in room="__other__". Each message is counted once, in the series its room had at the scrape after it, so increases summed over rooms are exact. A room leaving the top K ends its series (resumed if it returns soon) and its later messages count in __other__. Computed at scrape from a bounded tracker.',
    unit: 'messages',
    otelUnit: '{message}',
    otel: 'server.room.messages',
    labels: [
      transport,
      {
        name: 'room',
        help: 'Room name (cut to 128 characters) for the top K rooms by message rate (`rooms.topK`, default 20); `__other__` for the rest.',
      },
    ],
    aggregation: 'sum',
    source: 'scrape',
    transports: 'socket.io, custom (metrics.rooms())',
  },
  roomMembersCurrent: {
    name: 'room_members_current',
    type: 'gauge',
    help: 'Members of each room shown in room_messages_total (the top K by message rate); room="__other__" sums the members of every other room (a client in two rooms counts in both). Unlike the room_members histogram it names rooms. Computed at scrape.',
    unit: 'members',
    otelUnit: '{member}',
    otel: 'server.room.members.current',
    labels: [
      transport,
      {
        name: 'room',
        help: 'Room name for the top K rooms by message rate; `__other__` for the rest.',
      },
    ],
    aggregation: 'sum',
    source: 'scrape',
    transports: 'socket.io, custom (metrics.rooms())',
  },
  broadcastFanout: {
    name: 'broadcast_fanout',
    type: 'histogram',
    help: 'Recipients per broadcast.',
    unit: 'recipients',
    otelUnit: '{recipient}',
    otel: 'server.broadcast.fanout',
    labels: [transport],
    buckets: COUNT_BUCKETS,
    aggregation: 'sum',
    source: 'event',
    transports: 'socket.io, custom',
  },
  capacityUtilization: {
    name: 'capacity_utilization',
    type: 'gauge',
    help: 'Open connections divided by the configured maxConnections (only when set). Computed at scrape.',
    unit: 'ratio',
    otelUnit: '1',
    otel: 'server.capacity.utilization',
    labels: [transport],
    aggregation: 'average',
    source: 'scrape',
    transports: 'all',
  },
  transportUpgrades: {
    name: 'transport_upgrades_total',
    type: 'counter',
    help: 'Connections that switched transport mid-life, e.g. Socket.IO polling to websocket.',
    unit: 'upgrades',
    otelUnit: '{upgrade}',
    otel: 'server.transport.upgrades',
    labels: [
      { name: 'from', help: 'Transport before the switch.' },
      { name: 'to', help: 'Transport after the switch.' },
    ],
    aggregation: 'sum',
    source: 'event',
    transports: 'socket.io',
  },
  reconnects: {
    name: 'reconnects_total',
    type: 'counter',
    help: 'Connections or requests that resume an earlier session: SSE with Last-Event-ID, long-poll retries, Socket.IO recovered sessions.',
    unit: 'reconnects',
    otelUnit: '{reconnect}',
    otel: 'server.reconnects',
    labels: [transport, endpoint],
    aggregation: 'sum',
    source: 'event',
    transports: 'sse, long_polling, socket.io',
  },
  backpressureEvents: {
    name: 'backpressure_events_total',
    type: 'counter',
    help: 'Writes that found the send buffer full (res.write() returned false, or the library reported backpressure).',
    unit: 'events',
    otelUnit: '{event}',
    otel: 'server.backpressure.events',
    labels: [transport],
    aggregation: 'sum',
    source: 'event',
    transports: 'sse, long_polling, custom',
  },
  drainDuration: {
    name: 'drain_duration_seconds',
    type: 'histogram',
    help: 'Time from a write that hit backpressure to the buffer draining.',
    unit: 'seconds',
    otelUnit: 's',
    otel: 'server.drain.duration',
    labels: [transport],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    aggregation: 'sum',
    source: 'event',
    transports: 'sse, long_polling, custom',
  },
  requestsInFlight: {
    name: 'requests_in_flight',
    type: 'gauge',
    help: 'Long-poll requests held open waiting for data. Computed at scrape.',
    unit: 'requests',
    otelUnit: '{request}',
    otel: 'server.requests.in_flight',
    labels: [transport, endpoint],
    aggregation: 'sum',
    source: 'scrape',
    transports: 'long_polling',
  },
  deliveryLag: {
    name: 'delivery_lag_seconds',
    type: 'histogram',
    help: "Time from a message's publish (the stamp set by `stamp()` on the publishing side) to its write on each recipient's socket. Unstamped messages are not observed; across hosts it includes their clock skew.",
    unit: 'seconds',
    otelUnit: 's',
    otel: 'server.delivery.lag',
    labels: [transport],
    buckets: LAG_BUCKETS,
    aggregation: 'sum',
    source: 'event',
    transports: 'all (stamped messages)',
  },
  brokerMessages: {
    name: 'broker_messages_total',
    type: 'counter',
    help: 'Messages crossing the broker: `out` = published to it by this node, `in` = received from it for delivery here.',
    unit: 'messages',
    otelUnit: '{message}',
    otel: 'server.broker.messages',
    labels: [broker, direction],
    aggregation: 'sum',
    source: 'event',
    transports: 'broker',
  },
  brokerErrors: {
    name: 'broker_errors_total',
    type: 'counter',
    help: 'Broker failures by normalised type (connection lost, publish failed, undecodable message, request timeout).',
    unit: 'errors',
    otelUnit: '{error}',
    otel: 'server.broker.errors',
    labels: [
      broker,
      {
        name: 'type',
        help: 'Error type, lower-cased (`connection`, `publish`, `decode`, `timeout`, or the client error code).',
      },
    ],
    aggregation: 'sum',
    source: 'event',
    transports: 'broker',
  },
  qosMessages: {
    name: 'qos_messages_total',
    type: 'counter',
    help: 'MQTT PUBLISH messages by quality of service: `in` = published by clients, `out` = delivered to subscribers.',
    unit: 'messages',
    otelUnit: '{message}',
    otel: 'server.messages.qos',
    labels: [transport, direction, qos(['0', '1', '2'])],
    aggregation: 'sum',
    source: 'event',
    transports: 'mqtt',
  },
  subscriptions: {
    name: 'subscriptions',
    type: 'gauge',
    help: 'Active subscriptions by topic filter, folded to a bounded set by the `topic` classifier. Computed at scrape.',
    unit: 'subscriptions',
    otelUnit: '{subscription}',
    otel: 'server.subscriptions',
    labels: [
      transport,
      {
        name: 'topic',
        help: 'Topic filter as classified by the `topic` option (default: the first level, e.g. `sensors/#`; `$share` groups by filter).',
      },
    ],
    aggregation: 'sum',
    source: 'scrape',
    transports: 'mqtt',
  },
  retainedMessages: {
    name: 'retained_messages',
    type: 'gauge',
    help: 'Retained messages the broker holds. Computed at scrape.',
    unit: 'messages',
    otelUnit: '{message}',
    otel: 'server.retained_messages',
    labels: [transport],
    aggregation: 'max',
    source: 'scrape',
    transports: 'mqtt',
  },
  inflightMessages: {
    name: 'inflight_messages',
    type: 'gauge',
    help: 'QoS 1 and 2 messages sent to clients and not yet acknowledged. Computed at scrape.',
    unit: 'messages',
    otelUnit: '{message}',
    otel: 'server.inflight_messages',
    labels: [transport, qos(['1', '2'])],
    aggregation: 'sum',
    source: 'scrape',
    transports: 'mqtt',
  },
  instrumentationErrors: {
    name: 'instrumentation_errors_total',
    type: 'counter',
    help: 'Errors caught inside tidewatch (a throwing classifier, a malformed request); the host kept serving.',
    unit: 'errors',
    otelUnit: '{error}',
    otel: 'instrumentation.errors',
    labels: [
      { name: 'site', help: 'Where it was caught, e.g. `classifier.endpoint`, `ws.message`.' },
    ],
    aggregation: 'sum',
    source: 'event',
    transports: 'self',
  },
  seriesDropped: {
    name: 'series_dropped_total',
    type: 'counter',
    help: 'Label sets folded into `__overflow__` because the metric reached its series cap.',
    unit: 'series',
    otelUnit: '{series}',
    otel: 'instrumentation.series_dropped',
    labels: [{ name: 'metric', help: 'The capped metric, full name.' }],
    aggregation: 'sum',
    source: 'event',
    transports: 'self',
  },
  scrapeErrors: {
    name: 'scrape_errors_total',
    type: 'counter',
    help: 'Metrics whose collection failed during a scrape through metricsHandler; the rest was served.',
    unit: 'errors',
    otelUnit: '{error}',
    otel: 'instrumentation.scrape_errors',
    labels: [{ name: 'metric', help: 'The metric whose collector failed, full name.' }],
    aggregation: 'sum',
    source: 'event',
    transports: 'self',
  },
} as const satisfies Record<string, MetricSpec>;

/** Identifier of a catalogue metric, e.g. `'messages'`. */
export type MetricKey = keyof typeof CATALOG;

/** Catalogue keys in a stable order (the order of `CATALOG`). */
export const METRIC_KEYS = Object.keys(CATALOG) as MetricKey[];

/**
 * The exported Prometheus name of a catalogue metric.
 * @param key - The catalogue key, e.g. `'connections'`.
 * @param prefix - Default {@link DEFAULT_PREFIX}.
 * @returns e.g. `realtime_connections`.
 */
export function metricName(key: MetricKey, prefix: string = DEFAULT_PREFIX): string {
  return prefix + CATALOG[key].name;
}
