/**
 * RealtimeInstrumentation through OpenTelemetry's own registerInstrumentations, with the
 * user's MeterProvider and tracer provider: the ws server is made after registration, the counts come out of the
 * SDK's reader exactly.
 */
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { RealtimeInstrumentation } from '../../src/otel.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const reader = new TestReader();
const meterProvider = new MeterProvider({ readers: [reader] });
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(spans)],
});
const instrumentation = new RealtimeInstrumentation();
const cleanup: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  await meterProvider.shutdown();
});

async function sumOf(name: string, attrs: Record<string, string>): Promise<number> {
  const { resourceMetrics } = await reader.collect();
  let total = 0;
  for (const sm of resourceMetrics.scopeMetrics)
    for (const m of sm.metrics)
      if (m.descriptor.name === name)
        for (const p of m.dataPoints)
          if (Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))
            total += p.value as number;
  return total;
}

describe('RealtimeInstrumentation', () => {
  it('implements the Instrumentation shape and enables only when registered', () => {
    expect(instrumentation.instrumentationName).toBe('@tidewatch/middleware');
    expect(instrumentation.instrumentationVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(instrumentation.getConfig().enabled).toBe(false);
    const unregister = registerInstrumentations({
      instrumentations: [instrumentation],
      meterProvider,
      tracerProvider,
    });
    cleanup.push(unregister);
    expect(instrumentation.getConfig().enabled).toBe(true);
  });

  it('counts a ws server made after registration through the given providers', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/live' });
    cleanup.push(() => new Promise((r) => wss.close(r)));
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(m)));
    await new Promise((r) => wss.once('listening', r));
    const { port } = wss.address() as { port: number };
    for (let i = 0; i < 2; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/live`);
      cleanup.push(() => ws.terminate());
      await new Promise((r) => ws.once('open', r));
      for (let j = 0; j < 3; j++) {
        const echo = new Promise((r) => ws.once('message', r));
        ws.send('x');
        await echo;
      }
    }
    expect(await sumOf('realtime.server.messages', { direction: 'in', endpoint: '/live' })).toBe(6);
    expect(await sumOf('realtime.server.connections.opened', { endpoint: '/live' })).toBe(2);
    // One handshake span per upgrade, through the tracer provider it was given.
    const handshakes = spans
      .getFinishedSpans()
      .filter((s) => s.attributes['realtime.endpoint'] === '/live');
    expect(handshakes.map((s) => s.attributes['realtime.handshake.outcome'])).toEqual([
      'success',
      'success',
    ]);
  });

  it('rejects an unknown option by name', () => {
    expect(() => new RealtimeInstrumentation({ prefx: 'a_' } as never)).toThrow(/prefx/);
  });
});
