/**
 * The status page's live figures from raw expositions: rates over the window, handshake
 * quantiles interpolated like histogram_quantile, fleets summed, restarts handled.
 */
import { describe, expect, it } from 'vitest';
import { createLiveStats, quantile } from '../../src/serve/live.js';

/** An exposition as the middleware writes it (only the families the live figures read). */
function exposition(o: {
  connections: number;
  msgsIn: number;
  msgsOut: number;
  /** Cumulative handshake bucket counts for le 0.005, 0.01, 0.025, +Inf. */
  buckets: [number, number, number, number];
}): string {
  const les = ['0.005', '0.01', '0.025', '+Inf'];
  return [
    '# HELP realtime_connections Open connections.',
    '# TYPE realtime_connections gauge',
    `realtime_connections{transport="websocket",endpoint="/ws",state="active"} ${o.connections - 1}`,
    'realtime_connections{transport="websocket",endpoint="/ws",state="idle"} 1',
    '# TYPE realtime_messages_total counter',
    `realtime_messages_total{transport="websocket",endpoint="/ws",direction="in",client_type="web"} ${o.msgsIn}`,
    `realtime_messages_total{transport="websocket",endpoint="/ws",direction="out",client_type="web"} ${o.msgsOut}`,
    '# TYPE realtime_handshake_duration_seconds histogram',
    ...les.map(
      (le, i) =>
        `realtime_handshake_duration_seconds_bucket{le="${le}",transport="websocket",endpoint="/ws",outcome="success"} ${o.buckets[i]}`,
    ),
    `realtime_handshake_duration_seconds_sum{transport="websocket",endpoint="/ws",outcome="success"} 0.1`,
    `realtime_handshake_duration_seconds_count{transport="websocket",endpoint="/ws",outcome="success"} ${o.buckets[3]}`,
    '',
  ].join('\n');
}

const T0 = Date.parse('2030-01-01T00:00:00Z');

describe('live figures', () => {
  it('is null before a scrape; one scrape gives connections but no rates', () => {
    const live = createLiveStats();
    expect(live.snapshot()).toBeNull();
    live.observe(
      'a',
      exposition({ connections: 7, msgsIn: 10, msgsOut: 20, buckets: [1, 2, 3, 3] }),
      T0,
    );
    expect(live.snapshot()).toEqual({
      at: '2030-01-01T00:00:00.000Z',
      windowSeconds: 0,
      connections: 7,
      handshakesPerSecond: null,
      handshakeP50Ms: null,
      handshakeP99Ms: null,
      messagesInPerSecond: null,
      messagesOutPerSecond: null,
      abnormalClosesPerSecond: null,
    });
  });

  it('rates and quantiles over the window, fleets summed', () => {
    const live = createLiveStats({ windowSeconds: 10 });
    live.observe(
      'a',
      exposition({ connections: 7, msgsIn: 10, msgsOut: 20, buckets: [0, 0, 0, 0] }),
      T0,
    );
    live.observe(
      'b',
      exposition({ connections: 3, msgsIn: 0, msgsOut: 0, buckets: [0, 0, 0, 0] }),
      T0,
    );
    // 10 s later: a saw 100 handshakes (50 <= 5 ms, 40 in (5, 10] ms, 10 in (10, 25] ms), b none.
    live.observe(
      'a',
      exposition({ connections: 9, msgsIn: 110, msgsOut: 220, buckets: [50, 90, 100, 100] }),
      T0 + 10_000,
    );
    live.observe(
      'b',
      exposition({ connections: 4, msgsIn: 50, msgsOut: 0, buckets: [0, 0, 0, 0] }),
      T0 + 10_000,
    );
    const s = live.snapshot();
    expect(s).toMatchObject({
      at: '2030-01-01T00:00:10.000Z',
      windowSeconds: 10,
      connections: 13,
      handshakesPerSecond: 10,
      messagesInPerSecond: 15,
      messagesOutPerSecond: 20,
    });
    // rank 50 of 100 is the end of the first bucket: 5 ms; rank 99: (10, 25] ms, 9/10 of it.
    expect(s?.handshakeP50Ms).toBeCloseTo(5, 9);
    expect(s?.handshakeP99Ms).toBeCloseTo(23.5, 9);
  });

  it('old scrapes leave the window; a restart (counters down) restarts the rates', () => {
    const live = createLiveStats({ windowSeconds: 10 });
    const at = (k: number, msgsIn: number) =>
      live.observe(
        'a',
        exposition({ connections: 1, msgsIn, msgsOut: 0, buckets: [0, 0, 0, 0] }),
        T0 + k * 5000,
      );
    at(0, 0);
    at(1, 1000); // a burst early on
    at(2, 1010);
    at(3, 1020);
    at(4, 1030);
    // The window is the last 10 s (3 scrapes): (1030 - 1010) / 10 s.
    expect(live.snapshot()?.messagesInPerSecond).toBe(2);
    at(5, 5); // restarted
    expect(live.snapshot()?.messagesInPerSecond).toBeNull();
    at(6, 15);
    expect(live.snapshot()?.messagesInPerSecond).toBe(2);
  });

  it('garbage is ignored; missing families read as zero', () => {
    const live = createLiveStats();
    live.observe('a', '<html>not metrics</html>', T0);
    expect(live.snapshot()).toBeNull();
    live.observe('a', '# TYPE other_metric gauge\nother_metric 1\n', T0);
    expect(live.snapshot()?.connections).toBeNull();
  });
});

describe('quantile (histogram_quantile semantics)', () => {
  it.each([
    [
      0.5,
      [
        [0.1, 10],
        [0.2, 20],
        [Number.POSITIVE_INFINITY, 20],
      ],
      0.1,
    ],
    [
      0.75,
      [
        [0.1, 10],
        [0.2, 20],
        [Number.POSITIVE_INFINITY, 20],
      ],
      0.15,
    ],
    [
      0.5,
      [
        [0.1, 0],
        [0.2, 0],
        [Number.POSITIVE_INFINITY, 10],
      ],
      0.2,
    ],
    [
      0.5,
      [
        [0.1, 0],
        [Number.POSITIVE_INFINITY, 0],
      ],
      null,
    ],
  ] as const)('q=%d of %j is %s', (q, buckets, expected) => {
    const got = quantile(q, new Map(buckets as unknown as Array<[number, number]>));
    if (expected === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(expected, 12);
  });
});
