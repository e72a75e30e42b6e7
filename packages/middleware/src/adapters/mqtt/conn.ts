import type { CloseReason, HandshakeOutcome } from '@tidewatch/conventions';
import { observe, type ValueSeries } from '../../internal/family.js';
import {
  type Group,
  groupFor,
  recordClose,
  type TransportContext,
} from '../../internal/transport.js';
import type { Initiator } from '../shared/close-reason.js';
import { isSysTopic, payloadLength, reasonForErrorType } from './reasons.js';
import type { AedesClientLike, DeliverFn, PacketLike } from './types.js';

/** Per-broker context shared by its connections. */
export interface MqttContext extends TransportContext {
  /** Connections between CONNECT and CONNACK (`handshakes_in_flight`). */
  readonly pending: Set<MqttConn>;
  /** Open connections (CONNACK 0 sent, socket not closed yet). */
  readonly conns: Set<MqttConn>;
  /** `qos_messages_total{direction,qos}`, indexed by QoS 0..2. */
  readonly qosIn: readonly ValueSeries[];
  readonly qosOut: readonly ValueSeries[];
  /** `messages_dropped_total{reason="not_open"}`: deliveries to a client already closing. */
  readonly dropped: ValueSeries;
  /** Set by `broker.close()`: connections closing from now on close for shutdown. */
  shuttingDown: boolean;
}

/** Where a connection is: between CONNECT and CONNACK, open, or done (refused or closed). */
export const HANDSHAKE = 0;
export const OPEN = 1;
export const DONE = 2;

/** Which delivery function is running, so the forward hook knows the QoS on the wire. */
export const MODE_OTHER = -1;
export const MODE_QOS0 = 0;
export const MODE_QOS = 1;

/** Per-connection state: a handful of numbers and references. */
export interface MqttConn {
  readonly client: AedesClientLike;
  readonly ctx: MqttContext;
  readonly endpoint: string;
  readonly clientType: string;
  /** `performance.now()` when the CONNECT arrived. */
  readonly start: number;
  phase: typeof HANDSHAKE | typeof OPEN | typeof DONE;
  /** False once released: wrappers still referenced by the broker pass straight through. */
  on: boolean;
  g: Group | null;
  openedAt: number;
  /** Coarse time of the last PUBLISH in either direction, for idle detection. */
  last: number;
  mode: number;
  /** QoS 1 / QoS 2 deliveries not acknowledged yet (PUBACK / PUBCOMP). */
  inflight1: number;
  inflight2: number;
  /** The client's will, published on its behalf at an abrupt close: not one of its PUBLISHes. */
  will: unknown;
  reason: CloseReason | null;
  initiator: Initiator;
  errType: string | null;
  /** The packet parser reported a malformed packet. */
  parseError: boolean;
  readonly o0: DeliverFn;
  readonly oQ: DeliverFn;
  w0: DeliverFn | null;
  wQ: DeliverFn | null;
}

/** Where a client's state lives; module-local, so two copies of tidewatch never share it. */
export const kConn = Symbol('tidewatch.mqtt.conn');

/** This context's state of `client`, if any. */
export function connOf(ctx: MqttContext, client: unknown): MqttConn | undefined {
  const c = (client as Record<symbol, MqttConn | undefined> | null | undefined)?.[kConn];
  return c !== undefined && c.ctx === ctx ? c : undefined;
}

/** A connection's stream closed: settles its handshake or counts its close. */
function onConnClose(this: { client?: unknown }): void {
  const c = (this.client as Record<symbol, MqttConn | undefined> | undefined)?.[kConn];
  if (c === undefined || !c.on) return;
  try {
    if (c.phase === HANDSHAKE) endHandshake(c, 'aborted');
    else if (c.phase === OPEN) closeConnection(c);
  } catch (err) {
    c.ctx.recorder.error('mqtt.close', err);
  }
  release(c);
}

