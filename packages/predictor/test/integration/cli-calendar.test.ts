/**
 * `--calendar FILE` on the built `tidewatch-predictor` bin, as scripts run it: a launch with
 * a factor scales exactly its forecast steps, the backtest takes the file, and a bad or
 * missing file is one line naming the file, the line and the field. Needs `npx tsup` in
 * packages/predictor first.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, requireBuiltCli } from './run-cli.js';

const fixture = fileURLToPath(new URL('../../fixtures/flights-2001-hourly.csv', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tw-cli-calendar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

// Four weeks of the hourly fixture: 2001-01-01T00Z .. 2001-01-28T23Z; forecasts start
// 2001-01-29T00Z.
const input = file(
  'four-weeks.csv',
  `${readFileSync(fixture, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(0, 24 * 28 + 1)
    .join('\n')}\n`,
);
// A launch from 05:00 to 08:00 on the first forecast day: steps 5, 6 and 7, at 1.5 x.
const launch = file(
  'launch.csv',
  '# known events\nname,start,end,factor\nlaunch,2001-01-29T05:00:00Z,2001-01-29T08:00:00Z,1.5\n',
);

beforeAll(() => requireBuiltCli());

interface Point {
  timestamp: string;
  p50: number;
  p90: number;
}

/** `forecast` with the weekly seasonal naive (no history event: its p50 is last week's). */
async function forecastJson(...extra: string[]): Promise<Point[]> {
  const r = await cli(
    'forecast',
    '--input',
    input,
    '--horizon',
    '12',
    '--model',
    'seasonal-naive-weekly',
    '--output',
    'json',
    ...extra,
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).forecast as Point[];
}

describe('tidewatch-predictor --calendar', () => {
  it('forecast: a launch with factor 1.5 multiplies exactly its steps', async () => {
    const plain = await forecastJson();
    const withLaunch = await forecastJson('--calendar', launch);
    expect(withLaunch.map((p) => p.timestamp)).toEqual(plain.map((p) => p.timestamp));
    expect(withLaunch.map((p) => p.p50)).toEqual(
      plain.map((p, k) => (k >= 5 && k < 8 ? p.p50 * 1.5 : p.p50)),
    );
  });

  it('forecast: the same events as JSON give the same forecast', async () => {
    const json = file(
      'launch.json',
      JSON.stringify([
        { name: 'launch', start: '2001-01-29T05:00:00Z', end: '2001-01-29T08:00:00Z', factor: 1.5 },
      ]),
    );
    expect(await forecastJson('--calendar', json)).toEqual(
      await forecastJson('--calendar', launch),
    );
  });

  it('backtest: takes the file and reports as usual', async () => {
    const r = await cli(
      'backtest',
      '--input',
      input,
      '--horizon',
      '24',
      '--origins',
      '3',
      '--models',
      'seasonal-naive-weekly,seasonal-profile',
      '--calendar',
      file('new-year.csv', 'name,start\nnew-year,2001-01-01\n'),
      '--output',
      'json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.models.map((m: { model: string }) => m.model)).toEqual([
      'seasonal-naive-weekly',
      'seasonal-profile',
    ]);
    expect(json).toMatchObject({ horizon: 24, step: 3600, origins: 3 });
  });

  it('a bad file exits 1 with one line naming the file, the line and the field', async () => {
    const bad = file('bad.csv', 'name,start,end\n\nlaunch,2001-01-29,2001-01-28\n');
    const r = await cli('forecast', '--input', input, '--horizon', '6', '--calendar', bad);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `tidewatch-predictor: --calendar: ${bad}: line 3: end must be after start (2001-01-29), got "2001-01-28"\n`,
    );
  });

  it('a missing file exits 1 naming it', async () => {
    const missing = join(dir, 'missing.csv');
    const r = await cli('backtest', '--input', input, '--horizon', '6', '--calendar', missing);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `tidewatch-predictor: --calendar: cannot read calendar file ${missing}: no such file\n`,
    );
  });

  it('--help of forecast and backtest lists the flag', async () => {
    for (const command of ['forecast', 'backtest']) {
      const r = await cli(command, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^\s+--calendar <file>\s+known events \(holidays, launches\)/m);
    }
  });
});
