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
  /**
   * Open connections (CONNACK 0 sent, socket not closed yet), in no particular order: an
   * array, each connection knowing its index (`i`), costs a third of a Set entry.
   */
  readonly conns: MqttConn[];
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
const MODE_OTHER = -1;
const MODE_QOS0 = 0;
const MODE_QOS = 1;

/**
 * The innermost delivery wrapper running (whose connection, and which function): set around
 * the synchronous call of a client's own delivery function, whose forward hook reads it.
 * One pair for the process rather than a field per connection; a connection whose wrapper
 * is not the innermost one reads `MODE_OTHER`, as it would with no wrapper running.
 */
let modeConn: MqttConn | null = null;
let mode = MODE_OTHER;

/** A released connection: its wrappers, still referenced by the broker, pass straight through. */
function released(c: MqttConn): boolean {
  return (c.client as unknown as Record<symbol, MqttConn | undefined>)[kConn] !== c;
}

/**
 * Per-connection state: a handful of numbers and references, and nothing per connection
 * that can be shared or derived (every byte here is paid once per idle client).
 */
export interface MqttConn {
  readonly client: AedesClientLike;
  readonly ctx: MqttContext;
  /** `performance.now()` when the CONNECT arrived; once open, when the connection opened. */
  t: number;
  phase: typeof HANDSHAKE | typeof OPEN | typeof DONE;
  /** Index in `ctx.conns` while open, else -1. */
  i: number;
  /**
   * The connection's labels until it opens (held by handshakes only), then the series of
   * its (endpoint, client type) group: one field where idle connections need one.
   */
  g: Group | HandshakeLabels;
  /** Coarse time of the last PUBLISH in either direction, for idle detection. */
  last: number;
  /** QoS 1 / QoS 2 deliveries not acknowledged yet (PUBACK / PUBCOMP). */
  inflight1: number;
  inflight2: number;
  /** The client's will, published on its behalf at an abrupt close: not one of its PUBLISHes. */
  will: unknown;
  /**
   * What the close will be put down to, seen on the way: a reason the server marked
   * (takeover, keep-alive timeout: a {@link CloseMark}, which wins over anything else), or else
   * the type of the first error (a string). One field: a mark makes the error irrelevant.
   */
  mark: CloseMark | string | null;
  /** The client's own delivery functions, and the wrappers installed in their place. */
  readonly o0: DeliverFn;
  readonly oQ: DeliverFn;
  w0: DeliverFn | null;
  wQ: DeliverFn | null;
}

/** A close reason the server marked on a connection (its initiator is the server). */
export interface CloseMark {
  readonly reason: CloseReason;
}

export const TAKEOVER: CloseMark = Object.freeze({ reason: 'takeover' });
export const PING_TIMEOUT: CloseMark = Object.freeze({ reason: 'ping_timeout' });

/** Marks the close reason of `c`, unless one is marked already (the first one wins). */
export function markClose(c: MqttConn, mark: CloseMark): void {
  if (typeof c.mark !== 'object' || c.mark === null) c.mark = mark;
}

/** Notes the type of an error on `c`; the first one counts, and only if no reason is marked. */
export function noteError(c: MqttConn, type: string): void {
  if (c.mark === null) c.mark = type;
}

/** The labels of a connection in its handshake. */
export interface HandshakeLabels {
  readonly endpoint: string;
  readonly clientType: string;
}

/** An open (or closed after opening) connection: `g` is its group. */
export interface OpenMqttConn extends MqttConn {
  g: Group;
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
  if (c === undefined) return;
  try {
    if (c.phase === HANDSHAKE) endHandshake(c, 'aborted');
    else if (c.phase === OPEN) closeConnection(c);
  } catch (err) {
    c.ctx.recorder.error('mqtt.close', err);
  }
  release(c);
}

/**
 * Starts tracking a client whose CONNECT just arrived (or, `open`, one adopted while already
 * connected). Wraps its two delivery functions, which aedes captures into each subscription
 * it makes afterwards; listens for its stream's `'close'`. A malformed packet is known from the
 * parser itself when its error is reported ({@link parserFailed}), with no listener of its own.
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
    t: performance.now(),
    phase: HANDSHAKE,
    i: -1,
    g: { endpoint, clientType },
    last: ctx.clock.now,
    inflight1: 0,
    inflight2: 0,
    will: undefined,
    mark: null,
    o0: client.deliver0,
    oQ: client.deliverQoS,
    w0: null,
    wQ: null,
  };
  holder[kConn] = c;
  wrapDelivery(c);
  client.conn.on('close', onConnClose);
  if (open) openConnection(c);
  else ctx.pending.add(c);
  return c;
}

/*
 * The delivery wrappers are one shared function each, bound per client to its state: a bound
 * function is the smallest per-client function V8 makes (no closure context), and aedes calls
 * these with no receiver of its own (`deliverFunc(packet, cb)`) or with the client, which is
 * the receiver the client's functions get here.
 */
