import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  type EchoServer,
  rawUpgrade,
  startEchoServer,
  until,
  upgradeRequest,
} from '../helpers.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

beforeAll(() => {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(async () => {
  propagation.disable();
  await provider.shutdown();
});

describe('handshake tracing', () => {
  let srv: EchoServer | undefined;
  afterAll(async () => srv?.close());

  it('continues the W3C traceparent of the upgrade request and records the outcome', async () => {
    srv = await startEchoServer({
      metrics: { tracing: { tracerProvider: provider } },
      ws: { verifyClient: (info: { req: { url?: string } }) => !info.req.url?.includes('deny') },
    });
    const ws = await connect(srv.url, { headers: { traceparent: `00-${TRACE}-${PARENT}-01` } });
    const denied = await rawUpgrade(srv.port, upgradeRequest('/ws?deny'));
    denied.socket.destroy();
    await until('two spans', () => exporter.getFinishedSpans().length === 2);
    const [ok, rejected] = [...exporter.getFinishedSpans()]
      .sort((a, b) =>
        String(a.attributes['realtime.handshake.outcome']).localeCompare(
          String(b.attributes['realtime.handshake.outcome']),
        ),
      )
      .reverse();
    expect(ok!.name).toBe('websocket handshake');
    expect(ok!.spanContext().traceId).toBe(TRACE);
    expect(ok!.parentSpanContext?.spanId).toBe(PARENT);
    expect(ok!.attributes['realtime.handshake.outcome']).toBe('success');
    expect(ok!.status.code).toBe(0);
    expect(rejected!.attributes['realtime.handshake.outcome']).toBe('rejected');
    expect(rejected!.status.code).toBe(2);
    expect(rejected!.spanContext().traceId).not.toBe(TRACE); // no traceparent: a new trace
    ws.close();
  });

  it('creates no spans when tracing is off (the default)', async () => {
    exporter.reset();
    // Registered globally, so a default that traced through the global provider would show.
    trace.setGlobalTracerProvider(provider);
    const off = await startEchoServer();
    const ws = await connect(off.url, { headers: { traceparent: `00-${TRACE}-${PARENT}-01` } });
    ws.close();
    await off.close();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    trace.disable();
  });

  it('`tracing: true` uses the global tracer provider', async () => {
    exporter.reset();
    trace.setGlobalTracerProvider(provider);
    const on = await startEchoServer({ metrics: { tracing: true } });
    const ws = await connect(on.url);
    await until('a span', () => exporter.getFinishedSpans().length === 1);
    ws.close();
    await on.close();
    trace.disable();
  });
});
