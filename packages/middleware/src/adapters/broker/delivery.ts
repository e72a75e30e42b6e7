import { readOptions, TRANSPORT_RE } from '../../internal/options.js';
import type { Recorder } from '../../internal/recorder.js';
import { optString } from '../../internal/validate.js';
import { internalsOf, type RealtimeMetrics } from '../../metrics.js';
import { keyOption, stampTime, stampTrace } from './envelope.js';
import { observeLag } from './lag.js';
import type { BrokerTracer, BrokerTracing } from './tracing.js';
import { tracerOption } from './tracing.js';

/** Options of {@link deliveries}. */
export interface DeliveriesOptions {
  /** `transport` label of the recipients' sockets. Default `websocket`. */
  transport?: string;
  /** `messaging.system` of the `deliver` spans, e.g. `redis`. Default: none. */
  broker?: string;
  /** Envelope field read for the stamp. Default `_tw` (as `stamp()`). */
  key?: string;
  /** Message tracing (see `brokerTracing`); off when absent. */
  tracing?: BrokerTracing;
}

/** A socket as {@link Deliveries.fanOut} sees it: written unless `readyState` says not OPEN. */
export interface SocketLike {
  readonly readyState?: number;
}

/** What {@link deliveries} returns: the writing side of a fan-out. */
export interface Deliveries {
  /**
   * Records that `message` was written to `recipients` sockets just now: when it carries a
   * stamp, `delivery_lag_seconds{transport}` observes its lag `recipients` times (and a
   * `deliver` span is recorded for a traced message). Unstamped messages are not observed.
   * Never throws.
   * @param message the decoded message (the object `stamp()` was given).
   */
  delivered(message: unknown, recipients: number): void;
  /**
   * Writes `message` to every socket of `sockets` whose `readyState` is OPEN (1) or absent,
   * through `send` (e.g. `(ws) => ws.send(raw)`), then records the writes as
   * {@link Deliveries.delivered} does and observes `broadcast_fanout{transport}` (also for
   * an unstamped message). An error thrown by `send` is the application's: the writes done
   * so far are recorded and the error goes on unchanged.
   * @returns the number of sockets written.
   */
  fanOut<S extends SocketLike>(
    message: unknown,
    sockets: Iterable<S>,
    send: (socket: S) => void,
  ): number;
}

/** ws `WebSocket.OPEN`. */
const OPEN = 1;

class DeliveryRecorder implements Deliveries {
  private readonly recorder: Recorder;
  private readonly transport: string;
  private readonly broker: string | undefined;
  private readonly key: string;
  private readonly tracer: BrokerTracer | undefined;

  constructor(
    recorder: Recorder,
    transport: string,
    broker: string | undefined,
    key: string,
    tracer: BrokerTracer | undefined,
  ) {
    this.recorder = recorder;
    this.transport = transport;
    this.broker = broker;
    this.key = key;
    this.tracer = tracer;
  }

  delivered(message: unknown, recipients: number): void {
    this.record(message, recipients, -1);
  }

  fanOut<S extends SocketLike>(
    message: unknown,
    sockets: Iterable<S>,
    send: (socket: S) => void,
  ): number {
    const startMs = this.tracer !== undefined ? Date.now() : -1;
    let n = 0;
    try {
      for (const socket of sockets) {
        const state = socket?.readyState;
        if (typeof state === 'number' && state !== OPEN) continue;
        send(socket);
        n++;
      }
    } finally {
      try {
        this.recorder.observe('broadcastFanout', [this.transport], n);
      } catch (err) {
        this.recorder.error('broker.fanout', err);
      }
      this.record(message, n, startMs);
    }
    return n;
  }

  private record(message: unknown, recipients: number, startMs: number): void {
    try {
      if (typeof recipients !== 'number' || !(recipients > 0)) return;
      const t = stampTime(message, this.key);
      if (t < 0) return;
      const now = Date.now();
      observeLag(this.recorder, this.transport, t, now, Math.floor(recipients));
      if (this.tracer !== undefined) {
        const tp = stampTrace(message, this.key);
        if (tp !== undefined) {
          this.tracer.deliver(tp, {
            transport: this.transport,
            broker: this.broker,
            recipients,
            startMs: startMs < 0 ? now : startMs,
          });
        }
      }
    } catch (err) {
      this.recorder.error('broker.delivery', err);
    }
  }
}

/**
 * The writing side of a broker fan-out the application does itself (Redis pub/sub to `ws`
 * clients, an SSE hub): measures `delivery_lag_seconds{transport}` from the stamp `stamp()`
 * set at publish to each socket write, and the fan-out's recipients. Nothing is patched, so
 * there is nothing to detach.
 *
 * @example
 * const out = deliveries(metrics, { transport: 'websocket' });
 * sub.on('message', (_channel, raw) => {
 *   out.fanOut(JSON.parse(raw), wss.clients, (ws) => ws.send(raw));
 * });
 * @throws {TidewatchConfigError} naming `metrics`, `transport`, `broker`, `key` or `tracing`.
 */
export function deliveries(metrics: RealtimeMetrics, options: DeliveriesOptions = {}): Deliveries {
  const internals = internalsOf(metrics);
  const opts = readOptions(options, ['transport', 'broker', 'key', 'tracing']);
  const transport = optString('transport', opts.transport, TRANSPORT_RE) ?? 'websocket';
  const broker = optString('broker', opts.broker, TRANSPORT_RE);
  const key = keyOption('key', opts.key);
  const tracer = tracerOption('tracing', opts.tracing);
  const recorder = internals.recorder;
  // Present from the start, so a dashboard shows 0 rather than nothing.
  recorder.series('deliveryLag', [transport]);
  return new DeliveryRecorder(recorder, transport, broker, key, tracer);
}
