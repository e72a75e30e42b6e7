import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pollUntil } from '@tidewatch/test-utils';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createRealtimeMetrics, metricsHandler } from '../../src/index.js';
import { instrumentWs } from '../../src/ws.js';
import {
  closed,
  connect,
  type EchoServer,
  histogram,
  parseExposition,
  rawUpgrade,
  scrapeAfterCloses,
  startEchoServer,
  sumBounds,
  upgradeRequest,
  value,
} from '../helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function echo(opts: Parameters<typeof startEchoServer>[0] = {}): Promise<EchoServer> {
  const s = await startEchoServer(opts);
  cleanups.push(() => s.close());
  return s;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('noServer mode', () => {
  it('times from the upgrade request, counts refusals made before handleUpgrade, and sees sockets never emitted as connection', async () => {
    const registry = new Registry();
    const metrics = createRealtimeMetrics({ registry });
    const server = http.createServer(metricsHandler(metrics));
    const wss = new WebSocketServer({ noServer: true });
    instrumentWs(wss, metrics, { server, endpoint: 'live' });
    server.on('upgrade', (req, socket, head) => {
      if (!req.url?.includes('token=ok')) {
        // The common hand-written refusal: the WebSocket server never sees this request.
        socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
        socket.destroy();
        return;
      }
      // Authorised: handled without ever emitting 'connection'.
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('message', (d) => ws.send(d));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      metrics.close();
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    const port = (server.address() as AddressInfo).port;
    const ws = await connect(`ws://127.0.0.1:${port}/?token=ok`);
    await new Promise<void>((resolve) => {
      ws.once('message', () => resolve());
      ws.send('ping');
    });
    for (let i = 0; i < 3; i++) {
      const r = await rawUpgrade(port, upgradeRequest('/?token=bad'));
      expect(r.status).toBe('HTTP/1.1 401 Unauthorized');
    }
    const fams = parseExposition(await (await fetch(`http://127.0.0.1:${port}/`)).text());
    const hs = (outcome: string) =>
      histogram(fams, 'realtime_handshake_duration_seconds', { endpoint: 'live', outcome }).count;
    expect(hs('success')).toBe(1);
    expect(hs('rejected')).toBe(3);
    expect(value(fams, 'realtime_messages_total', { endpoint: 'live' })).toBe(2);
    expect(value(fams, 'realtime_connections', { endpoint: 'live', state: 'active' })).toBe(1);
    ws.close();
  });
  it('runs the classifiers once per handshake, though both the upgrade listener and handleUpgrade see it', async () => {
    const registry = new Registry();
    let endpointCalls = 0;
    let clientTypeCalls = 0;
    const metrics = createRealtimeMetrics({ registry });
    const server = http.createServer(metricsHandler(metrics));
    const wss = new WebSocketServer({ noServer: true });
    instrumentWs(wss, metrics, {
      server,
      endpoint: () => {
        endpointCalls++;
        throw new Error('classifier bug');
      },
      clientType: () => {
        clientTypeCalls++;
        return 'web';
      },
    });
    server.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (d) => ws.send(d)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      metrics.close();
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    const port = (server.address() as AddressInfo).port;
    const clients = await Promise.all([1, 2, 3].map(() => connect(`ws://127.0.0.1:${port}/`)));
    expect(endpointCalls).toBe(3);
    expect(clientTypeCalls).toBe(3);
    const fams = parseExposition(await (await fetch(`http://127.0.0.1:${port}/`)).text());
    expect(
      value(fams, 'realtime_instrumentation_errors_total', { site: 'classifier.endpoint' }),
    ).toBe(3);
    expect(value(fams, 'realtime_connections_opened_total', { endpoint: 'unknown' })).toBe(3);
    for (const c of clients) c.close();
  });
});

describe('attach, detach, double attach', () => {
  it('attaching twice is harmless: one count per event, same detach', async () => {
    const s = await echo();
    const again = instrumentWs(s.wss, s.metrics);
    expect(again).toBe(s.detach);
    const ws = await connect(s.url);
    await new Promise<void>((resolve) => {
      ws.once('message', () => resolve());
      ws.send('once');
    });
    const fams = await s.scrape();
    expect(value(fams, 'realtime_connections_opened_total')).toBe(1);
    expect(value(fams, 'realtime_messages_total', { direction: 'in' })).toBe(1);
    expect(() => instrumentWs(s.wss, createRealtimeMetrics())).toThrow(
      expect.objectContaining({ code: 'TW_ERR_ALREADY_INSTRUMENTED' }),
    );
    ws.close();
  });

  it('adopts connections that were open before it attached', async () => {
    const s = await echo();
    s.detach();
    const early = await Promise.all([connect(s.url), connect(s.url)]);
    const again = instrumentWs(s.wss, s.metrics, { endpoint: 'late' });
    cleanups.push(again);
    await new Promise<void>((resolve) => {
      early[0]!.once('message', () => resolve());
      early[0]!.send('counted');
    });
    early[1]!.close(1000);
    const fams = await scrapeAfterCloses(s, 1);
    expect(value(fams, 'realtime_connections_opened_total', { endpoint: 'late' })).toBe(2);
    expect(value(fams, 'realtime_connections', { endpoint: 'late' })).toBe(1);
    expect(value(fams, 'realtime_messages_total', { endpoint: 'late', direction: 'in' })).toBe(1);
    early[0]!.close();
  });

  it('detach stops counting and restores the server and its sockets', async () => {
    const s = await echo();
    const ws = await connect(s.url);
    const [serverSide] = [...s.wss.clients];
    const instrumentedProto = Object.getPrototypeOf(serverSide);
    // Compared as booleans: printing a WebSocket prototype trips its getters.
    expect(instrumentedProto === WebSocket.prototype).toBe(false);
    s.detach();
    expect(Object.getPrototypeOf(serverSide) === WebSocket.prototype).toBe(true);
    expect(Object.hasOwn(s.wss, 'handleUpgrade')).toBe(false);
    await new Promise<void>((resolve) => {
      ws.once('message', () => resolve());
      ws.send('after detach');
    });
    const late = await connect(s.url);
    const fams = await s.scrape();
    expect(value(fams, 'realtime_connections_opened_total')).toBe(1);
    expect(value(fams, 'realtime_messages_total')).toBe(0);
    expect(value(fams, 'realtime_connections')).toBe(0);
    ws.close();
    late.close();
  });
});

describe('heartbeats', () => {
  it('the built-in heartbeat measures RTT and terminates a peer that stops answering', async () => {
    const s = await echo({ instrument: { heartbeat: { intervalMs: 100, missedPongs: 2 } } });
    const alive = await connect(s.url);
    const dead = await connect(s.url, { autoPong: false });
    const deadClosed = closed(dead);
    await deadClosed;
    const fams = await scrapeAfterCloses(s, 1);
    expect(
      value(fams, 'realtime_connections_closed_total', {
        reason: 'ping_timeout',
        initiator: 'server',
      }),
    ).toBe(1);
    expect(value(fams, 'realtime_heartbeats_total', { outcome: 'timeout' })).toBe(1);
    const pongs = value(fams, 'realtime_heartbeats_total', { outcome: 'pong' });
    expect(pongs).toBeGreaterThanOrEqual(1);
    expect(histogram(fams, 'realtime_ping_rtt_seconds').count).toBe(pongs);
    expect(alive.readyState).toBe(WebSocket.OPEN);
    alive.close();
  });

  it("an app's own ping + terminate() is counted as ping_timeout; its pongs as RTT", async () => {
    const s = await echo();
    const good = await connect(`${s.url}?id=good`);
    const bad = await connect(`${s.url}?id=bad`, { autoPong: false });
    const goodServer = s.byId.get('good')!;
    const badServer = s.byId.get('bad')!;
    const pong = new Promise((r) => goodServer.once('pong', r));
    goodServer.ping();
    badServer.ping();
    await pong;
    await sleep(1100);
    badServer.terminate(); // the canonical `isAlive === false` branch
    await closed(bad);
    const fams = await scrapeAfterCloses(s, 1);
    expect(value(fams, 'realtime_connections_closed_total', { reason: 'ping_timeout' })).toBe(1);
    expect(value(fams, 'realtime_heartbeats_total', { outcome: 'pong' })).toBe(1);
    expect(value(fams, 'realtime_heartbeats_total', { outcome: 'timeout' })).toBe(1);
    // One round trip, measured: a positive duration in the bucket that holds it.
    const rtt = histogram(fams, 'realtime_ping_rtt_seconds');
    expect(rtt.count).toBe(1);
    expect(rtt.buckets['+Inf']).toBe(1);
    expect(Number.isFinite(rtt.sum) && rtt.sum > 0).toBe(true);
    const { min, max } = sumBounds(rtt);
    expect(rtt.sum).toBeGreaterThanOrEqual(min);
    expect(rtt.sum).toBeLessThanOrEqual(max);
    good.close();
  });
});

describe('scrape-time gauges', () => {
  it('send buffer and slow consumers over OPEN sockets only; idle after idleAfterMs', async () => {
    const s = await echo({
      metrics: { idleAfterMs: 300 },
      instrument: { slowConsumerBytes: 64 * 1024, maxConnections: 10 },
    });
    const reader = await connect(`${s.url}?id=r`);
    const stalled = await connect(`${s.url}?id=s`);
    // Stop reading on the client: the server's writes back up in its send buffer.
    (stalled as unknown as { _socket: { pause(): void } })._socket.pause();
    const sws = s.byId.get('s')!;
    const chunk = Buffer.alloc(256 * 1024);
    for (let i = 0; i < 64; i++) sws.send(chunk);
    let fams = await s.scrape();
    expect(value(fams, 'realtime_slow_consumers')).toBe(1);
    expect(value(fams, 'realtime_send_buffer_bytes')).toBe(sws.bufferedAmount);
    expect(value(fams, 'realtime_send_buffer_bytes')).toBeGreaterThan(64 * 1024);
    expect(value(fams, 'realtime_capacity_utilization')).toBeCloseTo(0.2, 10);
    expect(value(fams, 'realtime_connections', { state: 'active' })).toBe(2);

    // Both go idle once idleAfterMs passes without data; then the reader talks again.
    await pollUntil(
      () => s.scrape(),
      (f) => value(f, 'realtime_connections', { state: 'idle' }) === 2,
      { intervalMs: 50, description: 'both connections idle' },
    );
    await new Promise<void>((resolve) => {
      reader.once('message', () => resolve());
      reader.send('keep me active');
    });
    fams = await s.scrape();
    expect(value(fams, 'realtime_connections', { state: 'active' })).toBe(1);
    expect(value(fams, 'realtime_connections', { state: 'idle' })).toBe(1);

    // A CLOSING socket's buffer is not counted (ws keeps growing it after close: ws#1830).
    sws.close();
    for (let i = 0; i < 4; i++) sws.send(chunk);
    fams = await s.scrape();
    expect(value(fams, 'realtime_slow_consumers')).toBe(0);
    expect(value(fams, 'realtime_send_buffer_bytes')).toBe(0);
    expect(value(fams, 'realtime_messages_dropped_total', { reason: 'not_open' })).toBe(4);
    sws.terminate();
    reader.close();
  });
});
