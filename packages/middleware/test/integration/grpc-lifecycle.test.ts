import * as grpc from '@grpc/grpc-js';
import { pollUntil } from '@tidewatch/test-utils';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentGrpc } from '../../src/grpc.js';
import { createRealtimeMetrics } from '../../src/index.js';
import {
  FEED_SERVICE,
  firstMessages,
  type GrpcRig,
  PATHS,
  readAll,
  startGrpcRig,
  statusOf,
} from '../fixtures/grpc-service.js';
import { type Family, value } from '../helpers.js';

const rigs: GrpcRig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

const G = { transport: 'grpc' };
const closedTotal = (f: Family[], want: Record<string, string> = {}) =>
  value(f, 'realtime_connections_closed_total', { ...G, ...want });

describe('instrumentGrpc lifecycle', () => {
  it('forceShutdown with streams open closes them as server_shutdown by the server', async () => {
    const r = await startGrpcRig({ mode: 'instrument' });
    rigs.push(r);
    const calls = [0, 1].map(() => r.client.watch({ count: 1, after: 'hold' }));
    await Promise.all(calls.map((c) => firstMessages(c, 1)));
    const ends = calls.map((c) => statusOf(c));
    r.server.forceShutdown();
    for (const s of await Promise.all(ends)) expect(s.code).not.toBe(grpc.status.OK);
    const f = await pollUntil(
      () => r.scrape(),
      (x) => closedTotal(x) === 2,
      { timeoutMs: 10_000, description: 'two shutdown closes' },
    );
    expect(closedTotal(f, { reason: 'server_shutdown', initiator: 'server' })).toBe(2);
    expect(value(f, 'realtime_connections', G)).toBe(0);
  });

  it('attaching twice is harmless; other metrics are refused', async () => {
    const r = await startGrpcRig({ mode: 'instrument' });
    rigs.push(r);
    expect(instrumentGrpc(r.server, r.metrics)).toBe(r.handle);
    const other = createRealtimeMetrics({ registry: new Registry() });
    expect(() => instrumentGrpc(r.server, other)).toThrow(
      expect.objectContaining({ code: 'TW_ERR_ALREADY_INSTRUMENTED', option: 'server' }),
    );
    other.close();
    await readAll(r.client.watch({ count: 2, after: 'end' }));
    const f = await pollUntil(
      () => r.scrape(),
      (x) => closedTotal(x) === 1,
      { timeoutMs: 10_000, description: 'one close' },
    );
    expect(value(f, 'realtime_connections_opened_total', G)).toBe(1);
    expect(value(f, 'realtime_messages_total', { ...G, direction: 'out' })).toBe(2);
  });

  it('detach restores the server: later streams and later methods are not counted', async () => {
    const server = new grpc.Server();
    const proto = Object.getPrototypeOf(server);
    const before = (server as unknown as { interceptors: unknown[] }).interceptors;
    const metrics = createRealtimeMetrics({ registry: new Registry() });
    const handle = instrumentGrpc(server, metrics);
    server.addService(FEED_SERVICE, {
      watch: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
      chat: () => {},
      get: () => {},
      upload: () => {},
    });
    const handlers = (server as unknown as { handlers: Map<string, { serialize: unknown }> })
      .handlers;
    const wrapped = handlers.get(PATHS.watch)!.serialize;
    expect(wrapped).not.toBe(FEED_SERVICE.watch!.responseSerialize);
    handle.detach();
    handle();
    expect(server.register).toBe(proto.register);
    expect(server.forceShutdown).toBe(proto.forceShutdown);
    expect(Object.hasOwn(server, 'register')).toBe(false);
    expect((server as unknown as { interceptors: unknown[] }).interceptors).toEqual(before);
    expect(handlers.get(PATHS.watch)!.serialize).toBe(FEED_SERVICE.watch!.responseSerialize);
    expect(handlers.get(PATHS.chat)!.serialize).toBe(FEED_SERVICE.chat!.responseSerialize);
    // A second attach after detach works again.
    const again = instrumentGrpc(server, metrics);
    expect(again).not.toBe(handle);
    again();
    metrics.close();
    server.forceShutdown();
  });

  it('a stream after detach is not counted, and one open at detach stops counting', async () => {
    const r = await startGrpcRig({ mode: 'instrument' });
    rigs.push(r);
    const open = r.client.chat();
    open.write({ a: 1 });
    await firstMessages(open, 1);
    r.detach();
    open.write({ a: 2 });
    await firstMessages(open, 1);
    const done = statusOf(open);
    open.end();
    expect((await done).code).toBe(grpc.status.OK);
    const w = await readAll(r.client.watch({ count: 3, after: 'end' }));
    expect(w.messages).toHaveLength(3);
    const f = await r.scrape();
    expect(value(f, 'realtime_connections_opened_total', G)).toBe(1);
    expect(closedTotal(f)).toBe(0);
    expect(value(f, 'realtime_messages_total', { ...G, direction: 'in' })).toBe(1);
    expect(value(f, 'realtime_messages_total', { ...G, direction: 'out' })).toBe(1);
    expect(value(f, 'realtime_connections', G)).toBe(0);
  });
});

describe('grpcServerInterceptor lifecycle', () => {
  it('detach makes the interceptor pass calls through uncounted', async () => {
    const r = await startGrpcRig({ mode: 'interceptor' });
    rigs.push(r);
    await readAll(r.client.watch({ count: 1, after: 'end' }));
    await pollUntil(
      () => r.scrape(),
      (x) => closedTotal(x) === 1,
      { timeoutMs: 10_000, description: 'one close' },
    );
    r.detach();
    const w = await readAll(r.client.watch({ count: 2, after: 'end' }));
    expect(w.status.code).toBe(grpc.status.OK);
    const f = await r.scrape();
    expect(value(f, 'realtime_connections_opened_total', G)).toBe(1);
    expect(closedTotal(f)).toBe(1);
    expect(value(f, 'realtime_messages_total', { ...G, direction: 'out' })).toBe(1);
  });

  it('counts binary messages by their length without a messageBytes option', async () => {
    const r = await startGrpcRig({ mode: 'interceptor' });
    rigs.push(r);
    // The JSON fixture delivers objects: messages count, bytes are unknown without the option.
    await readAll(r.client.watch({ count: 2, after: 'end' }));
    const f = await pollUntil(
      () => r.scrape(),
      (x) => closedTotal(x) === 1,
      { timeoutMs: 10_000, description: 'one close' },
    );
    expect(value(f, 'realtime_messages_total', { ...G, direction: 'out' })).toBe(2);
    expect(value(f, 'realtime_message_bytes_total', { ...G, direction: 'out' })).toBe(0);
  });
});
