/** Calendar effects: learnt from history, divided out of it, multiplied into forecasts. */
import { describe, expect, it } from 'vitest';
import { applyCalendar, calendarAdjust } from '../../src/calendar/effects.js';
import { type Calendar, parseCalendar } from '../../src/calendar/parse.js';
import { createRandom } from '../../src/random.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ms = (iso: string) => Date.parse(iso);
/** Monday to Sunday. */
const WEEKLY = [100, 110, 120, 115, 105, 70, 60];

describe('calendarAdjust on daily data: a 40 % Christmas dip', () => {
  // Three years of daily load from Monday 2022-01-03 with a weekly cycle, a slow trend and
  // +-1 % seeded noise; every Christmas and New Year's Day in it is 40 % / 30 % down.
  const startMs = ms('2022-01-03');
  const n = 3 * 365;
  const random = createRandom(17);
  const clean = Float64Array.from(
    { length: n },
    (_, i) => (WEEKLY[i % 7] as number) * (1 + i / 2000) * (1 + 0.02 * (random() - 0.5)),
  );
  const calendar = parseCalendar(
    [
      'name,start',
      ...[2022, 2023, 2024, 2025].map((y) => `christmas,${y}-12-25`),
      ...[2023, 2024, 2025].map((y) => `new-year,${y}-01-01`),
    ].join('\n'),
  );
  const dayOf = (iso: string) => (ms(iso) - startMs) / DAY;
  const christmas = [2022, 2023, 2024].map((y) => dayOf(`${y}-12-25`));
  const newYear = [2023, 2024, 2025].map((y) => dayOf(`${y}-01-01`));
  const y = Float64Array.from(clean);
  for (const i of christmas) y[i] = (y[i] as number) * 0.6;
  for (const i of newYear) y[i] = (y[i] as number) * 0.7;

  const result = calendarAdjust(y, startMs, DAY, calendar);

  it('learns one factor per name: 0.6 +- 0.02 for Christmas, 0.7 +- 0.02 for New Year', () => {
    const [xmas, ny] = [result.effects.effects[0], result.effects.effects[1]];
    expect(xmas).toMatchObject({ name: 'christmas', source: 'history', width: 1, occurrences: 3 });
    expect(xmas?.factors).toHaveLength(1);
    expect(Math.abs((xmas?.factors[0] as number) - 0.6)).toBeLessThanOrEqual(0.02);
    expect(ny).toMatchObject({ name: 'new-year', source: 'history', width: 1, occurrences: 3 });
    expect(Math.abs((ny?.factors[0] as number) - 0.7)).toBeLessThanOrEqual(0.02);
    expect(result.effects.stepMs).toBe(DAY);
  });

  it('returns a history without the dips and leaves every other point and the input alone', () => {
    for (const i of [...christmas, ...newYear])
      expect(Math.abs((result.y[i] as number) / (clean[i] as number) - 1)).toBeLessThan(0.03);
    const events = new Set([...christmas, ...newYear]);
    let same = 0;
    for (let i = 0; i < n; i++) if (!events.has(i) && result.y[i] === y[i]) same++;
    expect(same).toBe(n - events.size);
    expect(y[christmas[0] as number]).toBe((clean[christmas[0] as number] as number) * 0.6);
  });

  it('puts the dip back into a forecast of the next Christmas, and only there', () => {
    const firstMs = startMs + n * DAY; // 2025-01-02
    const days = dayOf('2025-12-27') - n;
    const p50 = new Float64Array(days).fill(100);
    const out = applyCalendar(p50, firstMs, DAY, calendar, result.effects);
    const k = dayOf('2025-12-25') - n;
    const factor = result.effects.effects[0]?.factors[0] as number;
    expect(out[k]).toBe(100 * factor);
    expect(Array.from(out).filter((v) => v !== 100)).toEqual([100 * factor]);
    expect(p50[k]).toBe(100);
  });

  it('effects survive JSON (they are stored in the fitted forecaster)', () => {
    expect(JSON.parse(JSON.stringify(result.effects))).toEqual(result.effects);
  });
});

