/**
 * The sidecar's files: seeding an empty history from a CSV, and the model file (atomic JSON,
 * refused with a reason when it is not one).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistoryStore, forecast } from '@tidewatch/forecast';
import { flightsHourly, head } from '@tidewatch/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/serve/config.js';
import { prepareDataDir } from '../../src/serve/data-dir.js';
import { silentLogger } from '../../src/serve/log.js';
import { loadSavedModel, type SavedModel, saveModel } from '../../src/serve/model-file.js';
import { seedHistory } from '../../src/serve/seed.js';

const dir = mkdtempSync(join(tmpdir(), 'tw-serve-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const csv = join(dir, 'seed.csv');
writeFileSync(
  csv,
  'timestamp,value\n2001-01-01T00:00:00Z,84\n2001-01-01T01:00:00Z,33\n2001-01-01T03:00:00Z,7\n',
);

describe('seedHistory', () => {
  const NOW = 1_800_000_000_500;

  it('retimes the points onto consecutive steps ending one step before now (gaps kept)', () => {
    const store = createHistoryStore({ stepMs: 1000, maxInterpolateSteps: 0 });
    expect(seedHistory(store, { file: csv, retime: true, series: 'c', nowMs: NOW })).toBe(4);
    const s = store.series('c');
    expect(s.startMs).toBe(1_800_000_000_000 - 4000);
    expect(Array.from(s.values)).toEqual([84, 33, Number.NaN, 7]);
  });

  it('keeps only the newest capacity points, and never touches a history that has the series', () => {
    const store = createHistoryStore({ stepMs: 1000, capacity: 2 });
    seedHistory(store, { file: csv, retime: true, series: 'c', nowMs: NOW });
    expect(Array.from(store.series('c').values)).toEqual([Number.NaN, 7]);
    expect(seedHistory(store, { file: csv, retime: true, series: 'c', nowMs: NOW + 10_000 })).toBe(
      0,
    );
    expect(store.series('c').startMs).toBe(1_800_000_000_000 - 2000);
  });

  it('without retime keeps the timestamps and needs the same step', () => {
    const store = createHistoryStore({ stepMs: 3_600_000 });
    seedHistory(store, { file: csv, retime: false, series: 'c', nowMs: NOW });
    expect(store.series('c').startMs).toBe(Date.parse('2001-01-01T00:00:00Z'));
    const other = createHistoryStore({ stepMs: 60_000 });
    expect(() => seedHistory(other, { file: csv, retime: false, series: 'c', nowMs: NOW })).toThrow(
      'config: seed.file has a step of 3600 s but stepSeconds is 60: set seed.retime to true or resample the file',
    );
  });

  it('names the file when it is missing or bad', () => {
    const store = createHistoryStore({ stepMs: 1000 });
    const missing = join(dir, 'nope.csv');
    expect(() =>
      seedHistory(store, { file: missing, retime: true, series: 'c', nowMs: NOW }),
    ).toThrow(ConfigError);
    expect(() =>
      seedHistory(store, { file: missing, retime: true, series: 'c', nowMs: NOW }),
    ).toThrow(/^config: seed\.file cannot be read: ENOENT/);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'timestamp,value\n2001-01-01T00:00:00Z,abc\n');
    expect(() => seedHistory(store, { file: bad, retime: true, series: 'c', nowMs: NOW })).toThrow(
      `config: seed.file: seed:${bad}: row 2: value "abc" is not a number`,
    );
  });
});

describe('model file', () => {
  const result = forecast(head(flightsHourly(), 168 * 4), { horizon: 24, model: 'holt-winters' });
  const model: SavedModel = {
    metric: 'realtime_connections',
    stepMs: 3_600_000,
    trainedAtMs: 1_800_000_000_000,
    model: 'holt-winters',
    scores: { mase: 0.7, wape: 0.1, coverage90: 0.9 },
    maseScale: 12.5,
    fitted: result.fitted,
  };

  it('round-trips through JSON exactly', async () => {
    const file = join(dir, 'model.json');
    await saveModel(file, model);
    expect(JSON.parse(readFileSync(file, 'utf8')).format).toBe('tidewatch-model');
    expect(loadSavedModel(file)).toEqual(model);
  });

  it('is undefined when absent and refused with a reason when not a model file', () => {
    expect(loadSavedModel(join(dir, 'absent.json'))).toBeUndefined();
    const truncated = join(dir, 'truncated.json');
    writeFileSync(truncated, '{"format":"tidewatch-model","vers');
    expect(() => loadSavedModel(truncated)).toThrow(`model file ${truncated} is not valid JSON: `);
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ format: 'tidewatch-model', version: 1, metric: 'x' }));
    expect(() => loadSavedModel(other)).toThrow(
      `model file ${other} is not a tidewatch-model file: stepMs: `,
    );
  });
});

describe('prepareDataDir', () => {
  it('removes the temp files a killed writer left for history, model and the shadow ledger, nothing else', () => {
    const data = join(dir, 'orphans');
    mkdirSync(data);
    const names = [
      'history.json',
      'history.json.123',
      'model.json.4',
      'shadow.json',
      'shadow.json.77',
      'notes.json.5',
    ];
    for (const n of names) writeFileSync(join(data, n), '{}');
    expect(prepareDataDir(data, silentLogger)).toBeUndefined();
    expect(readdirSync(data).sort()).toEqual(['history.json', 'notes.json.5', 'shadow.json']);
  });
});
