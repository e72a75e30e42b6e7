import { CATALOG } from '@tidewatch/conventions';
import { describe, expect, it } from 'vitest';
import {
  Family,
  type HistogramSeries,
  labelValue,
  observe,
  type ValueSeries,
} from '../../src/internal/family.js';

describe('Family (cardinality guard)', () => {
  it('folds open-ended labels into __overflow__ past the cap, keeping closed ones', () => {
    const dropped: string[] = [];
    const fam = new Family<ValueSeries>(CATALOG.messages, 'realtime_messages_total', 3);
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

  it('observe() fills the first bucket whose bound is >= the value; last is +Inf', () => {
    const fam = new Family<HistogramSeries>(CATALOG.messageSize, 'x', 10);
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
