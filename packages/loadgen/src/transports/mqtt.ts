/**
 * The `mqtt` transport: one MQTT.js client per connection (MQTT 3.1.1, clean session, its
 * own reconnection off: the loadgen's policy applies), over TCP (`mqtt://`, `mqtts://`) or
 * WebSocket (`ws://`, `wss://`).
 *
 * Topics keep the server's counts exactly predictable: a client in no room subscribes and
 * publishes to its own topic (`<topicPrefix><cid>`), so every PUBLISH comes back once; a
 * client in rooms subscribes to `<topicPrefix><room>` for each and publishes to one of
 * them, so a message reaches every subscriber of that room (as a room broadcast does).
 * The connection counts as open once the broker has acknowledged the subscription
 * (SUBACK), so no message is published before the broker can deliver it.
 *
 * Messages are PUBLISH packets (SUBSCRIBE and PINGREQ are control packets); bytes are
 * payload bytes. A clean close is DISCONNECT then FIN; a drop destroys the socket without
 * DISCONNECT. MQTT 3.1.1 brokers cannot close cleanly, so any close we did not start is
 * `abnormal` (and reconnects).
 */
import { createRequire } from 'node:module';
import type * as Mqtt from 'mqtt';
import type { Room } from '../message.js';
import type { Connection, ConnectionHooks, Driver, DriverContext } from './types.js';
import { authHeaders, failureOf, ownSeqAt, withToken } from './util.js';

/** Loaded on first use: a ws-only user of the package does not pay for MQTT.js. */
let mqttModule: typeof Mqtt | undefined;
function loadMqtt(): typeof Mqtt {
  mqttModule ??= createRequire(import.meta.url)('mqtt') as typeof Mqtt;
  return mqttModule;
}

/**
 * CONNACK return codes (MQTT 3.1.1 §3.2.2.3) as the HTTP status the client's retry policy
 * understands: 1 bad protocol and 2 bad client id are 400, 4 bad credentials 401,
 * 5 not authorised 403 (none retried), 3 server unavailable 503 (retried).
 */
const CONNACK_STATUS: Readonly<Record<number, number>> = { 1: 400, 2: 400, 3: 503, 4: 401, 5: 403 };

/** Failure reason and status of an error before the connection opened. */
export function mqttFailureOf(err: unknown): { reason: string; status: number } {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && CONNACK_STATUS[code] !== undefined) {
    return { reason: `connack-${code}`, status: CONNACK_STATUS[code]! };
  }
  return failureOf(err);
}

/** What every connection of one driver shares. */
interface MqttShared {
  readonly url: string;
  readonly base: Mqtt.IClientOptions;
  readonly prefix: string;
  readonly qos: 0 | 1 | 2;
  /** Makes client ids unique per connection: a reconnect must not take over its old session. */
  next: number;
}

class MqttConnection implements Connection {
  private readonly ctx: DriverContext;
  private readonly hooks: ConnectionHooks;
  private readonly shared: MqttShared;
  private readonly client: Mqtt.MqttClient;
  private readonly marker: Buffer;
  private readonly idPrefix: string;
  private readonly ownTopic: string;
  private readonly timer: NodeJS.Timeout;
  private isOpen = false;
  private ending: 'client' | 'drop' | null = null;
  private aborted = false;
  private done = false;
  private failure: { reason: string; status: number } | null = null;
  private pingAt = 0;

  constructor(ctx: DriverContext, shared: MqttShared, hooks: ConnectionHooks, rooms: Room[]) {
    this.ctx = ctx;
    this.hooks = hooks;
    this.shared = shared;
    this.idPrefix = `${hooks.cid}-`;
    this.marker = Buffer.from(`"id":"${this.idPrefix}`);
    this.ownTopic = shared.prefix + hooks.cid;
    const topics = rooms.length === 0 ? [this.ownTopic] : rooms.map((r) => shared.prefix + r.name);
    const client = loadMqtt().connect(shared.url, {
      ...shared.base,
      clientId: `${hooks.cid}.${shared.next++}`,
    });
    this.client = client;
    // Covers CONNECT to SUBACK (MQTT.js's connectTimeout stops at CONNACK).
    const timeoutMs = ctx.options.limits.handshakeTimeoutMs;
    this.timer = setTimeout(() => this.failNow('timeout', 0), timeoutMs);
    this.timer.unref();
    client.on('connect', () => {
      if (this.aborted || this.done) return;
      client.subscribe(topics, { qos: shared.qos }, (err) => {
        if (this.aborted || this.done || this.isOpen) return;
        if (err) {
          this.failNow('subscribe', 0);
          return;
        }
        clearTimeout(this.timer);
        this.isOpen = true;
        hooks.opened();
      });
    });
    client.on('message', (_topic: string, payload: Buffer) => this.onMessage(payload));
    client.on('packetsend', (p: Mqtt.Packet) => {
      if (p.cmd === 'pingreq' && this.isOpen && !this.aborted) {
        this.ctx.stats.hbSent++;
        if (this.pingAt === 0) this.pingAt = performance.now();
      }
    });
    client.on('packetreceive', (p: Mqtt.Packet) => {
      if (p.cmd !== 'pingresp' || this.pingAt === 0 || this.aborted) return;
      this.ctx.stats.hbAnswered++;
      this.ctx.stats.pingRtt.record(performance.now() - this.pingAt);
      this.pingAt = 0;
    });
    client.on('error', (err: Error) => {
      if (!this.isOpen && this.failure === null) this.failure = mqttFailureOf(err);
    });
    client.on('close', () => this.onClose());
  }

