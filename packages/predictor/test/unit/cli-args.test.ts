import { describe, expect, it } from 'vitest';
import {
  parseBacktestArgs,
  parseForecastArgs,
  positiveInt,
  positiveNumber,
} from '../../src/cli/args.js';
import { CliError } from '../../src/cli/errors.js';
import { checkHistory, historyNeeded } from '../../src/cli/history.js';

const base = { input: 'load.csv', horizon: '24', output: 'table' };

describe('argument validation', () => {
  it('parses valid backtest options into typed values', () => {
    expect(
      parseBacktestArgs({
        ...base,
        step: '3600',
        origins: '5',
        every: '12',
        models: 'holt-winters, naive,holt-winters',
        timeBudget: '2.5',
        output: 'json',
      }),
    ).toEqual({
      input: 'load.csv',
      horizon: 24,
      step: 3600,
      origins: 5,
      every: 12,
      models: ['holt-winters', 'naive'],
      timeBudgetMs: 2500,
      output: 'json',
    });
  });

  it('defaults forecast --model to auto and checks a named one', () => {
    expect(parseForecastArgs(base)).toMatchObject({ model: 'auto', horizon: 24, output: 'table' });
    expect(parseForecastArgs({ ...base, model: 'lstm' }).model).toBe('lstm');
    expect(() => parseForecastArgs({ ...base, model: 'prophet' })).toThrow(
      /^unknown model "prophet" \(known: naive, /,
    );
  });

  it.each(['0', '-3', '1.5', 'abc', '', '1e3', '24h', '99999999999999999999'])(
    'rejects horizon %j with exit code 1',
    (h) => {
      let error: unknown;
      try {
        parseBacktestArgs({ ...base, horizon: h });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CliError);
      expect((error as CliError).exitCode).toBe(1);
      expect((error as CliError).message).toBe(
        `--horizon must be a positive integer (steps), got "${h}"`,
      );
    },
  );

  it('rejects other bad values with one clear message each', () => {
    expect(() => parseBacktestArgs({ ...base, origins: '0' })).toThrow(
      '--origins must be a positive integer (origins), got "0"',
    );
    expect(() => parseBacktestArgs({ ...base, every: 'x' })).toThrow(
      '--every must be a positive integer (steps), got "x"',
    );
    expect(() => parseBacktestArgs({ ...base, step: '-60' })).toThrow(
      '--step must be a positive number (seconds), got "-60"',
    );
    expect(() => parseBacktestArgs({ ...base, timeBudget: '0' })).toThrow(
      '--time-budget must be a positive number (seconds), got "0"',
    );
    expect(() => parseBacktestArgs({ ...base, models: ' , ' })).toThrow(
      '--models needs at least one model name',
    );
    expect(() => parseBacktestArgs({ ...base, models: 'naive,arima' })).toThrow(
      /^unknown model "arima"/,
    );
    expect(() => parseBacktestArgs({ ...base, input: '' })).toThrow('--input FILE.csv is required');
  });

  it('accepts fractional seconds and plain integers', () => {
    expect(positiveNumber('0.5', '--step', 'seconds')).toBe(0.5);
    expect(positiveInt('+7', '--origins', 'origins')).toBe(7);
  });
});

describe('history check', () => {
  const hourly = { startMs: 0, stepMs: 3_600_000 };

  it('needs more than a weekly season plus the scored windows for a backtest', () => {
    // 169 (a week + 1) + 24 + 6 x 24
    expect(historyNeeded(hourly, { horizon: 24 })).toBe(337);
    // seasonal-profile needs two weeks and a day before the first origin
    expect(historyNeeded(hourly, { horizon: 24, origins: 3, models: ['seasonal-profile'] })).toBe(
      360 + 24 + 48,
    );
    expect(historyNeeded(hourly, { horizon: 24, model: 'naive' })).toBe(1);
  });

  it('says what is there and what is needed, in points and days', () => {
    const series = { ...hourly, values: new Float64Array(200) };
    expect(() => checkHistory(series, { horizon: 24 })).toThrow(
      'too little history: 200 points (8.33 days), need at least 337 points (14 days) for a weekly season and 7 backtest origins of horizon 24',
    );
    expect(() => checkHistory(series, { horizon: 24, model: 'seasonal-profile' })).toThrow(
      'too little history: 200 points (8.33 days), need at least 360 points (15 days) to fit seasonal-profile for horizon 24',
    );
    expect(() =>
      checkHistory({ ...hourly, values: new Float64Array(337) }, { horizon: 24 }),
    ).not.toThrow();
  });
});
