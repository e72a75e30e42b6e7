import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { pollUntil } from '@tidewatch/test-utils';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentUpgrade } from '../../src/http.js';
import { createRealtimeMetrics, metricsHandler } from '../../src/index.js';
import {
  histogram,
  parseExposition,
  rawUpgrade,
  until,
  upgradeRequest,
  value,
} from '../helpers.js';

const servers: http.Server[] = [];
const upgraded = new Set<net.Socket>();
afterEach(async () => {
  for (const sock of upgraded) sock.destroy();
  upgraded.clear();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/**
 * A server whose "WebSocket layer" is hand-written: it answers the upgrade itself and then
 * echoes raw bytes, reporting each chunk through the handle tidewatch gives it.
 */
async function customServer() {
  const registry = new Registry();
  const metrics = createRealtimeMetrics({ registry });
  const server = http.createServer(metricsHandler(metrics));
  servers.push(server);
  const up = instrumentUpgrade(server, metrics, {
    endpoint: (req) => (req.url?.startsWith('/feed') ? 'feed' : 'other'),
  });
  server.on('upgrade', (req, socket) => {
    upgraded.add(socket as net.Socket);
    if (req.url?.includes('deny')) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    if (req.url?.includes('crash')) {
      socket.end('HTTP/1.1 500 Internal Server Error\r\n\r\n');
      return;
    }
    if (req.url?.includes('slow')) return; // never answers: the client gives up
    const accept = createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    const handle = up.connectionFor(socket);
    socket.on('data', (d: Buffer) => {
      handle?.message('in', d.length);
      socket.write(d);
      handle?.message('out', d.length);
    });
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const scrape = async () =>
    parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  return { port, scrape, metrics };
}

describe('instrumentUpgrade (any WebSocket layer on node:http)', () => {
  it('counts handshake outcomes and the upgraded connections exactly', async () => {
    const { port, scrape } = await customServer();
    const opened = await Promise.all(
      Array.from({ length: 5 }, () => rawUpgrade(port, upgradeRequest('/feed'))),
    );
    for (const o of opened) expect(o.status).toBe('HTTP/1.1 101 Switching Protocols');
    // Three echoes on the first connection.
    const first = opened[0]!.socket;
    for (const word of ['a', 'bb', 'ccc']) {
      const echoed = new Promise((r) => first.once('data', r));
      first.write(word);
      await echoed;
    }
    for (const _ of [1, 2])
      expect((await rawUpgrade(port, upgradeRequest('/feed?deny'))).status).toBe(
        'HTTP/1.1 403 Forbidden',
      );
    expect((await rawUpgrade(port, upgradeRequest('/feed?crash'))).status).toBe(
      'HTTP/1.1 500 Internal Server Error',
    );
    const leaver = net.connect(port, '127.0.0.1', () => leaver.write(upgradeRequest('/feed?slow')));
    await until(
      'in flight',
      async () => value(await scrape(), 'realtime_handshakes_in_flight') === 1,
    );
    leaver.destroy();
    opened[1]!.socket.end(); // the client ends cleanly
    opened[2]!.socket.resetAndDestroy(); // and one resets
    let fams = await scrape();
    await until('closes', async () => {
      fams = await scrape();
      return (
        value(fams, 'realtime_connections_closed_total') === 2 &&
        value(fams, 'realtime_handshakes_in_flight') === 0
      );
    });
    const hs = (outcome: string) =>
      histogram(fams, 'realtime_handshake_duration_seconds', { endpoint: 'feed', outcome }).count;
    expect([hs('success'), hs('rejected'), hs('error'), hs('aborted')]).toEqual([5, 2, 1, 1]);
    expect(value(fams, 'realtime_connections_opened_total', { endpoint: 'feed' })).toBe(5);
    expect(value(fams, 'realtime_connections', { endpoint: 'feed' })).toBe(3);
    expect(
      value(fams, 'realtime_connections_closed_total', { reason: 'normal', initiator: 'client' }),
    ).toBe(1);
    expect(value(fams, 'realtime_connections_closed_total', { reason: 'abnormal' })).toBe(1);
    expect(value(fams, 'realtime_messages_total', { direction: 'in' })).toBe(3);
    expect(value(fams, 'realtime_message_bytes_total', { direction: 'out' })).toBe(6);
    for (const o of opened) o.socket.destroy();
  });
});

describe('the manual API (metrics.connection / handshake / broadcast)', () => {
  it('reports everything in the catalogue for a custom transport', async () => {
    const registry = new Registry();
    const metrics = createRealtimeMetrics({ registry, idleAfterMs: 50 });
    const hs = metrics.handshake({ transport: 'mqtt', endpoint: 'broker' });
    let fams = parseExposition(await registry.metrics());
    expect(value(fams, 'realtime_handshakes_in_flight', { transport: 'mqtt' })).toBe(1);
    let queued = 2 << 20;
    const conn = hs.open({ clientType: 'sensor', bufferedAmount: () => queued });
    metrics.handshake({ transport: 'mqtt', endpoint: 'broker' }).fail('rejected');
    conn.message('in', 100);
    conn.message('out', 5000);
    conn.message('out', 10);
    conn.dropped('backpressure');
    conn.error('bad_packet');
    conn.ping();
    conn.pong();
    metrics.broadcast(12, 'mqtt');
    fams = parseExposition(await registry.metrics());
    const t = { transport: 'mqtt' };
    expect(value(fams, 'realtime_connections', { ...t, state: 'active' })).toBe(1);
    expect(value(fams, 'realtime_send_buffer_bytes', t)).toBe(2 << 20);
    expect(value(fams, 'realtime_slow_consumers', t)).toBe(1);
    expect(
      value(fams, 'realtime_messages_total', { ...t, direction: 'out', client_type: 'sensor' }),
    ).toBe(2);
    expect(value(fams, 'realtime_message_bytes_total', { ...t, direction: 'out' })).toBe(5010);
    expect(value(fams, 'realtime_messages_dropped_total', { ...t, reason: 'backpressure' })).toBe(
      1,
    );
    expect(value(fams, 'realtime_errors_total', { ...t, type: 'bad_packet' })).toBe(1);
    expect(value(fams, 'realtime_heartbeats_total', { ...t, outcome: 'pong' })).toBe(1);
    expect(histogram(fams, 'realtime_broadcast_fanout', t)).toMatchObject({ count: 1, sum: 12 });
    expect(
      histogram(fams, 'realtime_handshake_duration_seconds', { ...t, outcome: 'rejected' }).count,
    ).toBe(1);
    queued = 0;
    // Idle once idleAfterMs (50) passes without data: wait for it, not for a while.
    fams = await pollUntil(
      async () => parseExposition(await registry.metrics()),
      (f) => value(f, 'realtime_connections', { ...t, state: 'idle' }) === 1,
      { intervalMs: 25, description: 'the connection idle' },
    );
    expect(value(fams, 'realtime_slow_consumers', t)).toBe(0);
    conn.close({ code: 4000, initiator: 'server' });
    conn.close({ reason: 'error' }); // idempotent
    conn.message('in', 1); // ignored after close
    fams = parseExposition(await registry.metrics());
    expect(value(fams, 'realtime_connections', t)).toBe(0);
    expect(
      value(fams, 'realtime_connections_closed_total', {
        ...t,
        reason: 'normal',
        initiator: 'server',
      }),
    ).toBe(1);
    expect(value(fams, 'realtime_messages_total', { ...t, direction: 'in' })).toBe(1);
    const timeout = metrics.connection({ transport: 'mqtt' });
    timeout.close({ reason: 'ping_timeout', initiator: 'server' });
    fams = parseExposition(await registry.metrics());
    expect(value(fams, 'realtime_heartbeats_total', { ...t, outcome: 'timeout' })).toBe(1);
    metrics.close();
  });

  it('never throws on bad input', () => {
    const metrics = createRealtimeMetrics();
    const c = metrics.connection({ transport: 'Not Valid!', endpoint: 42 as never });
    expect(() => c.message('sideways' as never, Number.NaN)).not.toThrow();
    expect(() => c.close({ reason: 'nonsense' as never, code: 'x' as never })).not.toThrow();
    expect(() => metrics.handshake(null as never).fail('weird' as never)).not.toThrow();
    expect(() => metrics.broadcast(-1)).not.toThrow();
    metrics.close();
  });
});
