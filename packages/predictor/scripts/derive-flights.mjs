#!/usr/bin/env node
// Derives the shipped flight-departure fixtures from the original data: `flights-3m.parquet`
// in the npm package `vega-datasets` (3,000,000 US departures, 2001-01-01..2001-06-30; BTS
// data). Every departure is one arrival; we count them per minute and per hour.
//
//   node packages/predictor/scripts/derive-flights.mjs           write the fixtures
//   node packages/predictor/scripts/derive-flights.mjs --check   exit 1 if they differ
//
// The parquet timestamps are local clock times stored as UTC; we keep them as UTC so the
// daily cycle sits where it does in the data (departures start ~06:00).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', 'fixtures');
const require = createRequire(import.meta.url);
// The package exports only its JS entry (build/index.js); the data sit beside it.
const parquet = join(dirname(require.resolve('vega-datasets')), '..', 'data', 'flights-3m.parquet');

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** Counts per bucket from the first to the last non-empty bucket, zeros included. */
function bucket(times, width) {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const t of times) {
    const b = Math.floor(t / width);
    if (b < first) first = b;
    if (b > last) last = b;
  }
  const counts = new Array(last - first + 1).fill(0);
  for (const t of times) counts[Math.floor(t / width) - first]++;
  return { startMs: first * width, counts };
}

function csv(startMs, stepMs, counts, iso) {
  const lines = ['timestamp,value'];
  for (let i = 0; i < counts.length; i++) {
    const t = startMs + i * stepMs;
    lines.push(`${iso ? new Date(t).toISOString() : t / 1000},${counts[i]}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function deriveFlights() {
  const file = await asyncBufferFromFile(parquet);
  const rows = await parquetReadObjects({ file, columns: ['date'], compressors });
  const times = rows.map((r) => r.date.getTime());
  const minute = bucket(times, MINUTE);
  const hour = bucket(times, HOUR);
  return {
    'flights-2001-hourly.csv': csv(hour.startMs, HOUR, hour.counts, true),
    'flights-2001-minutely.csv': csv(minute.startMs, MINUTE, minute.counts, false),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const out = await deriveFlights();
  let stale = 0;
  for (const [name, content] of Object.entries(out)) {
    const path = join(fixtures, name);
    if (check) {
      let current = '';
      try {
        current = readFileSync(path, 'utf8');
      } catch {}
      if (current !== content) {
        console.error(`stale fixture: ${path}`);
        stale++;
      }
    } else {
      writeFileSync(path, content);
      console.log(`wrote ${path} (${content.split('\n').length - 2} points)`);
    }
  }
  if (stale > 0) process.exit(1);
}
