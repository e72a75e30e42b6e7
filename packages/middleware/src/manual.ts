import {
  CLOSE_REASONS,
  type CloseReason,
  HANDSHAKE_OUTCOMES,
  type HandshakeOutcome,
} from '@tidewatch/conventions';
import { reasonForCode } from './adapters/shared/close-reason.js';
import type { CoarseClock } from './internal/clock.js';
import { labelValue, observe } from './internal/family.js';
import { TRANSPORT_RE } from './internal/options.js';
import type { Recorder } from './internal/recorder.js';
import { type Group, groupFor, recordClose, type TransportContext } from './internal/transport.js';

/** Options of `metrics.connection()`. */
export interface ConnectionOptions {
  /** `transport` label. Default `custom`. */
  transport?: string;
  /** `endpoint` label: a bounded name. Default `default`. */
  endpoint?: string;
  /** `client_type` label. Default `unknown`. */
  clientType?: string;
  /** Bytes queued for sending, read at scrape for `send_buffer_bytes` and `slow_consumers`. */
  bufferedAmount?: () => number;
}

/** How a connection ended, for `ConnectionHandle.close()`. */
export interface CloseOptions {
  /** A WebSocket-style close code, normalised like ws closes (1000 -> normal, ...). */
  code?: number;
  /** The normalised reason; wins over `code`. Default `normal`, or from `code`. */
  reason?: CloseReason;
  /** Who closed first. Default `client`. */
  initiator?: 'client' | 'server';
}

/**
 * One open connection of a custom transport. Every method is safe to call at any time
 * (after close they do nothing) and never throws.
 */
export interface ConnectionHandle {
  /** False once `close()` was called. */
  readonly open: boolean;
  /** Counts one data message of `bytes` payload bytes (default 0). */
  message(direction: 'in' | 'out', bytes?: number): void;
  /** Counts a message the application could not deliver (`messages_dropped_total`). */
  dropped(reason?: string): void;
  /** Counts a transport error (`errors_total{type}`). */
  error(type: string): void;
  /** Notes that a ping left; the next `pong()` measures the round trip. */
  ping(): void;
  /** Notes a pong: observes `ping_rtt_seconds` and counts a heartbeat. */
  pong(): void;
  /** Ends the connection: counts the close and its lifetime. Idempotent. */
  close(options?: CloseOptions): void;
}

/** An upgrade or connect request in progress, from `metrics.handshake()`. */
export interface HandshakeHandle {
  /** The connection opened: observes the handshake as `success` and starts the connection. */
  open(options?: Pick<ConnectionOptions, 'clientType' | 'bufferedAmount'>): ConnectionHandle;
  /** The handshake ended without a connection. Idempotent with `open()`. */
  fail(outcome: Exclude<HandshakeOutcome, 'success'>): void;
}

/** Per-transport state of the manual API. */
interface ManualContext extends TransportContext {
  readonly conns: Set<ManualConnection>;
  pending: number;
}

const SLOW_CONSUMER_BYTES = 1 << 20;

class ManualConnection implements ConnectionHandle {
  private readonly ctx: ManualContext;
  readonly g: Group;
  readonly buffered: (() => number) | undefined;
  private readonly openedAt = performance.now();
  last: number;
  private pingAt = 0;
  open = true;

  constructor(ctx: ManualContext, g: Group, buffered: (() => number) | undefined) {
    this.ctx = ctx;
    this.g = g;
    this.buffered = buffered;
    this.last = ctx.clock.now;
    ctx.conns.add(this);
    g.opened.value++;
  }

  message(direction: 'in' | 'out', bytes = 0): void {
    if (!this.open) return;
    const n = typeof bytes === 'number' && bytes > 0 ? bytes : 0;
    const g = this.g;
    const inbound = direction === 'in';
    const size = inbound ? g.sizeIn : g.sizeOut;
    if (inbound) {
      g.msgIn.value++;
      g.bytesIn.value += n;
    } else {
      g.msgOut.value++;
      g.bytesOut.value += n;
    }
    observe(size, n);
    const r = this.ctx.recorder;
    if (r.otelPerMessage) r.family('messageSize').otel?.record(n, size.attrs);
    this.last = this.ctx.clock.now;
  }

  dropped(reason = 'backpressure'): void {
    this.ctx.recorder.inc('messagesDropped', [this.ctx.transport, labelValue(reason)]);
  }

  error(type: string): void {
    this.ctx.recorder.inc('errors', [this.ctx.transport, labelValue(type)]);
  }

  ping(): void {
    if (this.open && this.pingAt === 0) this.pingAt = performance.now();
  }

  pong(): void {
    if (!this.open || this.pingAt === 0) return;
    const t = this.ctx.transport;
    this.ctx.recorder.observe('pingRtt', [t], (performance.now() - this.pingAt) / 1000);
    this.ctx.recorder.inc('heartbeats', [t, 'pong']);
    this.pingAt = 0;
  }

