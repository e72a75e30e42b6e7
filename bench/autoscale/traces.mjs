// Load traces for bench/autoscale, all read at run time from registry packages already in the
// repository's node_modules (nothing is downloaded, nothing is committed but this code).
//
// Provenance
// - `flights` (the shipped fixture, the trace every earlier design choice was tuned on):
//   packages/predictor/fixtures/flights-2001-minutely.csv, per-minute US flight departures
//   Jan-Jun 2001 (all airports), derived from vega-datasets' flights-3m.parquet. Demand keeps
//   the old bench's rule (20 x the rolling 5-minute sum) so its rows compare with the old table.
// - Single airports: vega-datasets (npm, devDependency of @tidewatch/predictor),
//   data/flights-3m.parquet, read with hyparquet + hyparquet-compressors (both npm). The file
//   has 3,000,000 US domestic flights of 2001-01-01..2001-06-30 with a per-minute `date`
//   (departure time) and an `origin` airport code. For one airport we count departures per
//   minute (260,640 minutes, 181 days, zero-filled), then apply ONE rule to every airport:
//
//     demand(t) = k x (departures in the 30 minutes up to t), k = 40 x 350 / max over the trace
//
//   i.e. a passenger app whose users hold a connection for the half hour before their flight.
//   k is set so the trace's peak needs exactly 40 pods at the target (500 connections per pod x
//   0.7 = 350), the "a fleet peaking at 40 or more pods". A 30-minute window rather
//   than the fixture's 5 because one airport departs 0.2-0.9 flights a minute: a 5-minute
//   sum is a few departures, whose every step would be a multiple-pod jump no forecast could
//   anticipate (this window was set on LAX and PHX only, before looking at the others).
//
// Airports: ORD, ATL and DFW are bench/forecast's "unseen" series, so they are not used here.
// Tuning set (every choice of this bench was made looking at these only): LAX, PHX.
// Also scored: STL (a hub with departure banks, a step-shaped trace), LAS (leisure, late
// evenings and weekends). HELD OUT of every choice, first looked at in the final run: DEN.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../common/resolve.mjs';

/** Connections one pod carries at 100 % and the HPA target (the shipped deploy defaults). */
export const PEAK_PODS = 40;
/** Width of the rolling sum for single airports, minutes. */
export const AIRPORT_WINDOW_MIN = 30;

/** Every trace of the full run, in table order. `heldOut` is looked at only in the final run. */
export const TRACES = [
  { name: 'flights', kind: 'fixture', role: 'tuned on (all earlier design choices)' },
  { name: 'LAX', kind: 'airport', role: 'tuning set of this bench' },
  { name: 'PHX', kind: 'airport', role: 'tuning set of this bench' },
  { name: 'STL', kind: 'airport', role: 'scored only' },
  { name: 'LAS', kind: 'airport', role: 'scored only' },
  {
    name: 'DEN',
    kind: 'airport',
    role: 'HELD OUT (first looked at in the final run)',
    heldOut: true,
  },
];
/** The --quick subset: the two tuning airports, never the held-out one. */
export const QUICK_TRACES = ['LAX', 'PHX'];

const req = createRequire(path.join(ROOT, 'packages/predictor/package.json'));

/** The fixture with the old bench's rule: 20 x rolling 5-minute sum (peaks near 70 pods). */
export function flightsFixture(P) {
  const raw = P.parseSeriesCsv(
    fs.readFileSync(
      path.join(ROOT, 'packages/predictor/fixtures/flights-2001-minutely.csv'),
      'utf8',
    ),
    'flights-minutely',
  );
  return { startMs: raw.startMs, stepMs: raw.stepMs, values: rollingSum(raw.values, 5, 20) };
}

let parquetRows;
async function flightRows() {
  if (parquetRows) return parquetRows;
  const { asyncBufferFromFile, parquetReadObjects } = await import(
    pathToFileURL(req.resolve('hyparquet')).href
  );
  const { compressors } = await import(pathToFileURL(req.resolve('hyparquet-compressors')).href);
  const file = await asyncBufferFromFile(
    path.join(path.dirname(req.resolve('vega-datasets')), '..', 'data', 'flights-3m.parquet'),
  );
  parquetRows = await parquetReadObjects({ file, columns: ['date', 'origin'], compressors });
  return parquetRows;
}

/** Per-minute departures of each airport in `codes`, zero-filled over Jan-Jun 2001. */
export async function airportMinutes(codes) {
  const rows = await flightRows();
  const M = 60_000;
  const start = Date.UTC(2001, 0, 1);
  const n = (Date.UTC(2001, 6, 1) - start) / M;
  const out = Object.fromEntries(codes.map((c) => [c, new Float64Array(n)]));
  for (const r of rows) {
    const s = out[r.origin];
    if (!s) continue;
    const i = Math.floor((r.date.getTime() - start) / M);
    if (i >= 0 && i < n) s[i]++;
  }
  return Object.fromEntries(codes.map((c) => [c, { startMs: start, stepMs: M, values: out[c] }]));
}

/** k x trailing `width`-step sum. */
export function rollingSum(x, width, k) {
  const y = new Float64Array(x.length);
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    sum += x[i] - (i >= width ? x[i - width] : 0);
    y[i] = k * sum;
  }
  return y;
}

/** Scales so the maximum needs exactly `pods` pods at `perPod` connections. Returns k too. */
export function scaleToPeak(values, pods, perPod) {
  let max = 0;
  for (const v of values) max = Math.max(max, v);
  const k = (pods * perPod) / max;
  return { values: values.map((v) => v * k), k };
}

/**
 * Loads the named traces as demand series (connections per minute).
 * @param P the built @tidewatch/forecast
 * @param names trace names from {@link TRACES}
 * @param perPod capacity x target of the shipped config (350)
 */
export async function loadTraces(P, names, perPod) {
  const airports = names.filter((n) => TRACES.find((t) => t.name === n)?.kind === 'airport');
  const minutes = airports.length > 0 ? await airportMinutes(airports) : {};
  const out = [];
  for (const name of names) {
    const meta = TRACES.find((t) => t.name === name);
    if (!meta)
      throw new Error(`unknown trace ${name}; one of ${TRACES.map((t) => t.name).join(', ')}`);
    if (meta.kind === 'fixture') {
      const s = flightsFixture(P);
      out.push({ ...meta, series: s, k: 20, rule: '20 x rolling 5-min sum (old bench rule)' });
      continue;
    }
    const raw = minutes[name];
    let flights = 0;
    for (const v of raw.values) flights += v;
    const { values, k } = scaleToPeak(
      rollingSum(raw.values, AIRPORT_WINDOW_MIN, 1),
      PEAK_PODS,
      perPod,
    );
    out.push({
      ...meta,
      series: { startMs: raw.startMs, stepMs: raw.stepMs, values },
      k,
      flights,
      rule: `${k.toFixed(1)} x rolling ${AIRPORT_WINDOW_MIN}-min sum of ${name} departures`,
    });
  }
  return out;
}
