/**
 * `forecast.calendarFile`: read when the config is validated (a missing, unreadable or bad
 * file stops the start with one line naming the origin and the field), and the parsed events
 * handed to the training worker's options (runInWorker is replaced by a recorder here).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadServeConfig, type ServeConfig } from '../../src/serve/config.js';
import { calendarOf, trainModel } from '../../src/serve/trainer.js';

const calls = vi.hoisted(() => ({ options: [] as unknown[] }));

vi.mock('@tidewatch/forecast', async (importOriginal) => {
  const original = await importOriginal<typeof import('@tidewatch/forecast')>();
  return {
    ...original,
    runInWorker: async (_task: string, input: { options: unknown }) => {
      calls.options.push(input.options);
      return { model: 'naive', step: 60, forecast: [], fitted: {} };
    },
  };
});

beforeEach(() => {
  calls.options.length = 0;
});

const dir = mkdtempSync(join(tmpdir(), 'tw-serve-calendar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const holidays = file('holidays.csv', 'name,start,end,factor\nlaunch,2026-12-03,,1.5\n');
const LAUNCH = {
  events: [
    {
      name: 'launch',
      startMs: Date.parse('2026-12-03'),
      endMs: Date.parse('2026-12-04'),
      factor: 1.5,
    },
  ],
};

/** A config file with `forecast.calendarFile` set to `path`. */
function configWith(path: unknown): string {
  return file(
    `config-${Math.random().toString(36).slice(2)}.json`,
    JSON.stringify({
      source: { kind: 'scrape', urls: ['http://127.0.0.1:9000/metrics'] },
      forecast: { calendarFile: path },
    }),
  );
}

/** The one issue loading gives. */
function issue(flags: { config?: string }, env: Record<string, string> = {}): string {
  try {
    loadServeConfig({ flags, env, onWarning: () => {} });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toHaveLength(1);
    return (error as ConfigError).issues[0] as string;
  }
  throw new Error('expected a ConfigError');
}

describe('forecast.calendarFile', () => {
  it('is read at validation from the config file or TIDEWATCH_FORECAST_CALENDAR_FILE', () => {
    const fromFile = loadServeConfig({ flags: { config: configWith(holidays) }, env: {} });
    expect(fromFile.forecast.calendarFile).toBe(holidays);
    expect(fromFile.forecast.calendar).toEqual(LAUNCH);
    const fromEnv = loadServeConfig({
      flags: { scrape: ['http://127.0.0.1:9000/metrics'] },
      env: { TIDEWATCH_FORECAST_CALENDAR_FILE: holidays },
    });
    expect(fromEnv.forecast.calendar).toEqual(LAUNCH);
  });

  it('is absent by default', () => {
    const c = loadServeConfig({ flags: { scrape: ['http://127.0.0.1:9000/metrics'] }, env: {} });
    expect('calendarFile' in c.forecast).toBe(false);
    expect('calendar' in c.forecast).toBe(false);
  });

  it('names the field and the config file for a missing file', () => {
    const missing = join(dir, 'missing.csv');
    const config = configWith(missing);
    expect(issue({ config })).toBe(
      `${config}: forecast.calendarFile cannot be read (no such file), got ${JSON.stringify(missing)}`,
    );
  });

  it('names the variable when it gave the path, over the file', () => {
    const config = configWith(holidays);
    expect(issue({ config }, { TIDEWATCH_FORECAST_CALENDAR_FILE: dir })).toBe(
      `TIDEWATCH_FORECAST_CALENDAR_FILE: forecast.calendarFile cannot be read (it is a directory), got ${JSON.stringify(dir)}`,
    );
  });

  it('names the line and field of a bad calendar', () => {
    const bad = file('bad.csv', 'name,start,end,factor\n# launch\nlaunch,2026-12-03,,-2\n');
    const config = configWith(bad);
    expect(issue({ config })).toBe(
      `${config}: forecast.calendarFile ${bad} is not a valid calendar: line 3: factor must be a number > 0, got "-2"`,
    );
  });

  it('refuses a file over 5 MiB', () => {
    const big = file('big.csv', `name,start\n${'#'.repeat(5 * 1024 * 1024)}\n`);
    expect(
      issue({}, { TIDEWATCH_FORECAST_CALENDAR_FILE: big, TIDEWATCH_SCRAPE_URLS: 'http://a/m' }),
    ).toBe(
      `TIDEWATCH_FORECAST_CALENDAR_FILE: forecast.calendarFile is too large: ${5 * 1024 * 1024 + 12} bytes, more than the limit of 5242880 bytes (5 MiB), got ${JSON.stringify(big)}`,
    );
  });
});

describe('training with a calendar', () => {
  const series = { startMs: 0, stepMs: 60_000, values: new Float64Array(10_000).fill(5) };

  it('passes the events to the worker task options', async () => {
    const config = loadServeConfig({ flags: { config: configWith(holidays) }, env: {} });
    await trainModel(series, config);
    expect(calls.options).toHaveLength(1);
    expect((calls.options[0] as { calendar?: unknown }).calendar).toEqual(LAUNCH);
  });

  it('passes none without a calendar file', async () => {
    const config = loadServeConfig({ flags: { scrape: ['http://a/m'] }, env: {} });
    await trainModel(series, config);
    expect(calls.options).toHaveLength(1);
    expect('calendar' in (calls.options[0] as object)).toBe(false);
  });

  it('reads the file itself for a config built without the loader', () => {
    const config = loadServeConfig({ flags: { scrape: ['http://a/m'] }, env: {} });
    const built: ServeConfig = {
      ...config,
      forecast: { ...config.forecast, calendarFile: holidays },
    };
    expect(calendarOf(built)).toEqual(LAUNCH);
    expect(calendarOf(config)).toBeUndefined();
  });
});