describe('applyCalendar: events with no history', () => {
  const calendar = parseCalendar(
    [
      'name,start,end,factor',
      'launch,2026-12-03T18:00:00Z,2026-12-03T21:00:00Z,1.5',
      'maintenance,2026-12-03T02:00:00Z,2026-12-03T04:00:00Z,',
    ].join('\n'),
  );
  const history = new Float64Array(24 * 21).fill(50);
  const historyStart = ms('2026-12-03') - history.length * HOUR;
  const { y, effects } = calendarAdjust(history, historyStart, HOUR, calendar);

  it('records that launch rests on the file and maintenance on nothing', () => {
    expect(effects.effects).toEqual([
      { name: 'launch', source: 'file', width: 1, factors: [], occurrences: 0 },
      { name: 'maintenance', source: 'none', width: 1, factors: [], occurrences: 0 },
    ]);
    expect(Array.from(y)).toEqual(Array.from(history));
  });

  it('multiplies exactly the launch steps by 1.5 and leaves maintenance unchanged', () => {
    const p50 = Float64Array.from({ length: 48 }, (_, k) => 100 + k);
    const out = applyCalendar(p50, ms('2026-12-03'), HOUR, calendar, effects);
    const expected = Array.from(p50, (v, k) => (k >= 18 && k < 21 ? v * 1.5 : v));
    expect(Array.from(out)).toEqual(expected);
  });

  it('multiplies only the steps inside the window when the event runs past either end', () => {
    const p50 = new Float64Array(4).fill(10);
    // 16:00..20:00: the launch's first two hours, 18:00 and 19:00.
    expect(
      Array.from(applyCalendar(p50, ms('2026-12-03T16:00:00Z'), HOUR, calendar, effects)),
    ).toEqual([10, 10, 15, 15]);
    // 20:00..24:00: its last hour.
    expect(
      Array.from(applyCalendar(p50, ms('2026-12-03T20:00:00Z'), HOUR, calendar, effects)),
    ).toEqual([15, 10, 10, 10]);
  });

  it('uses the file factor for a name the effects do not know (calendar changed since)', () => {
    const out = applyCalendar(new Float64Array(24).fill(2), ms('2026-12-03'), HOUR, calendar, {
      stepMs: HOUR,
      effects: [],
    });
    expect(Array.from(out.subarray(17, 22))).toEqual([2, 3, 3, 3, 2]);
  });

  it('refuses effects learnt at another step', () => {
    expect(() => applyCalendar(new Float64Array(1), 0, DAY, calendar, effects)).toThrow(
      new RangeError(
        `applyCalendar: stepMs ${DAY} differs from the ${HOUR} ms the effects were learnt at`,
      ),
    );
  });
});

