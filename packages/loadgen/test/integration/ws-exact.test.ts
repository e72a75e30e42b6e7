/**
 * The loadgen against an instrumented ws echo server: what the report says it did equals
 * what the server's /metrics counted, counter by counter, and what the application saw.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { createLoadGenerator, type LoadOptions } from '../../src/index.js';
import {
  closeAfterEach,
  guaranteedFirstMessages,
  seededClients,
  serverCounts,
  startWsServer,
} from './servers.js';

const track = closeAfterEach();

/** Sum of a family's samples with the given labels, read with an independent parser. */
function sum(text: string, name: string, labels: Record<string, string>): number {
  const fam = (parsePrometheusTextFormat(text) as Array<{ name: string; metrics: any[] }>).find(
    (f) => f.name === name,
  );
  let total = 0;
  for (const m of fam?.metrics ?? []) {
    if (Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)) total += Number(m.value);
  }
  return total;
}

describe('ws: report vs /metrics', () => {
  it('every exact counter of expectedServerCounts equals the server, and the app agrees', async () => {
    const s = track(await startWsServer());
    // Bounded by count, not by time: 15 attempts, then the run ends by itself once every
    // session has (the duration is only an upper bound).
    const options: LoadOptions = {
      url: s.url,
      arrivals: { rate: 25 },
      session: {
        meanSeconds: 0.6,
        messagesPerSecond: 10,
        messageBytes: 200,
        rooms: ['lobby', 'r1', 'r2'],
        joinRooms: 2,
        heartbeatSeconds: 0.2,
      },
      limits: { durationSeconds: 60, maxConcurrent: 200, maxConnections: 15 },
      seed: 7,
    };
    // Facts of the seed, not of the machine's speed (see seededClients): the run lasts past
    // its first progress tick (1 s) and this many clients live to their first ping (200 ms).
    const drawn = seededClients(options, 15);
    expect(Math.max(...drawn.map((d) => d.arrivalMs + d.sessionMs))).toBeGreaterThan(1100);
    const pinging = drawn.filter((d) => d.sessionMs > 200).length;
    expect(pinging).toBeGreaterThan(0);
    const gen = createLoadGenerator(options);
    const progress: number[] = [];
    gen.on('progress', (r) => progress.push(r.connections.open));
    await gen.start();
    const report = await gen.done;
    const c = report.connections;

    // The run did something, and every connection is accounted for.
    expect(c.opened).toBe(15);
    expect(c.attempted).toBe(c.opened);
    expect(c.failed).toBe(0);
    expect(c.open).toBe(0);
    expect(c.closedByClient).toBe(c.opened);
    expect(report.failuresByReason).toEqual({});
    expect(report.endedAt).not.toBeNull();
    expect(progress.length).toBeGreaterThanOrEqual(1);

    // The server's counters, exactly.
    const { expected, actual, text } = await serverCounts(s, report);
    expect(Object.keys(expected)).toHaveLength(8);
    expect(actual).toEqual(expected);

    // Cross-checks with an independent parser and with the application's own counts.
    const t = { transport: 'websocket' };
    expect(sum(text, 'realtime_messages_total', { ...t, direction: 'in' })).toBe(s.app.received);
    expect(sum(text, 'realtime_connections_opened_total', t)).toBe(s.app.connections);
    expect(report.messages.sent).toBe(s.app.received);
    expect(report.messages.received).toBe(s.app.sent);
    // Two joins per connection (the run ends by itself: no client opens as it stops), then
    // messages of exactly 200 bytes.
    expect(s.app.joins).toBe(2 * c.opened);
    const msgs = report.messages.sent - s.app.joins;
    expect(msgs).toBeGreaterThanOrEqual(guaranteedFirstMessages(options, 15));
    expect(
      report.bytes.sent - sum(text, 'realtime_message_bytes_total', { ...t, direction: 'in' }),
    ).toBe(0);
    const joinBytes = (room: string) => `{"type":"join","room":"${room}"}`.length;
    expect(report.bytes.sent - msgs * 200).toBeGreaterThanOrEqual(s.app.joins * joinBytes('r1'));
    expect(report.bytes.sent - msgs * 200).toBeLessThanOrEqual(s.app.joins * joinBytes('lobby'));
    // Every own message came back once: one RTT sample each.
    expect(report.rtt.count).toBe(msgs);
    expect(report.rtt.p50Ms).toBeGreaterThan(0);
    expect(report.rtt.p99Ms!).toBeGreaterThanOrEqual(report.rtt.p50Ms!);
    expect(report.heartbeats.sent).toBeGreaterThanOrEqual(pinging);
    expect(report.heartbeats.answered).toBe(report.pingRtt.count);
  });
});
