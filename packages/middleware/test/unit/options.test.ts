import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createRealtimeMetrics, TidewatchConfigError } from '../../src/index.js';
import { instrumentWs } from '../../src/ws.js';

const internals = (m: object) =>
  (m as Record<symbol, { recorder: { otelPerMessage: boolean } }>)[
    Symbol.for('tidewatch.internals')
  ]!;

describe('createRealtimeMetrics options', () => {
  it.each([
    [{ prefix: '9bad' }, 'prefix'],
    [{ prefix: 42 }, 'prefix'],
    [{ idleAfterMs: 0 }, 'idleAfterMs'],
    [{ idleAfterMs: 1.5 }, 'idleAfterMs'],
    [{ seriesCap: -1 }, 'seriesCap'],
    [{ seriesCap: { messages: 0 } }, 'seriesCap.messages'],
    [{ seriesCap: { nope: 3 } }, 'seriesCap.nope'],
    // The cap counts exposed series: a connection_duration label set alone is 18 of them,
    // and its overflow keeps room for one label set per close reason (11 x 18).
    [{ seriesCap: 215 }, 'seriesCap'],
    [{ seriesCap: { default: 100 } }, 'seriesCap.default'],
    [{ seriesCap: { default: 2000, connectionDuration: 215 } }, 'seriesCap.connectionDuration'],
    [{ seriesCap: { messages: 2 } }, 'seriesCap.messages'],
    [{ endpoint: async () => 'chat' }, 'endpoint'],
    [{ clientType: async () => 'web' }, 'clientType'],
    [{ endpoint: 5 }, 'endpoint'],
    [{ clientType: 'web' }, 'clientType'],
    [{ registry: {} }, 'registry'],
    [{ meterProvider: {} }, 'meterProvider'],
    [{ onError: true }, 'onError'],
    [{ idleAfterMS: 10 }, 'idleAfterMS'],
  ])('%j throws naming %s', (opts, option) => {
    let err: unknown;
    try {
      createRealtimeMetrics({ registry: new Registry(), ...(opts as object) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TidewatchConfigError);
    expect((err as TidewatchConfigError).option).toBe(option);
    expect((err as Error).message).toContain(`option "${option}"`);
    expect((err as TidewatchConfigError).code).toBe('TW_ERR_INVALID_OPTION');
  });

  it('the smallest caps that hold every metric are accepted', () => {
    expect(() => createRealtimeMetrics({ seriesCap: 306 })).not.toThrow();
    expect(() => createRealtimeMetrics({ seriesCap: { default: 306, messages: 3 } })).not.toThrow();
  });

  it('registering twice in one registry returns the same metrics, no throw', () => {
    const registry = new Registry();
    const a = createRealtimeMetrics({ registry });
    const b = createRealtimeMetrics({ registry });
    expect(b).toBe(a);
    const c = createRealtimeMetrics({ registry, prefix: 'chat_' });
    expect(c).not.toBe(a);
    expect(registry.getSingleMetric('chat_messages_total')).toBeDefined();
  });

  it("a name taken by someone else's metric throws TW_ERR_NAME_CONFLICT", () => {
    const registry = new Registry();
    new Counter({ name: 'realtime_messages_total', help: 'theirs', registers: [registry] });
    expect(() => createRealtimeMetrics({ registry })).toThrow(
      expect.objectContaining({ code: 'TW_ERR_NAME_CONFLICT', option: 'prefix' }),
    );
  });

  it('records per-message OpenTelemetry histograms only with a real SDK', () => {
    expect(internals(createRealtimeMetrics()).recorder.otelPerMessage).toBe(false);
    const provider = new MeterProvider();
    expect(
      internals(createRealtimeMetrics({ meterProvider: provider })).recorder.otelPerMessage,
    ).toBe(true);
  });
});

describe('instrumentWs options', () => {
  const wss = () => new WebSocketServer({ noServer: true });
  it.each([
    [{ heartbeat: { intervalMs: 1 } }, 'heartbeat.intervalMs'],
    [{ heartbeat: { missedPongs: 0 } }, 'heartbeat.missedPongs'],
    [{ heartbeat: { interval: 5 } }, 'heartbeat.interval'],
    [{ slowConsumerBytes: -1 }, 'slowConsumerBytes'],
    [{ maxConnections: 0 }, 'maxConnections'],
    [{ closeCodes: { 4001: 'banned' } }, 'closeCodes.4001'],
    [{ transport: 'Web Socket' }, 'transport'],
    [{ server: {} }, 'server'],
    [{ endpoint: null }, 'endpoint'],
    [{ endpoint: async () => 'chat' }, 'endpoint'],
    [{ clientType: async function* () {} }, 'clientType'],
  ])('%j throws naming %s', (opts, option) => {
    expect(() => instrumentWs(wss(), createRealtimeMetrics(), opts as never)).toThrow(
      expect.objectContaining({ option }),
    );
  });

  it('rejects things that are not a server or not our metrics', () => {
    expect(() => instrumentWs({} as never, createRealtimeMetrics())).toThrow(/option "wss"/);
    expect(() => instrumentWs(wss(), {} as never)).toThrow(/option "metrics"/);
  });
});
