import { describe, expect, it } from 'vitest';
import { LatencyRecorder } from '../../src/latency.js';
import { Stats } from '../../src/report.js';

describe('latency percentiles (HdrHistogram, 3 significant digits)', () => {
  it('p50/p99/max of 1..1000 ms are within 0.1 %', () => {
    const r = new LatencyRecorder();
    for (let i = 1; i <= 1000; i++) r.record(i);
    const s = r.summary();
    expect(s.count).toBe(1000);
    expect(Math.abs(s.p50Ms! - 500) / 500).toBeLessThanOrEqual(0.001);
    expect(Math.abs(s.p99Ms! - 990) / 990).toBeLessThanOrEqual(0.001);
    expect(Math.abs(s.maxMs! - 1000) / 1000).toBeLessThanOrEqual(0.001);
  });

  it('keeps sub-millisecond resolution (loopback round trips are ~0.1 ms)', () => {
    const r = new LatencyRecorder();
    for (let i = 0; i < 99; i++) r.record(0.123);
    r.record(7.5);
    const s = r.summary();
    expect(s.p50Ms).toBe(0.123);
    expect(s.p99Ms).toBe(0.123);
    expect(s.maxMs).toBeCloseTo(7.5, 2);
  });

  it('an empty recorder reports null percentiles, not 0', () => {
    expect(new LatencyRecorder().summary()).toEqual({
      count: 0,
      p50Ms: null,
      p99Ms: null,
      maxMs: null,
    });
  });
});

describe('Stats.snapshot', () => {
  it('is plain JSON with stable fields; failures sorted; peakOpen tracks the maximum', () => {
    const st = new Stats();
    st.opens();
    st.opens();
    st.open--;
    st.opens();
    st.fail('http-401');
    st.fail('ECONNREFUSED');
    st.fail('http-401');
    const r = st.snapshot('ws', 'ws://127.0.0.1/ws', 1_700_000_000_000, 1_700_000_002_500);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(r.connections).toMatchObject({ opened: 3, open: 2, peakOpen: 2 });
    expect(Object.keys(r.failuresByReason)).toEqual(['ECONNREFUSED', 'http-401']);
    expect(r.failuresByReason['http-401']).toBe(2);
    expect(r.durationSeconds).toBe(2.5);
    expect(r.startedAt).toBe('2023-11-14T22:13:20.000Z');
    expect(Object.keys(r)).toEqual([
      'transport',
      'url',
      'startedAt',
      'endedAt',
      'durationSeconds',
      'connections',
      'failuresByReason',
      'messages',
      'bytes',
      'rtt',
      'heartbeats',
      'pingRtt',
    ]);
  });
});
