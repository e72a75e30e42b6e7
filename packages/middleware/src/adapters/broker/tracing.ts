import {
  context,
  type Link,
  SpanKind,
  TraceFlags,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { readOptions } from '../../internal/options.js';
import { fail } from '../../internal/validate.js';
import { VERSION } from '../../internal/version.js';

// Message tracing across a broker: one PRODUCER span where the message is stamped, one
// CONSUMER span on every node that delivers it, joined by a span link. One span per
// message spanning all its deliveries would stay open for as long as the slowest node
// takes and would make every delivery a child of a publisher it never called.

/** Options of {@link brokerTracing}. */
export interface BrokerTracingOptions {
  /** Where spans go. Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /**
   * Fraction of stamped messages traced, from 0 to 1; decided once, at `stamp()`, and
   * carried in the envelope, so every node traces the same messages. Default 1.
   */
  sampleRatio?: number;
}

const kTracing = Symbol.for('tidewatch.broker.tracing');

/**
 * Message tracing settings made by {@link brokerTracing}; pass the same object to
 * `stamp()` and to the delivering side (`deliveries`, `instrumentSocketIo`'s `delivery`).
 * Opaque: its fields are internal.
 */
export interface BrokerTracing {
  readonly [kTracing]: BrokerTracer;
}

/** What a traceparent says: the publish span's context. */
interface Parent {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}

const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/** Parses a W3C traceparent (version 00); undefined when malformed or all-zero. */
export function parseTraceparent(tp: unknown): Parent | undefined {
  if (typeof tp !== 'string' || tp.length !== 55) return undefined;
  const m = TRACEPARENT_RE.exec(tp);
  if (m === null || m[1] === ZERO_TRACE || m[2] === ZERO_SPAN) return undefined;
  return { traceId: m[1]!, spanId: m[2]!, traceFlags: Number.parseInt(m[3]!, 16) };
}

/** What a delivering node records on its CONSUMER span. */
export interface DeliveryFacts {
  /** `realtime.transport` attribute: the transport the recipients are on. */
  readonly transport: string;
  /** `messaging.system`: the broker the message crossed (undefined: a local publish). */
  readonly broker: string | undefined;
  /** Sockets written. */
  readonly recipients: number;
  /** Epoch ms when delivery began (the span's start). */
  readonly startMs: number;
}

/**
 * The tracer behind a {@link BrokerTracing}. The traceparent is written and read here (not
 * through the global propagator), so tracing works without one being registered.
 */
export class BrokerTracer {
  private readonly provider: TracerProvider | undefined;
  private tracer: Tracer | undefined;
  readonly sampleRatio: number;

  constructor(provider: TracerProvider | undefined, sampleRatio: number) {
    this.provider = provider;
    this.sampleRatio = sampleRatio;
  }

  private get(): Tracer {
    this.tracer ??= (this.provider ?? trace.getTracerProvider()).getTracer(
      '@tidewatch/middleware',
      VERSION,
    );
    return this.tracer;
  }

  /**
   * Decides sampling and, when sampled, records the PRODUCER span of a publish (a child of
   * the active context, so a publish inside a request continues its trace).
   * @returns the traceparent to carry in the envelope, undefined when not sampled.
   */
  publish(broker: string | undefined): string | undefined {
    if (this.sampleRatio < 1 && !(Math.random() < this.sampleRatio)) return undefined;
    const span = this.get().startSpan(
      'publish',
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.operation.type': 'send',
          ...(broker === undefined ? {} : { 'messaging.system': broker }),
        },
      },
      context.active(),
    );
    const sc = span.spanContext();
    span.end();
    if (!trace.isSpanContextValid(sc)) return undefined;
    // Sampled on the wire: the publisher chose to trace this message, whatever its SDK's
    // sampler did with the span itself.
    return `00-${sc.traceId}-${sc.spanId}-0${TraceFlags.SAMPLED}`;
  }

  /**
   * Records the CONSUMER span of one node's delivery of a traced message: a new trace,
   * linked to the publish span named by `traceparent`. Does nothing for a malformed one.
   */
  deliver(traceparent: unknown, facts: DeliveryFacts): void {
    const parent = parseTraceparent(traceparent);
    if (parent === undefined) return;
    const link: Link = { context: { ...parent, isRemote: true } };
    const span = this.get().startSpan('deliver', {
      kind: SpanKind.CONSUMER,
      root: true,
      links: [link],
      startTime: facts.startMs,
      attributes: {
        'messaging.operation.type': 'process',
        'realtime.transport': facts.transport,
        'realtime.recipients': facts.recipients,
        ...(facts.broker === undefined ? {} : { 'messaging.system': facts.broker }),
      },
    });
    span.end();
  }
}

/**
 * Turns on message tracing across a broker (off by default: nothing is recorded unless
 * this object is passed). Spans: `publish` (PRODUCER, at `stamp()`, child of the active
 * context) and `deliver` (CONSUMER, one per node and message delivered to at least one
 * socket, its own trace, with a span link to the publish span; attributes
 * `realtime.transport`, `realtime.recipients`, `messaging.system`). The publish span's
 * context travels as a W3C traceparent in the message's envelope.
 *
 * @throws {TidewatchConfigError} naming `tracing.sampleRatio` (not a number from 0 to 1)
 *   or `tracing.tracerProvider` (no `getTracer`), or an unknown key.
 */
export function brokerTracing(options: BrokerTracingOptions = {}): BrokerTracing {
  const opts = readOptions(options, ['tracerProvider', 'sampleRatio'], 'tracing');
  const ratio = opts.sampleRatio ?? 1;
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
    fail('tracing.sampleRatio', 'a number from 0 to 1', ratio);
  }
  const tp = opts.tracerProvider as TracerProvider | undefined;
  if (tp !== undefined && typeof (tp as { getTracer?: unknown })?.getTracer !== 'function') {
    fail('tracing.tracerProvider', 'an OpenTelemetry TracerProvider', tp);
  }
  return Object.freeze({ [kTracing]: new BrokerTracer(tp, ratio) });
}

/**
 * The tracer of a `tracing` option (undefined when absent).
 * @throws {TidewatchConfigError} naming `option` when it is not made by {@link brokerTracing}.
 */
export function tracerOption(option: string, value: unknown): BrokerTracer | undefined {
  if (value === undefined) return undefined;
  const t = (value as Partial<BrokerTracing> | null)?.[kTracing];
  // Duck-typed: the ESM and CommonJS builds in one process each have their own class.
  if (typeof t?.publish !== 'function' || typeof t.deliver !== 'function') {
    fail(option, 'the object returned by brokerTracing()', value);
  }
  return t;
}
