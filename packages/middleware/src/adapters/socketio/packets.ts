import { type HistogramSeries, observe } from '../../internal/family.js';
import { groupFor } from '../../internal/transport.js';
import {
  type BinaryState,
  connectRejected,
  connectStarted,
  ctxFor,
  type EngineConn,
  forEachSocket,
  type NsConn,
  type SioState,
} from './state.js';

/** One message size into the histogram (and OpenTelemetry when an SDK is installed). */
function observeSize(st: SioState, s: HistogramSeries, n: number): void {
  observe(s, n);
  if (st.recorder.otelPerMessage) st.recorder.family('messageSize').otel?.record(n, s.attrs);
}

/** Byte length of a binary packet body (Buffer, ArrayBuffer, typed array, Blob). */
export function binLength(data: any): number {
  const n = data.byteLength;
  if (typeof n === 'number') return n;
  return typeof data.size === 'number' ? data.size : 0;
}

/** The namespace written at `pos` of an encoded packet (`/chat,` ...), `/` when none. */
export function namespaceAt(data: string, pos: number): string {
  if (data.charCodeAt(pos) !== 47) return '/';
  const end = data.indexOf(',', pos);
  return end === -1 ? data.slice(pos) : data.slice(pos, end);
}

/** The tracked socket a packet belongs to, compared in place (no substring per packet). */
function socketAt(c: EngineConn, data: string, pos: number): NsConn | null {
  if (data.charCodeAt(pos) !== 47) return c.root;
  const others = c.others;
  if (others === null) return null;
  for (let i = 0; i < others.length; i++) {
    const s = others[i]!;
    const name = s.name;
    if (data.startsWith(name, pos) && data.charCodeAt(pos + name.length) === 44) return s;
  }
  return null;
}

/**
 * One engine.io packet in (`packet`) or out (`packetCreate`). Socket.IO packets travel as
 * engine.io `message` packets encoded by socket.io-parser: the first character is the
 * type, so data messages (EVENT 2, ACK 3, BINARY_EVENT 5, BINARY_ACK 6) are told from
 * CONNECT/DISCONNECT/CONNECT_ERROR without decoding; the binary parts of a BINARY_* packet
 * follow as separate binary engine.io packets and add to its bytes and size. Bytes are
 * those socket.io-parser produced (UTF-8 for text), before engine.io framing.
 */
export function onPacket(c: EngineConn, packet: any, inbound: boolean): void {
  const type = packet?.type;
  if (type === 'message') {
    const data = packet.data;
    if (typeof data === 'string') {
      const kind = data.charCodeAt(0);
      if (kind === 50 || kind === 51) dataPacket(c, data, 1, 0, inbound);
      else if (kind === 53 || kind === 54) {
        let pos = 1;
        let att = 0;
        let ch = data.charCodeAt(pos);
        while (ch >= 48 && ch <= 57) {
          att = att * 10 + ch - 48;
          ch = data.charCodeAt(++pos);
        }
        dataPacket(c, data, pos + 1, att, inbound);
      } else if (kind === 48) {
        if (inbound) connectStarted(c, namespaceAt(data, 1));
      } else if (kind === 52 && !inbound) {
        connectRejected(c, namespaceAt(data, 1));
      }
    } else if (data !== undefined && data !== null) {
      binaryPacket(c, binLength(data), inbound);
    }
  } else if (type === 'ping') {
    if (!inbound && c.pingAt === 0) c.pingAt = performance.now();
  } else if (type === 'pong') {
    if (inbound && c.pingAt !== 0) {
      const st = c.st;
      const t = c.tctx.transport;
      st.recorder.observe('pingRtt', [t], (performance.now() - c.pingAt) / 1000);
      st.recorder.inc('heartbeats', [t, 'pong']);
      c.pingAt = 0;
    }
  }
}

