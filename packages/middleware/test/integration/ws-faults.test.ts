import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import {
  closed,
  connect,
  type EchoServer,
  histogram,
  rawUpgrade,
  scrapeAfterCloses,
  startEchoServer,
  until,
  upgradeRequest,
  value,
} from '../helpers.js';

let srv: EchoServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

async function echoOnce(ws: WebSocket, msg: string): Promise<string> {
  return new Promise((resolve) => {
    ws.once('message', (d) => resolve(d.toString()));
    ws.send(msg);
  });
}

describe('fault injection: the host keeps serving and the counts stay exact', () => {
  it('throwing classifiers are counted, labelled unknown, and never reach the host', async () => {
    const errors: string[] = [];
    srv = await startEchoServer({
      metrics: { onError: (_e, site) => errors.push(site) },
      instrument: {
        endpoint: (req) => {
          if (req.url?.includes('boom')) throw new Error('classifier bug');
          return 'chat';
        },
        clientType: (req) => {
          if (req.url?.includes('boom')) throw new TypeError('also broken');
          return String(req.headers['x-client'] ?? 'web');
        },
      },
    });
    const a = await connect(`${srv.url}?id=a`, { headers: { 'x-client': 'ios' } });
    const b = await connect(`${srv.url}?boom=1`);
    expect(await echoOnce(a, 'hi')).toBe('hi');
    expect(await echoOnce(b, 'ho')).toBe('ho');
    a.close();
    b.close();
    await Promise.all([closed(a), closed(b)]);
    const fams = await scrapeAfterCloses(srv!, 2);
    expect(value(fams, 'realtime_connections_opened_total', { endpoint: 'chat' })).toBe(1);
    expect(value(fams, 'realtime_connections_opened_total', { endpoint: 'unknown' })).toBe(1);
    expect(value(fams, 'realtime_messages_total', { direction: 'in', client_type: 'ios' })).toBe(1);
    expect(
      value(fams, 'realtime_messages_total', { direction: 'in', client_type: 'unknown' }),
    ).toBe(1);
    expect(
      value(fams, 'realtime_instrumentation_errors_total', { site: 'classifier.endpoint' }),
    ).toBe(1);
    expect(
      value(fams, 'realtime_instrumentation_errors_total', { site: 'classifier.client_type' }),
    ).toBe(1);
    expect(errors.sort()).toEqual(['classifier.client_type', 'classifier.endpoint']);
  });

  it('classifiers returning a Promise or a number: counted, labelled unknown, never `[object Promise]`', async () => {
    const errors: string[] = [];
    srv = await startEchoServer({
      metrics: { onError: (_e, site) => errors.push(site) },
      instrument: {
        // Not declared async (construction refuses those): a transpiled async function.
        endpoint: (req) =>
          (req.url?.includes('reject')
            ? Promise.reject(new Error('lookup failed'))
            : Promise.resolve('chat')) as never,
        clientType: () => 42 as never,
      },
    });
    const clients = [
      await connect(`${srv.url}?id=a`),
      await connect(`${srv.url}?reject=1`),
      await connect(`${srv.url}?id=c`),
    ];
    for (const c of clients) expect(await echoOnce(c, 'hi')).toBe('hi');
    for (const c of clients) c.close();
    await Promise.all(clients.map(closed));
    const fams = await scrapeAfterCloses(srv!, 3);
    for (const f of fams) {
      for (const m of f.metrics) expect(JSON.stringify(m.labels)).not.toContain('[object');
    }
    expect(value(fams, 'realtime_connections_opened_total', { endpoint: 'unknown' })).toBe(3);
    expect(
      value(fams, 'realtime_messages_total', { direction: 'in', client_type: 'unknown' }),
    ).toBe(3);
    const site = (s: string) => value(fams, 'realtime_instrumentation_errors_total', { site: s });
    expect(site('classifier.endpoint')).toBe(3);
    expect(site('classifier.client_type')).toBe(3);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(6);
    expect(errors.filter((e) => e === 'classifier.endpoint')).toHaveLength(3);
  });

  it('garbage upgrade requests are rejected and counted; good clients are unaffected', async () => {
    srv = await startEchoServer();
    const good = await connect(srv.url);
    const cases = [
      // Wrong method, missing key, bad version, malformed subprotocol header.
      upgradeRequest('/ws').replace('GET', 'POST'),
      upgradeRequest('/ws').replace('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n', ''),
      upgradeRequest('/ws').replace('Version: 13', 'Version: 99'),
      upgradeRequest('/ws', 'Sec-WebSocket-Protocol: ,,\r\n'),
    ];
    const results = await Promise.all(cases.map((c) => rawUpgrade(srv!.port, c)));
    for (const r of results) {
      expect(r.status).toMatch(/^HTTP\/1\.1 4\d\d /);
      r.socket.destroy();
    }
    // Bytes that are not HTTP at all never reach the upgrade path: node answers 400.
    const junk = await new Promise<string>((resolve) => {
      const sock = net.connect(srv!.port, '127.0.0.1', () =>
        sock.write('\u0000\u0001garbage\r\n\r\n'),
      );
      let buf = '';
      sock.on('data', (d) => {
        buf += d;
      });
      sock.on('error', () => {});
      sock.on('close', () => resolve(buf));
    });
    expect(junk).toMatch(/^HTTP\/1\.1 400/);
    expect(await echoOnce(good, 'still here')).toBe('still here');
    const s = srv;
    let fams = await s.scrape();
    await until('rejections counted', async () => {
      fams = await s.scrape();
      return (
        histogram(fams, 'realtime_handshake_duration_seconds', { outcome: 'rejected' }).count === 4
      );
    });
    expect(
      histogram(fams, 'realtime_handshake_duration_seconds', { outcome: 'success' }).count,
    ).toBe(1);
    expect(value(fams, 'realtime_handshakes_in_flight')).toBe(0);
    expect(value(fams, 'realtime_connections')).toBe(1);
    good.close();
  });

  it('a 10 MiB frame past maxPayload closes only that client, as message_too_big', async () => {
    srv = await startEchoServer({ ws: { maxPayload: 1 << 20 } });
    const others = await Promise.all([connect(srv.url), connect(srv.url), connect(srv.url)]);
    const big = await connect(srv.url);
    big.on('error', () => {});
    const code = closed(big);
    big.send(Buffer.alloc(10 << 20, 7));
    expect(await code).toBe(1009);
    for (const o of others) expect(await echoOnce(o, 'ok')).toBe('ok');
    const fams = await scrapeAfterCloses(srv!, 1);
    expect(
      value(fams, 'realtime_connections_closed_total', {
        reason: 'message_too_big',
        initiator: 'server',
      }),
    ).toBe(1);
    expect(value(fams, 'realtime_errors_total', { type: 'unsupported_message_length' })).toBe(1);
    // The oversized frame was never delivered: only the three small echoes count.
    expect(value(fams, 'realtime_messages_total', { direction: 'in' })).toBe(3);
    expect(value(fams, 'realtime_connections')).toBe(3);
    for (const o of others) o.close();
  });

  it('a client that dies mid-message leaves the numbers exact', async () => {
    srv = await startEchoServer();
    const ok = await connect(srv.url);
    const victim = await connect(srv.url);
    const code = closed(victim);
    // Half a frame header announcing 64 KiB, then a reset: the message never completes.
    const sock = (victim as unknown as { _socket: net.Socket })._socket;
    sock.write(Buffer.from([0x82, 0xfe, 0xff, 0xff, 1, 2, 3, 4, 9, 9, 9]));
    sock.resetAndDestroy();
    await code;
    expect(await echoOnce(ok, 'fine')).toBe('fine');
    const fams = await scrapeAfterCloses(srv!, 1);
    expect(
      value(fams, 'realtime_connections_closed_total', { reason: 'abnormal', initiator: 'client' }),
    ).toBe(1);
    expect(value(fams, 'realtime_messages_total', { direction: 'in' })).toBe(1);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(0);
    ok.close();
  });

  it("the host's own errors pass through unchanged", async () => {
    srv = await startEchoServer();
    const boom = new Error('host handler bug');
    srv.wss.on('connection', (ws) => {
      ws.on('message', (d) => {
        if (d.toString() === 'throw') throw boom;
      });
    });
    const client = await connect(srv.url);
    const seen = await new Promise<unknown>((resolve) => {
      const [sws] = [...srv!.wss.clients];
      const origEmit = Object.getPrototypeOf(sws).emit as (...a: unknown[]) => boolean;
      // Call the instrumented emit directly, as ws' receiver would.
      try {
        origEmit.call(sws, 'message', Buffer.from('throw'), false);
        resolve(null);
      } catch (err) {
        resolve(err);
      }
    });
    expect(seen).toBe(boom);
    client.close();
  });
});
