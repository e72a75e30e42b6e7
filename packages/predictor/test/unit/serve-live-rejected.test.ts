/**
 * Live figures never show a value the history rejects: a negative or non-finite sample makes
 * its figure null, with the reason in `rejected`; the next good scrape shows figures again.
 */
import { describe, expect, it } from 'vitest';
import { createLiveStats } from '../../src/serve/live.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');

function exposition(o: { active: number; msgsIn: number; bucket?: number }): string {
  const b = o.bucket ?? 1;
  return [
    '# TYPE realtime_connections gauge',
    `realtime_connections{transport="websocket",endpoint="/ws",state="active"} ${o.active}`,
    'realtime_connections{transport="websocket",endpoint="/ws",state="idle"} 1',
    '# TYPE realtime_messages_total counter',
    `realtime_messages_total{transport="websocket",endpoint="/ws",direction="in",client_type="web"} ${o.msgsIn}`,
    'realtime_messages_total{transport="websocket",endpoint="/ws",direction="out",client_type="web"} 0',
    '# TYPE realtime_handshake_duration_seconds histogram',
    `realtime_handshake_duration_seconds_bucket{le="0.01",transport="websocket",endpoint="/ws",outcome="success"} ${b}`,
    `realtime_handshake_duration_seconds_bucket{le="+Inf",transport="websocket",endpoint="/ws",outcome="success"} ${b}`,
    'realtime_handshake_duration_seconds_sum{transport="websocket",endpoint="/ws",outcome="success"} 0.001',
    `realtime_handshake_duration_seconds_count{transport="websocket",endpoint="/ws",outcome="success"} ${b}`,
    '',
  ].join('\n');
}

describe('rejected live values', () => {
  it('negative connections: null with the reason, not -5; back when the value is good', () => {
    const live = createLiveStats({ windowSeconds: 60 });
    live.observe('http://a/metrics', exposition({ active: -6, msgsIn: 0 }), T0);
    expect(live.snapshot()).toEqual({
      at: '2030-01-01T00:00:00.000Z',
      windowSeconds: 0,
      connections: null,
      handshakesPerSecond: null,
      handshakeP50Ms: null,
      handshakeP99Ms: null,
      messagesInPerSecond: null,
      messagesOutPerSecond: null,
      abnormalClosesPerSecond: null,
      rejected: [
        'http://a/metrics: realtime_connections{transport="websocket",endpoint="/ws",state="active"} is -6, not a finite number >= 0',
      ],
    });
    live.observe('http://a/metrics', exposition({ active: 4, msgsIn: 10 }), T0 + 10_000);
    const s = live.snapshot();
    expect(s?.connections).toBe(5);
    expect(s?.rejected).toBeUndefined();
    expect(s?.messagesInPerSecond).toBe(1);
  });

  it('a NaN counter spoils its rate (either end of the window), not the other figures', () => {
    const live = createLiveStats({ windowSeconds: 60 });
    live.observe('u', exposition({ active: 2, msgsIn: 0 }), T0);
    live.observe('u', exposition({ active: 2, msgsIn: Number.NaN }), T0 + 10_000);
    const s = live.snapshot();
    expect(s).toMatchObject({
      connections: 3,
      messagesInPerSecond: null,
      messagesOutPerSecond: 0,
      handshakesPerSecond: 0,
      rejected: [
        'u: realtime_messages_total{transport="websocket",endpoint="/ws",direction="in",client_type="web"} is NaN, not a finite number >= 0',
      ],
    });
    live.observe('u', exposition({ active: 2, msgsIn: 30 }), T0 + 20_000);
    // The window still starts at the first scrape (60 s): the NaN one is in the middle only.
    expect(live.snapshot()).toMatchObject({ messagesInPerSecond: 1.5 });
    expect(live.snapshot()?.rejected).toBeUndefined();
  });

  it('a negative bucket makes the latency quantiles null', () => {
    const live = createLiveStats({ windowSeconds: 60 });
    live.observe('u', exposition({ active: 1, msgsIn: 0, bucket: 1 }), T0);
    live.observe('u', exposition({ active: 1, msgsIn: 0, bucket: -3 }), T0 + 10_000);
    const s = live.snapshot();
    expect(s).toMatchObject({ handshakeP50Ms: null, handshakeP99Ms: null });
    expect(s?.rejected?.[0]).toMatch(
      /^u: realtime_handshake_duration_seconds_bucket\{le="0.01",.*\} is -3, not a finite number >= 0$/,
    );
  });
});