function dataPacket(c: EngineConn, data: string, pos: number, att: number, inbound: boolean) {
  const st = c.st;
  const s = socketAt(c, data, pos);
  const g = s !== null ? s.g : groupFor(c.tctx, st.labelOf(namespaceAt(data, pos)), c.clientType);
  const n = Buffer.byteLength(data);
  if (inbound) {
    g.msgIn.value++;
    g.bytesIn.value += n;
    if (att > 0) {
      const b = binaryState(c);
      b.inLeft = att;
      b.inBytes = n;
      b.inG = g;
    } else observeSize(st, g.sizeIn, n);
  } else {
    g.msgOut.value++;
    g.bytesOut.value += n;
    if (st.depth > 0) st.fanout++;
    if (att > 0) {
      const b = binaryState(c);
      b.outLeft = att;
      b.outBytes = n;
      b.outG = g;
    } else observeSize(st, g.sizeOut, n);
  }
  if (s !== null) s.last = st.clock.now;
}

/** Attachment bookkeeping, allocated on a connection's first binary packet only. */
function binaryState(c: EngineConn): BinaryState {
  if (c.bin === null) {
    c.bin = { inLeft: 0, inBytes: 0, inG: null, outLeft: 0, outBytes: 0, outG: null };
  }
  return c.bin;
}

function binaryPacket(c: EngineConn, n: number, inbound: boolean): void {
  const st = c.st;
  const b = c.bin;
  if (b !== null && inbound && b.inLeft > 0 && b.inG !== null) {
    const g = b.inG;
    g.bytesIn.value += n;
    b.inBytes += n;
    if (--b.inLeft === 0) {
      observeSize(st, g.sizeIn, b.inBytes);
      b.inG = null;
    }
  } else if (b !== null && !inbound && b.outLeft > 0 && b.outG !== null) {
    const g = b.outG;
    g.bytesOut.value += n;
    b.outBytes += n;
    if (--b.outLeft === 0) {
      observeSize(st, g.sizeOut, b.outBytes);
      b.outG = null;
    }
  } else {
    // A whole packet in binary: a custom parser (e.g. msgpack). Its type and namespace are
    // not readable without decoding, so it counts as one data message of the first socket.
    const s = c.root ?? c.others?.[0] ?? null;
    const g = s !== null ? s.g : groupFor(c.tctx, st.labelOf('/'), c.clientType);
    if (inbound) {
      g.msgIn.value++;
      g.bytesIn.value += n;
      observeSize(st, g.sizeIn, n);
    } else {
      g.msgOut.value++;
      g.bytesOut.value += n;
      if (st.depth > 0) st.fanout++;
      observeSize(st, g.sizeOut, n);
    }
    if (s !== null) s.last = st.clock.now;
  }
}

/** The connection switched transport (engine.io `upgrade`): counts it and moves its series. */
export function onUpgrade(c: EngineConn, transport: any): void {
  const from = c.tctx;
  const to = ctxFor(c.st, transport?.name ?? c.conn.transport?.name);
  if (to === from) return;
  c.tctx = to;
  c.st.recorder.inc('transportUpgrades', [from.transport, to.transport]);
  // Series resolved once per connection, again when it moves: the counters and the
  // gauge follow the transport the connection is on now.
  forEachSocket(c, (s) => {
    s.g = groupFor(to, s.label, c.clientType);
  });
}

/**
 * Bytes queued for an engine.io connection: packets in its write buffer (held until the
 * next poll, or while the WebSocket is busy) plus what ws has not handed to the kernel.
 */
export function bufferedBytes(conn: any): number {
  let b = 0;
  const wb = conn.writeBuffer;
  if (Array.isArray(wb)) {
    for (const p of wb) {
      const d = p?.data;
      if (typeof d === 'string') b += Buffer.byteLength(d);
      else if (d !== undefined && d !== null) b += binLength(d);
    }
  }
  const t = conn.transport;
  if (t?.name === 'websocket') {
    const a = t.socket?.bufferedAmount;
    if (typeof a === 'number') b += a;
  }
  return b;
}
