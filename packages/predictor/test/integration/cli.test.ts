/**
 * The built `tidewatch-predictor` bin as scripts use it: real processes on slices of the
 * shipped flights fixture. Needs `npx tsup` (npm run build) in packages/predictor first; the
 * test command builds before vitest runs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, cli, requireBuiltCli } from './run-cli.js';

const fixture = fileURLToPath(new URL('../../fixtures/flights-2001-hourly.csv', import.meta.url));
const FAST = 'seasonal-naive-weekly,holt-winters,seasonal-profile';

// Created at collection time: the error cases below name files in it.
const dir = mkdtempSync(join(tmpdir(), 'tw-cli-'));
const lines = readFileSync(fixture, 'utf8').trimEnd().split('\n');
/** Writes the header and the first `rows` data rows of the fixture (or custom lines). */
function file(name: string, content: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${content.join('\n')}\n`);
  return path;
}
const slice = (rows: number) => lines.slice(0, rows + 1);

let fourWeeks: string;

beforeAll(() => {
  requireBuiltCli();
  fourWeeks = file('four-weeks.csv', slice(24 * 28));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `<command> --input four-weeks.csv --horizon 24`, then `extra`. */
const onFourWeeks = (command: 'backtest' | 'forecast', ...extra: string[]) =>
  cli(command, '--input', fourWeeks, '--horizon', '24', ...extra);

interface ModelRow {
  model: string;
  mase: number;
  wape: number;
  coverage90: number;
}

function expectReport(json: { models: ModelRow[]; selected: string }, names: string[]) {
  expect(json.models.map((m) => m.model)).toEqual(names);
  for (const m of json.models) {
    expect(Object.keys(m).slice(0, 4)).toEqual(['model', 'mase', 'wape', 'coverage90']);
    for (const k of ['mase', 'wape', 'coverage90'] as const)
      expect(m[k]).toEqual(expect.any(Number));
  }
  const best = json.models.reduce((a, b) => (b.mase < a.mase ? b : a));
  expect(json.selected).toBe(best.model);
}

describe('tidewatch-predictor backtest', () => {
  it('prints the contract JSON and selects the lowest MASE', async () => {
    const r = await onFourWeeks('backtest', '--models', FAST, '--output', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(Object.keys(json).slice(0, 2)).toEqual(['models', 'selected']);
    expectReport(json, FAST.split(','));
    expect(json).toMatchObject({ horizon: 24, step: 3600, origins: 7 });
  });

  it('prints a table with the selected row marked', async () => {
    const r = await onFourWeeks('backtest', '--models', FAST, '--origins', '3');
    expect(r.code).toBe(0);
    const json = JSON.parse(
      (await onFourWeeks('backtest', '--models', FAST, '--origins', '3', '--output', 'json'))
        .stdout,
    );
    expect(r.stdout).toMatch(/^\s+model\s+MASE\s+WAPE %\s+p90 cov %\s+fit time$/m);
    expect(r.stdout).toMatch(new RegExp(`^\\*\\s+${json.selected}\\s`, 'm'));
    expect(r.stdout).toContain(`* selected: ${json.selected}`);
    expect(r.stderr).toBe('');
  });

  it('trains the LSTM in a worker within a time budget', async () => {
    const r = await onFourWeeks(
      'backtest',
      '--models',
      'seasonal-naive-weekly,lstm',
      '--time-budget',
      '5',
      '--output',
      'json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expectReport(JSON.parse(r.stdout), ['seasonal-naive-weekly', 'lstm']);
  });
});

describe('tidewatch-predictor forecast', () => {
  it('forecasts with the backtest winner in the contract JSON', async () => {
    const r = await onFourWeeks('forecast', '--models', FAST, '--output', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(Object.keys(json).slice(0, 3)).toEqual(['model', 'step', 'forecast']);
    expect(json.step).toBe(3600);
    expect(json.model).toBe(json.backtest.selected);
    expectReport(json.backtest, FAST.split(','));
    expect(json.forecast).toHaveLength(24);
    // The first point is one step after the last input row (2001-01-28T23:00Z).
    expect(json.forecast[0].timestamp).toBe('2001-01-29T00:00:00.000Z');
    expect(json.forecast[23].timestamp).toBe('2001-01-29T23:00:00.000Z');
    for (const p of json.forecast) {
      expect(Object.keys(p)).toEqual(['timestamp', 'p50', 'p90']);
      expect(p.p90).toBeGreaterThanOrEqual(p.p50);
    }
  });

  it('uses a named model, accepts unix seconds and a matching --step, prints a table', async () => {
    const unix = file(
      'unix.csv',
      slice(24 * 21).map((l, i) =>
        i === 0 ? l : `${Date.parse(l.split(',')[0] as string) / 1000},${l.split(',')[1]}`,
      ),
    );
    const r = await cli(
      'forecast',
      '--input',
      unix,
      '--horizon',
      '6',
      '--step',
      '3600',
      '--model',
      'seasonal-naive-weekly',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'model: seasonal-naive-weekly (as requested), step 3600 s, 6 steps ahead',
    );
    // Weekly seasonal naive repeats the value a week earlier: 2001-01-15T00:00Z.
    const weekAgo = lines.find((l) => l.startsWith('2001-01-15T00:00:00'))?.split(',')[1];
    expect(r.stdout).toMatch(
      new RegExp(
        `^2001-01-22T00:00:00\\.000Z\\s+${Number(weekAgo).toFixed(Number(weekAgo) >= 100 ? 1 : 2)}\\s`,
        'm',
      ),
    );
  });
});

describe('tidewatch-predictor errors', () => {
  const cases: Array<[string, () => string[], string]> = [
    [
      'missing file',
      () => ['--input', join(dir, 'absent.csv')],
      `input file not found: ${join(dir, 'absent.csv')}`,
    ],
    [
      'bad header',
      () => ['--input', file('header.csv', ['time,load', ...slice(400).slice(1)])],
      `${join(dir, 'header.csv')}: row 1: header is "time,load", expected "timestamp,value"`,
    ],
    [
      'non-numeric value',
      () => [
        '--input',
        file('nan.csv', [...slice(3), '2001-01-01T03:00:00.000Z,lots', ...lines.slice(5, 400)]),
      ],
      `${join(dir, 'nan.csv')}: row 5: value "lots" is not a number`,
    ],
    [
      'uneven spacing',
      () => ['--input', file('gap.csv', [...slice(10), ...lines.slice(12, 400)])],
      `${join(dir, 'gap.csv')}: row 12: timestamp "2001-01-01T11:00:00.000Z" is 7200s after the previous row, expected a step of 3600s (missing rows?)`,
    ],
    [
      '--step mismatch',
      () => ['--input', fourWeeks, '--step', '60'],
      `${join(dir, 'four-weeks.csv')}: row 3: timestamp "2001-01-01T01:00:00.000Z" is 3600s after the previous row, expected a step of 60s (missing rows?)`,
    ],
    [
      'horizon not a positive integer',
      () => ['--input', fourWeeks, '--horizon', '-1'],
      '--horizon must be a positive integer (steps), got "-1"',
    ],
    [
      'too little history for the season',
      () => ['--input', file('ten-days.csv', slice(240))],
      'too little history: 240 points (10 days), need at least 337 points (14 days) for a weekly season and 7 backtest origins of horizon 24',
    ],
    [
      'unknown model',
      () => ['--input', fourWeeks, '--model', 'arima'],
      'unknown model "arima" (known: naive, seasonal-naive-daily, seasonal-naive-weekly, holt-winters, seasonal-profile, lstm, ensemble:holt-winters+seasonal-profile, ensemble:holt-winters+seasonal-profile+lstm, mstl, ensemble:mstl+seasonal-profile)',
    ],
  ];

  it.each(cases)('%s: exit 1 and one line on stderr', async (_name, args, message) => {
    const argv = args();
    const r = await cli(
      'forecast',
      ...(argv.includes('--horizon') ? [] : ['--horizon', '24']),
      ...argv,
      '--output',
      'json',
    );
    expect(r).toEqual({ code: 1, stdout: '', stderr: `tidewatch-predictor: ${message}\n` });
  });

  it('backtest reports too little history for a longer model in points and days', async () => {
    const r = await cli(
      'backtest',
      '--input',
      file('two-weeks.csv', slice(24 * 14)),
      '--horizon',
      '24',
      '--models',
      'seasonal-profile',
    );
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'tidewatch-predictor: too little history: 336 points (14 days), need at least 528 points (22 days) for a weekly season and 7 backtest origins of horizon 24\n',
    });
  });

  it('exits 2 for usage errors', async () => {
    const r = await cli('backtest', '--input', fourWeeks);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: "tidewatch-predictor: required option '--horizon <steps>' not specified\n",
    });
  });

  it('has the shebang so it runs as a bin', () => {
    expect(readFileSync(CLI_PATH, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
