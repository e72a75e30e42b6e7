import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  brokerErrorType,
  brokerTracing,
  DEFAULT_STAMP_KEY,
  deliveries,
  instrumentRedisPubSub,
  readStamp,
  stamp,
} from '../../src/broker.js';
import { createRealtimeMetrics, TidewatchConfigError } from '../../src/index.js';

const metricsOf = () => createRealtimeMetrics({ registry: new Registry() });
const lagOf = async (m: ReturnType<typeof metricsOf>, transport = 'websocket') => {
  const text = await m.registry.metrics();
  const count = new RegExp(
    `realtime_delivery_lag_seconds_count\\{transport="${transport}"\\} (\\S+)`,
  );
  const sum = new RegExp(`realtime_delivery_lag_seconds_sum\\{transport="${transport}"\\} (\\S+)`);
  return { count: Number(count.exec(text)?.[1]), sum: Number(sum.exec(text)?.[1]) };
};

describe('stamp / readStamp', () => {
  it('sets the publish time in the envelope field and returns the same object', () => {
    const msg = { text: 'hi' };
    const before = Date.now();
    expect(stamp(msg)).toBe(msg);
    const env = readStamp(msg)!;
    expect(DEFAULT_STAMP_KEY).toBe('_tw');
    expect(env.t).toBeGreaterThanOrEqual(before);
    expect(env.t).toBeLessThanOrEqual(Date.now());
    expect(env.tp).toBeUndefined();
    expect(readStamp(JSON.parse(JSON.stringify(msg)))).toEqual(env);
    const custom = stamp({}, { key: 'meta' });
    expect(readStamp(custom)).toBeUndefined();
    expect(readStamp(custom, 'meta')?.t).toBeTypeOf('number');
  });

  it('leaves what is not a plain object alone and reads nothing from it', () => {
    expect(stamp('text')).toBe('text');
    const arr: unknown[] = [];
    expect(stamp(arr)).toEqual([]);
    expect(stamp(null)).toBeNull();
    for (const bad of [null, 'x', 1, {}, { _tw: 1 }, { _tw: { t: 'x' } }, { _tw: { t: -1 } }]) {
      expect(readStamp(bad)).toBeUndefined();
    }
  });

  it('refuses bad options naming them', () => {
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e as TidewatchConfigError;
      }
      throw new Error('did not throw');
    };
    expect(err(() => stamp({}, { key: '' })).option).toBe('key');
    expect(err(() => stamp({}, { tracing: {} as never })).option).toBe('tracing');
    expect(err(() => brokerTracing({ sampleRatio: 2 })).option).toBe('tracing.sampleRatio');
    expect(err(() => brokerTracing({ tracerProvider: {} as never })).option).toBe(
      'tracing.tracerProvider',
    );
    expect(err(() => brokerTracing({ rate: 1 } as never)).option).toBe('tracing.rate');
    const m = metricsOf();
    expect(err(() => deliveries(m, { transport: 'Web Socket' })).option).toBe('transport');
    expect(err(() => deliveries(m, { key: 5 as never })).option).toBe('key');
    expect(err(() => instrumentRedisPubSub({} as never, m)).option).toBe('subscriber');
    expect(err(() => instrumentRedisPubSub(emitter(), m, { publisher: {} as never })).option).toBe(
      'publisher',
    );
    expect(err(() => deliveries(m, { key: 5 as never }))).toBeInstanceOf(TidewatchConfigError);
  });
});

/** A minimal EventEmitter-shaped client. */
function emitter() {
  const listeners = new Map<string, Array<(...a: unknown[]) => void>>();
  return {
    emit(event: string, ...args: unknown[]) {
      for (const l of listeners.get(event) ?? []) l(...args);
      return (listeners.get(event)?.length ?? 0) > 0;
    },
    on(event: string, l: (...a: unknown[]) => void) {
      listeners.set(event, [...(listeners.get(event) ?? []), l]);
      return this;
    },
    removeListener() {
      return this;
    },
  };
}

