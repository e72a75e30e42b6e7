import { pollUntil, withTimeout } from '@tidewatch/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connect, type EchoServer, histogram, startEchoServer, value } from '../helpers.js';

let srv: EchoServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

/** The app's own pings carry this prefix; every other ping the client sees is the heartbeat's. */
const APP = 'app-';
/** Heartbeat pings the client answers; it ignores the later ones, so the totals settle. */
const ANSWERED = 3;

describe("the built-in heartbeat's pongs are hidden from the app", () => {
  it("an app 'pong' listener sees exactly its own pings' pongs; heartbeat RTT is still observed", async () => {
    srv = await startEchoServer({
      // missedPongs is high: the peer stops answering after a few, and must stay connected
      // until the test ends, however slow the machine.
      instrument: { heartbeat: { intervalMs: 100, missedPongs: 100 } },
    });
    const s = srv;
    // The client answers pings by hand: every app ping, and the first ANSWERED heartbeats.
    const client = await connect(`${s.url}?id=c`, { autoPong: false });
    const heartbeatPings: Buffer[] = [];
    client.on('ping', (data: Buffer) => {
      if (data.toString('latin1').startsWith(APP)) client.pong(data);
      else if (heartbeatPings.push(data) <= ANSWERED) client.pong(data);
    });

    const sws = s.byId.get('c')!;
    const seen: string[] = [];
    sws.on('pong', (data: Buffer) => seen.push(data.toString('latin1')));
    const appPings = ['app-1', 'app-2', 'app-3'];
    for (const data of appPings) {
      const back = new Promise<void>((resolve) => {
        const onPong = (d: Buffer) => {
          if (d.toString('latin1') !== data) return;
          sws.off('pong', onPong);
          resolve();
        };
        sws.on('pong', onPong);
      });
      sws.ping(data);
      await withTimeout(back, 15_000, `the pong of ${data}`);
    }

    // Every pong the client sent has been measured: the app's 3 and the heartbeat's 3 (it
    // answers no more, so the count stays there).
    const fams = await pollUntil(
      () => s.scrape(),
      (f) =>
        heartbeatPings.length > ANSWERED &&
        value(f, 'realtime_heartbeats_total', { outcome: 'pong' }) >= appPings.length + ANSWERED,
      { description: 'the heartbeat pongs measured' },
    );
    expect(seen).toEqual(appPings);
    expect(value(fams, 'realtime_heartbeats_total', { outcome: 'pong' })).toBe(
      appPings.length + ANSWERED,
    );
    const rtt = histogram(fams, 'realtime_ping_rtt_seconds');
    expect(rtt.count).toBe(appPings.length + ANSWERED);
    expect(Number.isFinite(rtt.sum) && rtt.sum > 0).toBe(true);
    expect(rtt.buckets['+Inf']).toBe(rtt.count);
    expect(value(fams, 'realtime_heartbeats_total', { outcome: 'timeout' })).toBe(0);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(0);
    // The marker: 8 bytes, `tw` and 6 random bytes, the same for every ping of this server.
    expect(heartbeatPings[0]!.length).toBe(8);
    expect(heartbeatPings[0]!.subarray(0, 2).toString('latin1')).toBe('tw');
    for (const p of heartbeatPings) expect(p.equals(heartbeatPings[0]!)).toBe(true);

    // Detached: the socket is back on its own class, and app pongs still reach the app.
    s.detach();
    expect(Object.getPrototypeOf(sws)).toBe(WebSocket.prototype);
    const last = new Promise<void>((resolve) => sws.once('pong', () => resolve()));
    sws.ping('app-4');
    await withTimeout(last, 15_000, 'the pong of app-4 after detach');
    expect(seen).toEqual([...appPings, 'app-4']);
    client.terminate();
  });
});
