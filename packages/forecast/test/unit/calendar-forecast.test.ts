/** The operator's calendar through the whole pipeline: selection, final fit, saved model. */
import { describe, expect, it } from 'vitest';
import { backtest } from '../../src/backtest/backtest.js';
import { parseCalendar } from '../../src/calendar/parse.js';
import { forecast, forecastWith } from '../../src/forecast.js';
import { createRandom } from '../../src/random.js';

const DAY = 86_400_000;
/** Monday to Sunday. */
const WEEKLY = [100, 110, 120, 115, 105, 70, 60];
const startMs = Date.parse('2022-01-03');
const dayOf = (iso: string) => (Date.parse(iso) - startMs) / DAY;

/** Daily load with a weekly cycle and seeded noise; Christmas 40 % down; `n` days. */
function series(n: number) {
  const random = createRandom(5);
  const values = Float64Array.from(
    { length: n },
    (_, i) => (WEEKLY[i % 7] as number) * (1 + 0.04 * (random() - 0.5)),
  );
  for (const year of [2022, 2023, 2024]) {
    const i = dayOf(`${year}-12-25`);
    if (i < n) values[i] = (values[i] as number) * 0.6;
  }
  return { startMs, stepMs: DAY, values };
}

const holidays = parseCalendar(
  ['name,start', ...[2022, 2023, 2024].map((y) => `christmas,${y}-12-25`)].join('\n'),
);
const candidates = ['seasonal-naive-weekly', 'holt-winters', 'seasonal-profile'];

describe('forecast with a calendar', () => {
  // History up to 2024-12-20: the forecast's 14 days hold Christmas 2024 (a Wednesday).
  const s = series(dayOf('2024-12-20'));
  const xmas = dayOf('2024-12-25') - s.values.length;

  it('forecasts the learnt dip on the holiday and nothing else changes', () => {
    const plain = forecast(s, { horizon: 14, candidates, model: 'seasonal-profile' });
    const withCal = forecast(s, {
      horizon: 14,
      candidates,
      model: 'seasonal-profile',
      calendar: holidays,
    });
    const ratio = (withCal.forecast[xmas]?.p50 as number) / (plain.forecast[xmas]?.p50 as number);
    expect(Math.abs(ratio - 0.6)).toBeLessThan(0.05);
    expect(withCal.fitted.calendarEffects?.effects[0]).toMatchObject({
      name: 'christmas',
      source: 'history',
      occurrences: 2,
    });
    // The saved model reproduces the forecast bit for bit, calendar included.
    expect(forecastWith(withCal.fitted, s)).toEqual(withCal.forecast);
  });

  it('lowers the backtest error over origins that cross the holiday', () => {
    const long = series(dayOf('2025-01-10'));
    const options = { horizon: 14, origins: 6, every: 7, models: ['seasonal-profile'] };
    const plain = backtest(long, options);
    const withCal = backtest(long, { ...options, calendar: holidays });
    expect(withCal.models[0]?.mase as number).toBeLessThan(plain.models[0]?.mase as number);
  });

  it('multiplies a launch with no history by the factor the operator gave', () => {
    const launch = parseCalendar('name,start,end,factor\nlaunch,2024-12-23,2024-12-24,1.5\n');
    const plain = forecast(s, { horizon: 14, model: 'seasonal-profile' });
    const withCal = forecast(s, { horizon: 14, model: 'seasonal-profile', calendar: launch });
    const at = dayOf('2024-12-23') - s.values.length;
    for (let k = 0; k < 14; k++) {
      const expected = (plain.forecast[k]?.p50 as number) * (k === at ? 1.5 : 1);
      expect(withCal.forecast[k]?.p50).toBeCloseTo(expected, 9);
    }
  });
});