describe('deliveries', () => {
  it('observes one lag per recipient of stamped messages only, and never throws', async () => {
    const m = metricsOf();
    const out = deliveries(m);
    out.delivered(stamp({}), 3);
    out.delivered({ plain: true }, 5);
    out.delivered(stamp({}), 0);
    out.delivered(undefined, 2);
    out.delivered(stamp({}), Number.NaN);
    expect((await lagOf(m)).count).toBe(3);
  });

  it('records a publisher clock ahead of this host as 0 lag, not a negative one', async () => {
    const m = metricsOf();
    deliveries(m).delivered({ _tw: { t: Date.now() + 60_000 } }, 2);
    expect(await lagOf(m)).toEqual({ count: 2, sum: 0 });
  });

  it('fanOut writes OPEN sockets only, and an error of send reaches the caller', async () => {
    const m = metricsOf();
    const out = deliveries(m, { transport: 'sse' });
    const sent: number[] = [];
    const sockets = [{ readyState: 1 }, { readyState: 3 }, {}, { readyState: 1 }];
    expect(out.fanOut(stamp({}), sockets, (s) => sent.push(sockets.indexOf(s)))).toBe(3);
    expect(sent).toEqual([0, 2, 3]);
    const boom = new Error('host send failed');
    expect(() =>
      out.fanOut(stamp({}), sockets, (s) => {
        if (s === sockets[2]) throw boom;
      }),
    ).toThrow(boom);
    // The write that happened before the failure is recorded; the host error is not ours.
    expect((await lagOf(m, 'sse')).count).toBe(3 + 1);
    expect(await m.registry.metrics()).not.toMatch(
      /realtime_instrumentation_errors_total\{[^}]*\} [1-9]/,
    );
  });
});

describe('broker tracing', () => {
  it('records nothing when off, and a producer span plus a linked consumer span when on', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const m = metricsOf();
    deliveries(m).delivered(stamp({}), 2);
    expect(exporter.getFinishedSpans()).toEqual([]);

    const tracing = brokerTracing({ tracerProvider: provider });
    const msg = stamp({}, { tracing });
    expect(readStamp(msg)!.tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // A node without tracing records nothing even for a traced message.
    deliveries(m).delivered(msg, 2);
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['publish']);
    deliveries(m, { tracing }).delivered(JSON.parse(JSON.stringify(msg)), 2);
    const [publish, deliver] = exporter.getFinishedSpans();
    expect(deliver!.name).toBe('deliver');
    expect(deliver!.links).toHaveLength(1);
    expect(deliver!.links[0]!.context.spanId).toBe(publish!.spanContext().spanId);
    expect(deliver!.links[0]!.context.traceId).toBe(publish!.spanContext().traceId);

    const sampledOut = stamp(
      {},
      { tracing: brokerTracing({ tracerProvider: provider, sampleRatio: 0 }) },
    );
    expect(readStamp(sampledOut)!.tp).toBeUndefined();
    // A malformed traceparent is ignored.
    deliveries(m, { tracing }).delivered({ _tw: { t: Date.now(), tp: '00-zz' } }, 1);
    expect(exporter.getFinishedSpans()).toHaveLength(2);
  });
});

describe('brokerErrorType', () => {
  it('normalises connection losses, retries given up, and codes', () => {
    expect(brokerErrorType(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(
      'connection',
    );
    expect(brokerErrorType(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(
      'connection',
    );
    const retries = new Error('x');
    retries.name = 'MaxRetriesPerRequestError';
    expect(brokerErrorType(retries)).toBe('timeout');
    expect(brokerErrorType(Object.assign(new Error('x'), { code: 'NOAUTH' }))).toBe('noauth');
    expect(brokerErrorType(new Error('x'))).toBe('error');
    expect(brokerErrorType(undefined)).toBe('error');
  });
});