  close(options: CloseOptions = {}): void {
    if (!this.open) return;
    this.open = false;
    const ctx = this.ctx;
    ctx.conns.delete(this);
    try {
      const initiator = options.initiator === 'server' ? 'server' : 'client';
      let reason: CloseReason = 'normal';
      if (
        options.reason !== undefined &&
        (CLOSE_REASONS as readonly string[]).includes(options.reason)
      ) {
        reason = options.reason;
      } else if (typeof options.code === 'number') {
        reason = reasonForCode(options.code, initiator, ctx.closeCodes);
      }
      if (reason === 'ping_timeout') ctx.recorder.inc('heartbeats', [ctx.transport, 'timeout']);
      recordClose(ctx, this.g, this.openedAt, reason, initiator);
    } catch (err) {
      ctx.recorder.error('manual.close', err);
    }
  }
}

/** The manual API of one metrics instance: contexts per transport, gauges at scrape. */
export class ManualApi {
  private readonly recorder: Recorder;
  private readonly clock: CoarseClock;
  private readonly idleAfterMs: () => number;
  private readonly contexts = new Map<string, ManualContext>();
  private removeCollector: (() => void) | undefined;

  constructor(recorder: Recorder, clock: CoarseClock, idleAfterMs: () => number) {
    this.recorder = recorder;
    this.clock = clock;
    this.idleAfterMs = idleAfterMs;
  }

  private context(transport: unknown): ManualContext {
    const t = typeof transport === 'string' && TRANSPORT_RE.test(transport) ? transport : 'custom';
    let ctx = this.contexts.get(t);
    if (ctx === undefined) {
      if (this.removeCollector === undefined) {
        this.clock.acquire();
        this.removeCollector = this.recorder.addCollector(() => this.collect());
      }
      ctx = {
        recorder: this.recorder,
        clock: this.clock,
        transport: t,
        closeCodes: undefined,
        groups: new Map(),
        conns: new Set(),
        pending: 0,
      };
      this.contexts.set(t, ctx);
    }
    return ctx;
  }

  connection(options: ConnectionOptions = {}): ConnectionHandle {
    const ctx = this.context(options?.transport);
    const g = groupFor(
      ctx,
      labelValue(options.endpoint, 'default'),
      labelValue(options.clientType),
    );
    const buffered =
      typeof options.bufferedAmount === 'function' ? options.bufferedAmount : undefined;
    return new ManualConnection(ctx, g, buffered);
  }

  handshake(options: Omit<ConnectionOptions, 'bufferedAmount'> = {}): HandshakeHandle {
    const ctx = this.context(options?.transport);
    const endpoint = labelValue(options.endpoint, 'default');
    const start = performance.now();
    let done = false;
    ctx.pending++;
    const finish = (outcome: HandshakeOutcome) => {
      if (done) return false;
      done = true;
      ctx.pending--;
      this.recorder.observe(
        'handshakeDuration',
        [ctx.transport, endpoint, outcome],
        (performance.now() - start) / 1000,
      );
      return true;
    };
    return {
      open: (o = {}) => {
        finish('success');
        const g = groupFor(ctx, endpoint, labelValue(o.clientType ?? options.clientType));
        return new ManualConnection(
          ctx,
          g,
          typeof o.bufferedAmount === 'function' ? o.bufferedAmount : undefined,
        );
      },
      fail: (outcome) => {
        finish((HANDSHAKE_OUTCOMES as readonly string[]).includes(outcome) ? outcome : 'error');
      },
    };
  }

  broadcast(recipients: number, transport?: string): void {
    const ctx = this.context(transport);
    if (typeof recipients === 'number' && recipients >= 0) {
      this.recorder.observe('broadcastFanout', [ctx.transport], recipients);
    }
  }

  private collect(): void {
    const now = this.clock.tick();
    const idleAfter = this.idleAfterMs();
    const r = this.recorder;
    for (const ctx of this.contexts.values()) {
      let buffered = 0;
      let slow = 0;
      for (const c of ctx.conns) {
        if (now - c.last >= idleAfter) c.g.idle.value++;
        else c.g.active.value++;
        if (c.buffered !== undefined) {
          let b = 0;
          try {
            b = c.buffered();
          } catch (err) {
            r.error('manual.buffered_amount', err);
          }
          if (typeof b === 'number' && b > 0) {
            buffered += b;
            if (b > SLOW_CONSUMER_BYTES) slow++;
          }
        }
      }
      r.series('sendBuffer', [ctx.transport]).value += buffered;
      r.series('slowConsumers', [ctx.transport]).value += slow;
      r.series('handshakesInFlight', [ctx.transport]).value += ctx.pending;
    }
  }

  /** Stops the collector and the clock (metrics.close()): open handles leave the gauges. */
  stop(): void {
    if (this.removeCollector) {
      this.removeCollector();
      this.removeCollector = undefined;
      this.clock.release();
    }
    this.contexts.clear();
  }
}