  private onMessage(payload: Buffer): void {
    if (this.aborted) return;
    const stats = this.ctx.stats;
    stats.msgReceived++;
    stats.bytesReceived += payload.length;
    const i = payload.indexOf(this.marker);
    if (i !== -1) {
      const seq = ownSeqAt(payload, i + this.marker.length);
      if (seq > 0) this.hooks.own(seq);
    }
  }

  /** Gives up on a connection that did not open: destroys it and reports the failure once. */
  private failNow(reason: string, status: number): void {
    if (this.isOpen || this.done || this.aborted) return;
    this.failure = { reason, status };
    this.client.end(true);
    this.onClose();
  }

  private onClose(): void {
    if (this.aborted || this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    if (!this.isOpen) {
      const f = this.failure ?? { reason: 'close-before-open', status: 0 };
      this.hooks.failed(f.reason, f.status);
      return;
    }
    this.isOpen = false;
    this.hooks.closed(this.ending ?? 'abnormal', 'close-server');
  }

  join(): void {
    // Rooms are topics, subscribed before the connection counted as open.
  }

  send(room: Room, seq: number): void {
    if (!this.isOpen || this.ending !== null) return;
    const frame = this.ctx.messages.frame(room, this.idPrefix + seq, Date.now());
    const payload = Buffer.from(frame);
    const topic = room.name === '' ? this.ownTopic : this.shared.prefix + room.name;
    this.client.publish(topic, payload, { qos: this.shared.qos });
    const stats = this.ctx.stats;
    stats.msgSent++;
    stats.bytesSent += payload.length;
  }

  ping(): boolean {
    // MQTT.js sends PINGREQ by itself every `keepalive` seconds (counted above).
    return false;
  }

  close(): void {
    if (!this.isOpen || this.ending !== null) return;
    this.ending = 'client';
    this.client.end(false);
  }

  drop(): void {
    if (!this.isOpen || this.ending !== null) return;
    this.ending = 'drop';
    // Forced: the socket is destroyed without a DISCONNECT packet.
    this.client.end(true);
  }

  abort(): void {
    this.aborted = true;
    clearTimeout(this.timer);
    this.client.end(true);
  }
}

/**
 * The `mqtt` driver. The token is the MQTT password (user name: the URL's, else
 * `tidewatch-loadgen`) and, over WebSocket, also `Authorization: Bearer` and `?token=`.
 */
export function mqttDriver(ctx: DriverContext): Driver {
  const { options } = ctx;
  const overWs = options.url.protocol === 'ws:' || options.url.protocol === 'wss:';
  const url = overWs ? withToken(options.url, options.token) : new URL(options.url.href);
  const username = decodeURIComponent(url.username);
  url.username = '';
  url.password = '';
  const hb = options.session.heartbeatSeconds;
  const base: Mqtt.IClientOptions = {
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    resubscribe: false,
    connectTimeout: options.limits.handshakeTimeoutMs,
    // PINGREQ every heartbeatSeconds (whole seconds, the protocol's unit); MQTT.js's 60 s else.
    keepalive: hb > 0 ? Math.max(1, Math.ceil(hb)) : 60,
    wsOptions: {
      headers: authHeaders(options.headers, options.token),
      perMessageDeflate: false,
    },
  };
  if (options.token !== undefined) {
    base.username = username === '' ? 'tidewatch-loadgen' : username;
    base.password = options.token;
  } else if (username !== '') base.username = username;
  const shared: MqttShared = {
    url: url.href,
    base,
    prefix: options.session.topicPrefix,
    qos: options.session.qos,
    next: 0,
  };
  return {
    // Closing right after a publish could cut its delivery back to us: wait for it first.
    settleBeforeClose: true,
    connect: (hooks, rooms) => new MqttConnection(ctx, shared, hooks, [...rooms]),
    close: () => {},
  };
}