describe('calendarAdjust on hourly data: a 3-hour event', () => {
  // Ten weeks of hourly load with a daily and a weekly cycle (noise-free: exact factors).
  const startMs = ms('2026-01-05'); // a Monday
  const n = 10 * 7 * 24;
  const clean = Float64Array.from(
    { length: n },
    (_, i) =>
      (WEEKLY[Math.floor(i / 24) % 7] as number) *
      (1 + 0.5 * Math.sin((2 * Math.PI * (i % 24)) / 24)),
  );
  // A match from 18:00 to 21:00 on irregular days: x2, x3, x1.5 by hour.
  const days = [9, 22, 36, 47, 60];
  const effect = [2, 3, 1.5];
  const rows = days.map((d) => {
    const s = new Date(startMs + d * DAY + 18 * HOUR).toISOString();
    const e = new Date(startMs + d * DAY + 21 * HOUR).toISOString();
    return `match,${s},${e}`;
  });
  // One more match straddling the end of the history: it began an hour before the forecast.
  const firstMs = startMs + n * HOUR;
  rows.push(
    `match,${new Date(firstMs - HOUR).toISOString()},${new Date(firstMs + 2 * HOUR).toISOString()}`,
  );
  const calendar: Calendar = parseCalendar(['name,start,end', ...rows].join('\n'));
  const y = Float64Array.from(clean);
  for (const d of days)
    for (let h = 0; h < 3; h++)
      y[d * 24 + 18 + h] = (clean[d * 24 + 18 + h] as number) * (effect[h] as number);
  y[n - 1] = (clean[n - 1] as number) * 2; // the straddling match's first hour
  const result = calendarAdjust(y, startMs, HOUR, calendar);

  it('learns one factor per hour of the event', () => {
    const match = result.effects.effects[0];
    expect(match).toMatchObject({ name: 'match', source: 'history', width: 1, occurrences: 6 });
    expect(match?.factors.map((f) => f.toFixed(9))).toEqual([
      '2.000000000',
      '3.000000000',
      '1.500000000',
    ]);
  });

  it('divides the effect out of every occurrence, the straddling one included', () => {
    for (const d of days)
      for (let h = 0; h < 3; h++)
        expect(result.y[d * 24 + 18 + h]).toBeCloseTo(clean[d * 24 + 18 + h] as number, 9);
    expect(result.y[n - 1]).toBeCloseTo(clean[n - 1] as number, 9);
  });

  it('continues the profile into the forecast: x3 then x1.5, then nothing', () => {
    const out = applyCalendar(new Float64Array(4).fill(1), firstMs, HOUR, calendar, result.effects);
    expect(Array.from(out, (v) => v.toFixed(9))).toEqual([
      '3.000000000',
      '1.500000000',
      '1.000000000',
      '1.000000000',
    ]);
  });

  it('gives a 3-hour event on daily data one factor (it is one step)', () => {
    const daily = Float64Array.from({ length: 70 }, (_, i) => WEEKLY[i % 7] as number);
    const concerts = [9, 22, 36, 47, 60];
    for (const d of concerts) daily[d] = (daily[d] as number) * 1.2;
    const text = [
      'name,start,end',
      ...concerts.map(
        (d) =>
          `concert,${new Date(startMs + d * DAY + 19 * HOUR).toISOString()},${new Date(startMs + d * DAY + 22 * HOUR).toISOString()}`,
      ),
    ].join('\n');
    const r = calendarAdjust(daily, startMs, DAY, parseCalendar(text));
    expect(r.effects.effects[0]).toMatchObject({ source: 'history', width: 1, occurrences: 5 });
    expect(r.effects.effects[0]?.factors.map((f) => f.toFixed(9))).toEqual(['1.200000000']);
  });

  it('cuts a day-long event on minute data into 48 buckets of 30 minutes', () => {
    const minute = 60_000;
    const m = 5 * 7 * 1440;
    const v = Float64Array.from({ length: m }, (_, i) => 100 + (i % 1440) / 10);
    const day = 16;
    for (let i = day * 1440; i < (day + 1) * 1440; i++)
      v[i] = (v[i] as number) * (i % 1440 < 720 ? 0.5 : 0.8);
    const iso = new Date(startMs + day * DAY).toISOString().slice(0, 10);
    const r = calendarAdjust(v, startMs, minute, parseCalendar(`name,start\nholiday,${iso}\n`));
    const e = r.effects.effects[0];
    expect(e).toMatchObject({ source: 'history', width: 30, occurrences: 1 });
    expect(e?.factors.map((f) => f.toFixed(9))).toEqual([
      ...Array(24).fill('0.500000000'),
      ...Array(24).fill('0.800000000'),
    ]);
  });

  it('clamps factors to [0.05, 20] and leaves an unmeasurable event alone', () => {
    const flat = new Float64Array(6 * 7).fill(10);
    flat[20] = 0;
    flat[1] = 1000;
    const r = calendarAdjust(
      flat,
      startMs,
      DAY,
      parseCalendar(
        [
          'name,start',
          `outage,${new Date(startMs + 20 * DAY).toISOString().slice(0, 10)}`,
          `spike,${new Date(startMs + DAY).toISOString().slice(0, 10)}`,
          // Weekly: its references are all in the event itself.
          ...[3, 10, 17, 24, 31, 38].map(
            (d) => `weekly,${new Date(startMs + d * DAY).toISOString().slice(0, 10)}`,
          ),
        ].join('\n'),
      ),
    );
    expect(r.effects.effects.map((e) => [e.name, e.source, e.factors])).toEqual([
      ['outage', 'history', [0.05]],
      ['spike', 'history', [20]],
      ['weekly', 'none', []],
    ]);
    expect(r.y[20]).toBe(0);
    expect(r.y[1]).toBe(50);
  });
});
