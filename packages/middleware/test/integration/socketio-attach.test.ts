import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { Server } from 'socket.io';
import { type Socket as ClientSocket, io as connectIo } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createRealtimeMetrics, TidewatchConfigError } from '../../src/index.js';
import { instrumentSocketIo } from '../../src/socket.io.js';
import {
  received,
  type SioServer,
  scrapeUntil,
  startSioServer,
  value,
} from '../fixtures/socketio-server.js';
import { histogram, parseExposition, until } from '../helpers.js';

let srv: SioServer | undefined;
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
  await srv?.close();
  srv = undefined;
});

function configError(fn: () => unknown): TidewatchConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TidewatchConfigError);
    return err as TidewatchConfigError;
  }
  throw new Error('did not throw');
}

describe('instrumentSocketIo attach and detach', () => {
  it('rejects bad configuration by option name, and attaching twice is harmless', () => {
    const metrics = createRealtimeMetrics({ registry: new Registry() });
    const io = new Server({ serveClient: false });
    expect(configError(() => instrumentSocketIo({} as never, metrics)).option).toBe('io');
    expect(configError(() => instrumentSocketIo(io, {} as never)).option).toBe('metrics');
    expect(
      configError(() => instrumentSocketIo(io, metrics, { namespaces: '/chat' as never })).option,
    ).toBe('namespaces');
    expect(
      configError(() => instrumentSocketIo(io, metrics, { namespaces: ['/a', 'chat'] })).option,
    ).toBe('namespaces[1]');
    expect(configError(() => instrumentSocketIo(io, metrics, { namespaces: [/x/g] })).option).toBe(
      'namespaces[0]',
    );
    expect(
      configError(() => instrumentSocketIo(io, metrics, { slowConsumerBytes: -1 })).option,
    ).toBe('slowConsumerBytes');
    expect(configError(() => instrumentSocketIo(io, metrics, { nope: 1 } as never)).option).toBe(
      'nope',
    );

    const detach = instrumentSocketIo(io, metrics);
    expect(instrumentSocketIo(io, metrics)).toBe(detach);
    const other = createRealtimeMetrics({ registry: new Registry() });
    expect(configError(() => instrumentSocketIo(io, other)).code).toBe(
      'TW_ERR_ALREADY_INSTRUMENTED',
    );
    detach();
    detach();
    const again = instrumentSocketIo(io, other);
    expect(again).not.toBe(detach);
    again();
  });

  it('times nothing twice and counts a server whose engine is attached later', async () => {
    const registry = new Registry();
    const metrics = createRealtimeMetrics({ registry });
    const io = new Server({ serveClient: false });
    const detach = instrumentSocketIo(io, metrics); // no engine yet
    const server = http.createServer();
    io.attach(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const c = connectIo(url, { forceNew: true, reconnection: false });
    cleanup.push(async () => {
      c.disconnect();
      detach();
      await io.close();
    });
    await new Promise<void>((r) => c.once('connect', () => r()));
    await until(
      'upgraded',
      () => io.engine.clientsCount === 1 && c.io.engine.transport.name === 'websocket',
    );
    const fams = parseExposition(await registry.metrics());
    expect(value(fams, 'realtime_connections')).toBe(1);
    expect(
      histogram(fams, 'realtime_handshake_duration_seconds', { outcome: 'success' }).count,
    ).toBe(1);
  });

  it('adopts sockets already connected, and detach restores every patched object', async () => {
    // Instrument, detach at once: then connect clients uninstrumented and re-attach.
    srv = await startSioServer({ before: (io) => void io.of('/chat') });
    const s = srv;
    s.detach();
    const engine = s.io.engine as unknown as Record<string, unknown>;
    const rootNsp = s.io.of('/') as unknown as {
      adapter: object;
      listenerCount(e: string): number;
    };
    const pristine = {
      handleRequest: Object.hasOwn(engine, 'handleRequest'),
      handleUpgrade: Object.hasOwn(engine, 'handleUpgrade'),
      close: Object.hasOwn(engine, 'close'),
      bind: Object.hasOwn(s.io, 'bind'),
      ioClose: Object.hasOwn(s.io, 'close'),
      broadcast: Object.hasOwn(rootNsp.adapter, 'broadcast'),
      connect: rootNsp.listenerCount('connect'),
      connection: s.io.engine.listenerCount('connection'),
    };
    expect(pristine).toMatchObject({ handleRequest: false, broadcast: false, bind: false });

    const clients: ClientSocket[] = await Promise.all([
      s.client('/', { transports: ['websocket'], auth: { id: 'a' } }),
      s.client('/chat', { transports: ['polling'], auth: { id: 'b' } }),
    ]);
    const detach = instrumentSocketIo(s.io, s.metrics);
    let fams = await s.scrape();
    expect(value(fams, 'realtime_connections', { endpoint: '/' })).toBe(1);
    expect(value(fams, 'realtime_connections', { endpoint: '/chat' })).toBe(1);
    expect(value(fams, 'realtime_connections_opened_total')).toBe(2);
    expect(histogram(fams, 'realtime_handshake_duration_seconds').count).toBe(0);
    await Promise.all(
      clients.map((c) => {
        const back = received(c, 'echo');
        c.emit('echo', 'hi');
        return back;
      }),
    );
    fams = await s.scrape();
    expect(value(fams, 'realtime_messages_total', { direction: 'in' })).toBe(2);
    const serverSocket = s.byId.get('/:a')!;
    expect(serverSocket.listenerCount('disconnect')).toBe(1);
    const conn = serverSocket.conn as unknown as object;
    const engineSocketProto = Object.getPrototypeOf(Object.getPrototypeOf(conn));

    detach();
    expect({
      handleRequest: Object.hasOwn(engine, 'handleRequest'),
      handleUpgrade: Object.hasOwn(engine, 'handleUpgrade'),
      close: Object.hasOwn(engine, 'close'),
      bind: Object.hasOwn(s.io, 'bind'),
      ioClose: Object.hasOwn(s.io, 'close'),
      broadcast: Object.hasOwn(rootNsp.adapter, 'broadcast'),
      connect: rootNsp.listenerCount('connect'),
      connection: s.io.engine.listenerCount('connection'),
    }).toEqual(pristine);
    expect(Object.getPrototypeOf(conn)).toBe(engineSocketProto);
    expect(serverSocket.listenerCount('disconnect')).toBe(0);

    // Nothing counts any more; the host keeps working.
    const before = await s.scrape();
    await Promise.all(
      clients.map((c) => {
        const back = received(c, 'echo');
        c.emit('echo', 'again');
        return back;
      }),
    );
    s.io.emit('all', 1);
    for (const c of clients) c.disconnect();
    await until('closed', () => s.io.of('/').sockets.size + s.io.of('/chat').sockets.size === 0);
    const after = await s.scrape();
    for (const name of [
      'realtime_messages_total',
      'realtime_connections_closed_total',
      'realtime_connections_opened_total',
    ]) {
      expect(value(after, name)).toBe(value(before, name));
    }
    expect(value(after, 'realtime_connections')).toBe(0);
    expect(histogram(after, 'realtime_broadcast_fanout').count).toBe(0);
  });

  it('never throws into the host: a failing classifier is counted and the socket still works', async () => {
    srv = await startSioServer({
      metrics: {
        clientType: () => {
          throw new Error('boom');
        },
      },
    });
    const s = srv;
    const c = await s.client('/', { transports: ['websocket'] });
    const back = received(c, 'echo');
    c.emit('echo', 1);
    await back;
    const fams = await scrapeUntil(
      s,
      'the error counted',
      (f) =>
        value(f, 'realtime_instrumentation_errors_total', { site: 'classifier.client_type' }) === 1,
    );
    expect(
      value(fams, 'realtime_messages_total', { client_type: 'unknown', direction: 'in' }),
    ).toBe(1);
  });
});