/** Runs before aedes' own parser listener, so the error that follows is known as malformed input. */
function onParseError(this: { client?: unknown }): void {
  const c = (this.client as Record<symbol, MqttConn | undefined> | undefined)?.[kConn];
  if (c !== undefined) c.parseError = true;
}

/**
 * Starts tracking a client whose CONNECT just arrived (or, `open`, one adopted while already
 * connected). Wraps its two delivery functions, which aedes captures into each subscription
 * it makes afterwards; listens for its stream's `'close'` and its parser's `'error'`.
 */
export function track(
  ctx: MqttContext,
  client: AedesClientLike,
  endpoint: string,
  clientType: string,
  open: boolean,
): MqttConn | undefined {
  const holder = client as unknown as Record<symbol, MqttConn | undefined>;
  if (holder[kConn] !== undefined) return undefined;
  const c: MqttConn = {
    client,
    ctx,
    endpoint,
    clientType,
    start: performance.now(),
    phase: HANDSHAKE,
    on: true,
    g: null,
    openedAt: 0,
    last: ctx.clock.now,
    mode: MODE_OTHER,
    inflight1: 0,
    inflight2: 0,
    will: undefined,
    reason: null,
    initiator: 'server',
    errType: null,
    parseError: false,
    o0: client.deliver0,
    oQ: client.deliverQoS,
    w0: null,
    wQ: null,
  };
  holder[kConn] = c;
  wrapDelivery(c);
  client.conn.on('close', onConnClose);
  client._parser?.prependListener('error', onParseError);
  if (open) openConnection(c);
  else ctx.pending.add(c);
  return c;
}

function wrapDelivery(c: MqttConn): void {
  const { client, o0, oQ } = c;
  if (typeof o0 === 'function') {
    c.w0 = function tidewatchDeliver0(this: unknown, packet, cb) {
      if (!c.on) return o0.call(this, packet, cb);
      const prev = c.mode;
      c.mode = MODE_QOS0;
      try {
        return o0.call(this, packet, cb);
      } finally {
        c.mode = prev;
      }
    };
    client.deliver0 = c.w0;
  }
  if (typeof oQ === 'function') {
    c.wQ = function tidewatchDeliverQoS(this: unknown, packet, cb) {
      if (!c.on) return oQ.call(this, packet, cb);
      const prev = c.mode;
      c.mode = MODE_QOS;
      try {
        return oQ.call(this, packet, cb);
      } finally {
        c.mode = prev;
      }
    };
    client.deliverQoS = c.wQ;
  }
}

/** Stops tracking: removes listeners, puts the delivery functions back where still ours. */
export function release(c: MqttConn): void {
  if (!c.on) return;
  c.on = false;
  const { client, ctx } = c;
  ctx.pending.delete(c);
  ctx.conns.delete(c);
  client.conn.removeListener('close', onConnClose);
  client._parser?.removeListener('error', onParseError);
  if (c.w0 !== null && client.deliver0 === c.w0) client.deliver0 = c.o0;
  if (c.wQ !== null && client.deliverQoS === c.wQ) client.deliverQoS = c.oQ;
  delete (client as unknown as Record<symbol, MqttConn | undefined>)[kConn];
}

/** Ends the handshake with `outcome`; `success` opens the connection. */
export function endHandshake(c: MqttConn, outcome: HandshakeOutcome): void {
  if (c.phase !== HANDSHAKE) return;
  const ctx = c.ctx;
  ctx.pending.delete(c);
  const seconds = (performance.now() - c.start) / 1000;
  ctx.recorder.observe('handshakeDuration', [ctx.transport, c.endpoint, outcome], seconds);
  if (outcome === 'success') openConnection(c);
  else c.phase = DONE;
}

function openConnection(c: MqttConn): void {
  const ctx = c.ctx;
  const g = groupFor(ctx, c.endpoint, c.clientType);
  c.g = g;
  c.phase = OPEN;
  c.openedAt = performance.now();
  c.last = ctx.clock.now;
  c.will = c.client.will;
  ctx.conns.add(c);
  g.opened.value++;
}