function tidewatchDeliver0(this: MqttConn, packet: PacketLike, cb: (...args: unknown[]) => void) {
  // A released connection clears its wrappers: a field read, not a lookup on the client.
  if (this.w0 === null) return this.o0.call(this.client, packet, cb);
  const prevConn = modeConn;
  const prevMode = mode;
  modeConn = this;
  mode = MODE_QOS0;
  try {
    return this.o0.call(this.client, packet, cb);
  } finally {
    modeConn = prevConn;
    mode = prevMode;
  }
}

function tidewatchDeliverQoS(this: MqttConn, packet: PacketLike, cb: (...args: unknown[]) => void) {
  if (this.wQ === null) return this.oQ.call(this.client, packet, cb);
  const prevConn = modeConn;
  const prevMode = mode;
  modeConn = this;
  mode = MODE_QOS;
  try {
    return this.oQ.call(this.client, packet, cb);
  } finally {
    modeConn = prevConn;
    mode = prevMode;
  }
}

function wrapDelivery(c: MqttConn): void {
  const client = c.client;
  if (typeof c.o0 === 'function') {
    c.w0 = tidewatchDeliver0.bind(c);
    client.deliver0 = c.w0;
  }
  if (typeof c.oQ === 'function') {
    c.wQ = tidewatchDeliverQoS.bind(c);
    client.deliverQoS = c.wQ;
  }
}

/**
 * True when the client's packet parser failed: mqtt-packet keeps the error it emits in
 * `parser.error` (until it parses again, which a failed client never does).
 */
export function parserFailed(client: AedesClientLike): boolean {
  const e = client._parser?.error;
  return e !== null && e !== undefined;
}

/** Stops tracking: removes listeners, puts the delivery functions back where still ours. */
export function release(c: MqttConn): void {
  if (released(c)) return;
  const { client, ctx } = c;
  ctx.pending.delete(c);
  removeOpen(c);
  client.conn.removeListener('close', onConnClose);
  if (c.w0 !== null && client.deliver0 === c.w0) client.deliver0 = c.o0;
  if (c.wQ !== null && client.deliverQoS === c.wQ) client.deliverQoS = c.oQ;
  // Wrappers aedes still holds (in subscriptions) see these and pass straight through.
  c.w0 = null;
  c.wQ = null;
  delete (client as unknown as Record<symbol, MqttConn | undefined>)[kConn];
}

/** Takes an open connection out of `ctx.conns`: the last one moves into its place. */
function removeOpen(c: MqttConn): void {
  const i = c.i;
  if (i < 0) return;
  c.i = -1;
  const conns = c.ctx.conns;
  const last = conns.pop()!;
  if (last !== c) {
    conns[i] = last;
    last.i = i;
  }
}

/** Ends the handshake with `outcome`; `success` opens the connection. */
export function endHandshake(c: MqttConn, outcome: HandshakeOutcome): void {
  if (c.phase !== HANDSHAKE) return;
  const ctx = c.ctx;
  ctx.pending.delete(c);
  const seconds = (performance.now() - c.t) / 1000;
  ctx.recorder.observe('handshakeDuration', [ctx.transport, c.g.endpoint, outcome], seconds);
  if (outcome === 'success') openConnection(c);
  else c.phase = DONE;
}

function openConnection(c: MqttConn): void {
  const ctx = c.ctx;
  const labels = c.g as HandshakeLabels;
  const g = groupFor(ctx, labels.endpoint, labels.clientType);
  c.g = g;
  c.phase = OPEN;
  c.t = performance.now();
  c.last = ctx.clock.now;
  c.will = c.client.will;
  c.i = ctx.conns.length;
  ctx.conns.push(c);
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
  const mark = c.mark;
  if (typeof mark === 'object' && mark !== null) {
    reason = mark.reason;
    initiator = 'server';
  } else if (client._disconnected === true) {
    reason = 'normal';
    initiator = 'client';
  } else if (typeof mark === 'string') {
    ({ reason, initiator } = reasonForErrorType(mark));
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
  recordClose(c.ctx, c.g as Group, c.t, reason, initiator);
}

/** Counts a client PUBLISH the broker accepted. */
export function countIn(c: MqttConn, packet: PacketLike): void {
  if (packet === c.will || isSysTopic(packet.topic)) return;
  const n = payloadLength(packet.payload);
  const g = c.g as Group;
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
  const m = modeConn === c ? mode : MODE_OTHER;
  if (m !== MODE_QOS0) {
    q = qosIndex(packet.qos);
    if (m === MODE_QOS && q > 0) {
      const sub = c.client.subscriptions[topic];
      if (sub !== undefined && (sub.qos ?? 0) < q) q = qosIndex(sub.qos);
    }
  }
  const n = payloadLength(packet.payload);
  const g = c.g as Group;
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
  const g = c.g as Group;
  const s = direction === 'in' ? g.sizeIn : g.sizeOut;
  c.ctx.recorder.family('messageSize').otel?.record(n, s.attrs);
}
