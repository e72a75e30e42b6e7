/**
 * The public option types of {@link createLoadGenerator} (validated by `resolveOptions` in
 * options.ts, which documents the rules; defaults are given on each field).
 */

/** Wire protocol of the simulated clients. */
export type TransportName = 'ws' | 'socket.io' | 'sse' | 'mqtt' | 'grpc';

/** The transports {@link createLoadGenerator} speaks. */
export const TRANSPORT_NAMES: readonly TransportName[] = ['ws', 'socket.io', 'sse', 'mqtt', 'grpc'];

/** MQTT quality of service of the loadgen's PUBLISH and SUBSCRIBE packets. */
export type MqttQos = 0 | 1 | 2;

/** A load trace: arrivals per step, e.g. flight departures per minute. */
export interface Trace {
  /** Arrivals per step (finite, >= 0). */
  values: readonly number[];
  /** Length of one step of the trace, in trace seconds (60 for a per-minute trace). */
  stepSeconds: number;
}

/** Connections opened at a constant mean rate: a Poisson process. */
export interface RateArrivals {
  /** Connections opened per second (mean of a Poisson process). */
  rate: number;
}

/** Connections opened following a trace, played faster than real time. */
export interface TraceArrivals {
  /** The trace to play (see `loadTrace`, `flightsTrace`). */
  trace: Trace;
  /**
   * Trace seconds played per real second. 60 plays one trace minute per real second.
   * Default 1 (real time).
   */
  compression?: number;
  /** Multiplies every trace value. Default 1. */
  scale?: number;
  /** Index of the trace step to start at. Default 0. The trace loops at its end. */
  startAt?: number;
}

/** What each simulated client does once connected. */
export interface SessionOptions {
  /** Mean session length in real seconds (exponentially distributed). Default 30. */
  meanSeconds?: number;
  /** Divide session lengths by the trace `compression` too. Default false. */
  compressSessions?: boolean;
  /** Data messages each client sends per second (Poisson). Default 0.5; 0 sends none. */
  messagesPerSecond?: number;
  /**
   * Size of each `msg` frame in bytes: the JSON is padded to this size. When smaller than
   * the envelope needs, the frame is the bare envelope. Default 64.
   */
  messageBytes?: number;
  /** Rooms to pick from. Default none (no join, messages carry `room: ""`). */
  rooms?: readonly string[];
  /** Rooms each client joins (distinct, chosen at random). Default 1 when `rooms` is set. */
  joinRooms?: number;
  /**
   * ws: a ping frame every this many seconds (the pong's round trip is `pingRtt`).
   * Socket.IO: the server pings; answered pings are counted. SSE: none. Default 0 (off).
   */
  heartbeatSeconds?: number;
  /** SSE only: POST each `msg` as JSON to this URL (SSE streams are receive-only). */
  ssePostUrl?: string;
  /** MQTT only: QoS of every PUBLISH and SUBSCRIBE. Default 0. */
  qos?: MqttQos;
  /**
   * MQTT only: topics are this prefix plus the room name, or plus the client id for a
   * client in no room (its own topic). Default `tidewatch/loadgen/`. No `+`, `#` or NUL.
   */
  topicPrefix?: string;
}

/** Reconnect policy after an abnormal close or a failed connect. */
export interface ReconnectOptions {
  /** Delay cap of the first retry, ms. Default 500. */
  baseMs?: number;
  /** Largest delay cap, ms. Default 15 000. */
  maxMs?: number;
  /** Retries in a row before a client gives up. Default 5. */
  maxAttempts?: number;
}

/** Bounds of a run; the run ends when one is reached (see each field). */
export interface LimitOptions {
  /** Clients alive at once (connecting, open or waiting to reconnect). Default 1000. */
  maxConcurrent?: number;
  /**
   * Connection attempts in total, reconnects included. Once used up, no client connects
   * again and the run ends when the open sessions have ended. Default 100 000.
   */
  maxConnections?: number;
  /** Wall-clock length of the run, seconds; then every client is closed. Default 60. */
  durationSeconds?: number;
  /** A connect that takes longer fails with reason `timeout`. Default 10 000 ms. */
  handshakeTimeoutMs?: number;
  /** At the end, how long clean closes may take before sockets are destroyed. Default 5000 ms. */
  closeGraceMs?: number;
}

/** Options of {@link createLoadGenerator}. */
export interface LoadOptions {
  /**
   * `ws://` or `wss://` for `ws`; `http://` or `https://` for `socket.io` and `sse`;
   * `mqtt://`, `mqtts://`, `ws://` or `wss://` for `mqtt`; `grpc://` (plaintext) or
   * `grpcs://` (TLS) for `grpc`.
   */
  url: string;
  /** Default `ws`. */
  transport?: TransportName;
  /** Extra handshake headers. */
  headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>` and as the `token` query parameter. */
  token?: string;
  /** Arrival process: a Poisson rate, or a trace. */
  arrivals: RateArrivals | TraceArrivals;
  /** What each client does once connected; every field has a default. */
  session?: SessionOptions;
  /** Default `{ baseMs: 500, maxMs: 15000, maxAttempts: 5 }`; `false` never reconnects. */
  reconnect?: ReconnectOptions | false;
  /** Bounds of the run (always applied, with defaults). */
  limits?: LimitOptions;
  /** Share of sessions that end abruptly (socket destroyed, no close frame). Default 0. */
  dropRatio?: number;
  /** Allow a host other than loopback (127.0.0.0/8, ::1, localhost). Default false. */
  allowRemote?: boolean;
  /** PRNG seed: the same seed gives the same arrivals, sessions, rooms and sizes. */
  seed?: number;
  /**
   * Hold the process open while the run is active (one ref'd timer, cleared at the end), so
   * a script that only awaits `done` does not exit in a quiet moment. Default true.
   */
  keepAlive?: boolean;
}
