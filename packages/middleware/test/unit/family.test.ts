import { CATALOG, CLOSE_REASONS, OVERFLOW_VALUE } from '@tidewatch/conventions';
import { describe, expect, it } from 'vitest';
import {
  Family,
  type HistogramSeries,
  labelValue,
  minSeriesCap,
  observe,
  overflowLabelSets,
  seriesPerLabelSet,
  type ValueSeries,
} from '../../src/internal/family.js';

describe('Family (cardinality guard)', () => {
  it('folds open-ended labels into __overflow__ past the cap, keeping closed ones', () => {
    const dropped: string[] = [];
    // 5 exposed series: 2 reserved for the overflow (direction in/out), 3 for real labels.
    const fam = new Family<ValueSeries>(CATALOG.messages, 'realtime_messages_total', 5);
    fam.onDrop = (n) => dropped.push(n);
    fam.get(['websocket', '/a', 'in', 'web']).value++;
    fam.get(['websocket', '/a', 'out', 'web']).value++;
    fam.get(['websocket', '/b', 'in', 'web']).value++;
    fam.get(['websocket', '/c', 'in', 'ios']).value += 2;
    fam.get(['websocket', '/d', 'out', 'ios']).value += 5;
    fam.get(['websocket', '/e', 'in', 'web']).value++;
    // Existing series keep working at the cap.
    fam.get(['websocket', '/a', 'in', 'web']).value++;
    const rows = [...fam.series.values()].map((s) => [s.values.join(' '), s.value]);
    expect(rows).toEqual([
      ['websocket /a in web', 2],
      ['websocket /a out web', 1],
      ['websocket /b in web', 1],
      ['__overflow__ __overflow__ in __overflow__', 3],
      ['__overflow__ __overflow__ out __overflow__', 5],
    ]);
    expect(dropped).toEqual(Array(3).fill('realtime_messages_total'));
  });

  it('the cap counts exposed series: a histogram label set costs buckets + 3', () => {
    const spec = CATALOG.connectionDuration; // transport, endpoint, reason; 15 bounds
    expect(seriesPerLabelSet(spec)).toBe(spec.buckets!.length + 3);
    expect(overflowLabelSets(spec)).toBe(CLOSE_REASONS.length);
    expect(minSeriesCap(spec)).toBe(18 * (1 + CLOSE_REASONS.length));
    const cap = 2000;
    const fam = new Family<HistogramSeries>(spec, 'realtime_connection_duration_seconds', cap);
    // 2000 / 18 = 111 label sets, one per close reason kept for its overflow.
    const reasons = CLOSE_REASONS.length;
    expect(fam.maxLabelSets).toBe(111 - reasons);
    for (let i = 0; i < 5000; i++) {
      observe(fam.get(['websocket', `/e${i}`, CLOSE_REASONS[i % CLOSE_REASONS.length]!]), 1);
    }
    expect(fam.exposed).toBe(fam.series.size * 18);
    expect(fam.exposed).toBeLessThanOrEqual(cap);
    expect(fam.series.size).toBe(111);
    const overflow = [...fam.series.values()].filter((s) => s.values[1] === OVERFLOW_VALUE);
    expect(overflow.map((s) => s.values[2]).sort()).toEqual([...CLOSE_REASONS].sort());
    let total = 0;
    for (const s of fam.series.values()) total += s.count;
    expect(total).toBe(5000);
  });

  it('a closed label value outside the catalogue never takes a series past the cap', () => {
    const fam = new Family<ValueSeries>(CATALOG.heartbeats, 'h', minSeriesCap(CATALOG.heartbeats));
    fam.get(['websocket', 'pong']).value++;
    fam.get(['sse', 'bogus' as never]).value++;
    expect(fam.series.size).toBeLessThanOrEqual(fam.cap);
    expect([...fam.series.keys()]).toEqual(['websocket\u0001pong']);
  });

  it('refuses a cap that cannot hold one label set next to the overflow room', () => {
    expect(() => new Family(CATALOG.messageSize, 'x', 38)).toThrow(RangeError);
    expect(() => new Family(CATALOG.messageSize, 'x', 39)).not.toThrow();
  });

  it('observe() fills the first bucket whose bound is >= the value; last is +Inf', () => {
    const fam = new Family<HistogramSeries>(CATALOG.messageSize, 'x', 2000);
    const s = fam.get(['websocket', 'in']);
    for (const v of [0, 64, 65, 256, 1024, 16 * 1024 * 1024, 16 * 1024 * 1024 + 1]) observe(s, v);
    expect(Array.from(s.counts)).toEqual([2, 2, 1, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(s.count).toBe(7);
  });

  it('labelValue bounds and defaults values', () => {
    expect(labelValue('')).toBe('unknown');
    expect(labelValue(undefined)).toBe('unknown');
    expect(labelValue(42)).toBe('42');
    expect(labelValue('x'.repeat(500))).toHaveLength(128);
  });
});