/**
 * Counts the close of an open connection. The reason is what was seen first: a mark set
 * on the way (takeover, keep-alive timeout), a DISCONNECT, an error, the peer's end of
 * stream without DISCONNECT, the broker closing; else the broker dropped it on its own.
 */
function closeConnection(c: MqttConn): void {
  c.phase = DONE;
  const client = c.client;
  let reason: CloseReason;
  let initiator: Initiator;
  if (c.reason !== null) {
    reason = c.reason;
    initiator = c.initiator;
  } else if (client._disconnected === true) {
    reason = 'normal';
    initiator = 'client';
  } else if (c.errType !== null) {
    ({ reason, initiator } = reasonForErrorType(c.errType));
  } else if (client.conn.readableEnded === true) {
    // The peer ended its stream without DISCONNECT: its will is published, as for a drop.
    reason = 'abnormal';
    initiator = 'client';
  } else if (c.ctx.shuttingDown) {
    reason = 'server_shutdown';
    initiator = 'server';
  } else {
    reason = 'normal';
    initiator = 'server';
  }
  recordClose(c.ctx, c.g!, c.openedAt, reason, initiator);
}

/** Counts a client PUBLISH the broker accepted. */
export function countIn(c: MqttConn, packet: PacketLike): void {
  if (packet === c.will || isSysTopic(packet.topic)) return;
  const n = payloadLength(packet.payload);
  const g = c.g!;
  g.msgIn.value++;
  g.bytesIn.value += n;
  observe(g.sizeIn, n);
  const ctx = c.ctx;
  if (ctx.recorder.otelPerMessage) recordSize(c, 'in', n);
  ctx.qosIn[qosIndex(packet.qos)]!.value++;
  c.last = ctx.clock.now;
}

/**
 * Counts a delivery the broker forwards to this client, at the QoS aedes will write it
 * with: 0 through `deliver0`; through `deliverQoS`, the packet's, lowered to the client's
 * subscription on that exact topic as aedes does; otherwise (a queued message of a
 * persistent session) the packet's own.
 */
export function countOut(c: MqttConn, packet: PacketLike): void {
  const topic = packet.topic;
  if (isSysTopic(topic)) return;
  const ctx = c.ctx;
  if (c.client.closed) {
    ctx.dropped.value++;
    return;
  }
  let q = 0;
  if (c.mode !== MODE_QOS0) {
    q = qosIndex(packet.qos);
    if (c.mode === MODE_QOS && q > 0) {
      const sub = c.client.subscriptions[topic];
      if (sub !== undefined && (sub.qos ?? 0) < q) q = qosIndex(sub.qos);
    }
  }
  const n = payloadLength(packet.payload);
  const g = c.g!;
  g.msgOut.value++;
  g.bytesOut.value += n;
  observe(g.sizeOut, n);
  if (ctx.recorder.otelPerMessage) recordSize(c, 'out', n);
  ctx.qosOut[q]!.value++;
  if (q === 1) c.inflight1++;
  else if (q === 2) c.inflight2++;
  c.last = ctx.clock.now;
}

/** A PUBACK (QoS 1) or PUBCOMP (QoS 2) from the client ends one in-flight delivery. */
export function countAck(c: MqttConn, cmd: unknown): void {
  if (cmd === 'puback') {
    if (c.inflight1 > 0) c.inflight1--;
  } else if (cmd === 'pubcomp') {
    if (c.inflight2 > 0) c.inflight2--;
  }
}

function qosIndex(qos: unknown): 0 | 1 | 2 {
  return qos === 1 ? 1 : qos === 2 ? 2 : 0;
}

function recordSize(c: MqttConn, direction: 'in' | 'out', n: number): void {
  const g = c.g!;
  const s = direction === 'in' ? g.sizeIn : g.sizeOut;
  c.ctx.recorder.family('messageSize').otel?.record(n, s.attrs);
}
