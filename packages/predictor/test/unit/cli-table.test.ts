import type { BacktestReport, ForecastResult } from '@tidewatch/forecast';
import { describe, expect, it } from 'vitest';
import { backtestJson, forecastJson } from '../../src/cli/commands.js';
import { describe as describeProgress } from '../../src/cli/progress.js';
import {
  coverageByLead,
  duration,
  renderBacktest,
  renderForecast,
  renderTable,
} from '../../src/cli/table.js';

const report: BacktestReport = {
  models: [
    {
      model: 'seasonal-naive-weekly',
      mase: 0.7461,
      wape: 0.0332,
      coverage90: 0.881,
      coverage90ByStep: [],
      fitMs: 0,
    },
    {
      model: 'holt-winters',
      mase: 0.7129,
      wape: 0.0318,
      coverage90: 0.9012,
      // 24 steps: 1, 1, 6/7, 6/7 per quarter of the horizon.
      coverage90ByStep: [...Array(12).fill(1), ...Array(12).fill(6 / 7)],
      fitMs: 1234,
    },
    {
      model: 'lstm',
      mase: Number.NaN,
      wape: 0.05,
      coverage90: 0.7,
      coverage90ByStep: [],
      fitMs: 45_210,
    },
  ],
  selected: 'holt-winters',
  horizon: 24,
  step: 3600,
  origins: 7,
  skipped: [{ model: 'seasonal-profile', needs: 528 }],
};

const result: ForecastResult = {
  model: 'holt-winters',
  step: 3600,
  forecast: [
    { timestamp: '2001-01-29T00:00:00.000Z', p50: 43.5, p90: 53.948 },
    { timestamp: '2001-01-29T01:00:00.000Z', p50: 1156.5, p90: 1206.74 },
    { timestamp: '2001-01-29T02:00:00.000Z', p50: 0, p90: 0.25 },
  ],
  backtest: report,
  fitted: {} as ForecastResult['fitted'],
};

describe('renderTable', () => {
  it('aligns columns, right-aligns numbers and trims trailing space', () => {
    const out = renderTable(
      ['name', 'n'],
      [
        ['a', '1'],
        ['long name', '100'],
      ],
      ['left', 'right'],
    );
    expect(out).toBe(
      ['name         n', '---------  ---', 'a            1', 'long name  100'].join('\n'),
    );
  });
});

describe('renderBacktest', () => {
  const out = renderBacktest(report);
  const lines = out.split('\n');

  it('lists every model with MASE, WAPE %, coverage % and fit time, marking the selected one', () => {
    expect(lines[0]).toBe('   model                   MASE  WAPE %  p90 cov %  fit time');
    expect(lines[2]).toBe('   seasonal-naive-weekly  0.746    3.32       88.1      0 ms');
    expect(lines[3]).toBe('*  holt-winters           0.713    3.18       90.1     1.2 s');
    expect(lines[4]).toBe('   lstm                       -    5.00       70.0    45.2 s');
    expect(out).toContain('* selected: holt-winters (lowest MASE');
    expect(out).toContain('backtest: 7 origins, horizon 24 steps of 3600 s');
    expect(out).toContain('skipped seasonal-profile: needs 528 points of history');
    expect(out).toContain(
      'p90 coverage of holt-winters by steps ahead: 1-6: 100.0 %, 7-12: 100.0 %, 13-18: 85.7 %, 19-24: 85.7 %',
    );
  });

  it('summarises coverage by lead time in at most four spans', () => {
    expect(coverageByLead([0.5, 1])).toBe('1: 50.0 %, 2: 100.0 %');
    expect(coverageByLead([1, 1, 1, 0, 0])).toBe('1: 100.0 %, 2: 100.0 %, 3: 100.0 %, 4-5: 0.0 %');
  });

  it('gives every row the same width so columns line up', () => {
    const widths = new Set(lines.slice(0, 5).map((l) => l.length));
    expect(widths.size).toBe(1);
  });
});

describe('renderForecast', () => {
  it('shows the chosen model, the backtest that chose it and timestamp/p50/p90 rows', () => {
    const out = renderForecast(result);
    expect(out).toContain('*  holt-winters');
    expect(out).toContain('model: holt-winters (chosen by backtest), step 3600 s, 3 steps ahead');
    expect(out).toContain('timestamp                    p50     p90');
    expect(out).toContain('2001-01-29T00:00:00.000Z   43.50   53.95');
    expect(out).toContain('2001-01-29T01:00:00.000Z  1156.5  1206.7');
    expect(out).toContain('2001-01-29T02:00:00.000Z    0.00  0.2500');
  });

  it('says a named model was requested when there was no backtest', () => {
    const { backtest: _, ...named } = result;
    expect(renderForecast(named)).toMatch(/^model: holt-winters \(as requested\)/);
  });
});

describe('JSON output', () => {
  it('puts the contract fields first and leaves the fitted state out', () => {
    const json = JSON.parse(JSON.stringify(forecastJson(result)));
    expect(Object.keys(json)).toEqual(['model', 'step', 'forecast', 'backtest']);
    expect(json.forecast[0]).toEqual({
      timestamp: '2001-01-29T00:00:00.000Z',
      p50: 43.5,
      p90: 53.948,
    });
    const bt = backtestJson(report) as { models: object[] };
    expect(Object.keys(bt)).toEqual([
      'models',
      'selected',
      'horizon',
      'step',
      'origins',
      'skipped',
    ]);
    expect(Object.keys(bt.models[0] as object)).toEqual([
      'model',
      'mase',
      'wape',
      'coverage90',
      'fitMs',
    ]);
  });
});

describe('formatting helpers', () => {
  it('formats fit times', () => {
    expect(duration(0)).toBe('0 ms');
    expect(duration(999.4)).toBe('999 ms');
    expect(duration(1500)).toBe('1.5 s');
  });

  it('describes progress for the bar', () => {
    expect(describeProgress({ origin: 0, total: 7 })).toBe('origin 1/7');
    expect(describeProgress({ origin: 7, total: 7 })).toBe('origin 7/7');
    expect(
      describeProgress({
        origin: 0,
        total: 1,
        fit: { model: 'lstm', iterations: 3, total: 60, error: 0.01234 },
      }),
    ).toBe('fitting · lstm iteration 3/60 error 0.0123');
  });
});
