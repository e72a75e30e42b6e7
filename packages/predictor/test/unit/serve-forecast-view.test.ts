/**
 * `/forecast`'s light default: the query (`history`, `points`, `detail`), min/max
 * downsampling that keeps peaks, troughs, gaps and the newest point, and the size of the
 * default answer at 10,000 points of history.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_VIEW_POINTS,
  downsampleIndices,
  forecastView,
  historyView,
  parseForecastView,
} from '../../src/serve/forecast-view.js';

const identity = (values: number[]) => (i: number) => values[i] as number;

describe('parseForecastView', () => {
  it.each([
    [{}, { minutes: 360, detail: 'light', points: 100 }],
    [{ points: '2' }, { minutes: 360, detail: 'light', points: 2 }],
    [
      { points: '100000', history: '5' },
      { minutes: 5, detail: 'light', points: 100_000 },
    ],
    [{ detail: 'full' }, { minutes: 360, detail: 'full', points: null }],
    [
      { detail: 'light', points: '1000' },
      { minutes: 360, detail: 'light', points: 1000 },
    ],
    [{ points: '1' }, { error: 'points must be an integer from 2 to 100000, got "1"' }],
    [{ points: '100001' }, { error: 'points must be an integer from 2 to 100000, got "100001"' }],
    [{ points: '1e3' }, { error: 'points must be an integer from 2 to 100000, got "1e3"' }],
    [{ points: '' }, { error: 'points must be an integer from 2 to 100000, got ""' }],
    [{ points: ' 5' }, { error: 'points must be an integer from 2 to 100000, got " 5"' }],
    [{ points: '-5' }, { error: 'points must be an integer from 2 to 100000, got "-5"' }],
    [
      { points: '9'.repeat(80) },
      {
        error: `points must be an integer from 2 to 100000, got "${'9'.repeat(59)}...`,
      },
    ],
    [{ points: ['1', '2'] }, { error: 'points must be given once' }],
    [
      { points: { a: '1' } },
      { error: 'points must be an integer from 2 to 100000, got {"a":"1"}' },
    ],
    [{ detail: 'FULL' }, { error: 'detail must be "light" or "full", got "FULL"' }],
    [{ detail: ['full', 'full'] }, { error: 'detail must be given once' }],
    [
      { detail: 'full', points: '10' },
      { error: 'points cannot be combined with detail=full (full sends every point)' },
    ],
    [
      { history: '0' },
      { error: 'history must be an integer number of minutes from 1 to 10080, got "0"' },
    ],
    [{ history: ['1', '2'] }, { error: 'history must be given once' }],
    [{ limit: '5' }, { error: 'unknown query parameter "limit" (known: history, points, detail)' }],
  ])('%j', (query, expected) => {
    expect(parseForecastView(query as Record<string, unknown>, 360)).toEqual(expected);
  });
});

describe('downsampleIndices', () => {
  it('keeps everything that fits', () => {
    expect(downsampleIndices(3, 100, identity([1, 2, 3]), identity([1, 2, 3]))).toEqual([0, 1, 2]);
    expect(downsampleIndices(0, 100, identity([]), identity([]))).toEqual([]);
  });

  it('below 5 points: evenly spaced from the first to the last', () => {
    const v = identity(Array.from({ length: 11 }, (_, i) => i));
    expect(downsampleIndices(11, 2, v, v)).toEqual([0, 10]);
    expect(downsampleIndices(11, 3, v, v)).toEqual([0, 5, 10]);
    expect(downsampleIndices(11, 4, v, v)).toEqual([0, 3, 7, 10]);
  });

  it('per bucket the lowest and highest point in time order, and the newest point', () => {
    // 13 points, max 5: 2 buckets over the first 12, then index 12.
    const values = [5, 9, 1, 5, 5, 5, /* bucket 2 */ 5, 5, 0, 5, 7, 5, /* newest */ 4];
    const v = identity(values);
    expect(downsampleIndices(values.length, 5, v, v)).toEqual([1, 2, 8, 10, 12]);
  });

  it('a bucket of equal values gives one point; a bucket without data one gap', () => {
    const values = [3, 3, 3, 3, Number.NaN, Number.NaN, Number.NaN, Number.NaN, 2];
    const v = identity(values);
    // max 5: 2 buckets of 4; the first: all 3 (one point, the first); the second: no data.
    expect(downsampleIndices(values.length, 5, v, v)).toEqual([0, 4, 8]);
  });

  it('never more than max, always ascending and ending with the last index', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 200; round++) {
      const length = 1 + Math.floor(random() * 3000);
      const max = 2 + Math.floor(random() * 300);
      const values = Array.from({ length }, () => (random() < 0.1 ? Number.NaN : random()));
      const v = identity(values);
      const out = downsampleIndices(length, max, v, v);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(out.at(-1)).toBe(length - 1);
      expect(out.every((x, i) => i === 0 || x > (out[i - 1] as number))).toBe(true);
    }
  });
});

describe('history and forecast views', () => {
  const START = Date.parse('2030-01-01T00:00:00Z');
  const values = Float64Array.from({ length: 10_000 }, (_, i) =>
    i === 5_000 ? 9_999.5 : i === 7_000 ? Number.NaN : 100 + (i % 97) + i / 1000,
  );
  const series = { startMs: START, stepMs: 1000, values };
  const forecast = Array.from({ length: 60 }, (_, k) => ({
    timestamp: new Date(START + (10_000 + k) * 1000).toISOString(),
    p50: 110 + k / 7,
    p90: 130 + k / 7,
  }));

  it('light keeps the peak and the newest point exactly; full keeps everything', () => {
    const light = historyView(series, START, DEFAULT_VIEW_POINTS);
    expect(light.total).toBe(10_000);
    expect(light.points.length).toBeLessThanOrEqual(100);
    expect(light.points.at(-1)).toEqual({
      timestamp: new Date(START + 9_999_000).toISOString(),
      value: values[9_999],
    });
    expect(light.points).toContainEqual({
      timestamp: new Date(START + 5_000_000).toISOString(),
      value: 9_999.5,
    });
    const full = historyView(series, START, null);
    expect(full.points).toHaveLength(10_000);
    expect(full.points[7_000]?.value).toBeNull();
    // The window starts at fromMs: the last 60 s are 60 points.
    expect(historyView(series, START + 9_940_000, null).points).toHaveLength(60);
    expect(historyView(undefined, START, 100)).toEqual({ points: [], total: 0 });
  });

  it('the forecast keeps its lowest p50 and highest p90 per bucket', () => {
    expect(forecastView(forecast, 100).points).toEqual(forecast);
    const few = forecastView(forecast, 5);
    expect(few.total).toBe(60);
    expect(few.points.map((p) => p.timestamp)).toEqual(
      [0, 28, 29, 58, 59].map((k) => forecast[k]?.timestamp),
    );
  });

  it('the default answer at 10,000 points of history is under 20 KiB', () => {
    const body = JSON.stringify({
      history: historyView(series, START, DEFAULT_VIEW_POINTS).points,
      forecast: forecastView(forecast, DEFAULT_VIEW_POINTS).points,
    });
    expect(body.length).toBeLessThan(20 * 1024);
    const fullBody = JSON.stringify({
      history: historyView(series, START, null).points,
      forecast: forecastView(forecast, null).points,
    });
    expect(fullBody.length).toBeGreaterThan(400 * 1024);
  });
});
