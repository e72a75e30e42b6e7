import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  flightsFixturePath,
  flightsTrace,
  LoadgenConfigError,
  loadTrace,
  parseTraceCsv,
} from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'loadgen-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trace CSV', () => {
  it('reads unix seconds and ISO-8601, with the step from the spacing', () => {
    expect(parseTraceCsv('timestamp,value\n978307260,6\n978307320,2\n978307380,3\n', 't')).toEqual({
      values: [6, 2, 3],
      stepSeconds: 60,
    });
    const iso =
      '\ufefftimestamp,value\r\n2024-01-01T00:00:00Z,1.5\r\n2024-01-01T01:00:00Z,0\r\n\r\n';
    expect(parseTraceCsv(iso, 't')).toEqual({ values: [1.5, 0], stepSeconds: 3600 });
  });

  it.each([
    [
      'time,value\n1,1\n2,2\n',
      'trace f.csv: row 1: header is "time,value", expected "timestamp,value"',
    ],
    ['timestamp,value\n60,1\n120,x\n', 'trace f.csv: row 3: value "x" is not a number'],
    ['timestamp,value\n60,1\n120,-1\n', 'trace f.csv: row 3: value "-1" is negative'],
    [
      'timestamp,value\n60,1\n120,1\n200,1\n',
      'trace f.csv: row 4: timestamp "200" is 80s after the previous row, expected a step of 60s',
    ],
    [
      'timestamp,value\n60,1\n2024-01-01,1\n',
      'row 3: timestamp "2024-01-01" is not unix seconds like the first row (mixed formats)',
    ],
    [
      'timestamp,value\n60,1\n',
      'row 2: only one data row: the step cannot be inferred (need at least 2 rows)',
    ],
    ['timestamp,value\n60,1,3\n', 'row 2: expected 2 fields (timestamp,value), found 3'],
  ])('rejects %j: %s', (csv, message) => {
    expect(() => parseTraceCsv(csv, 'f.csv')).toThrow(LoadgenConfigError);
    expect(() => parseTraceCsv(csv, 'f.csv')).toThrow(message);
  });

  it('loadTrace reads a file; a missing file fails naming it', () => {
    const f = join(dir, 'a.csv');
    writeFileSync(f, 'timestamp,value\n0,4\n30,5\n');
    expect(loadTrace(f)).toEqual({ values: [4, 5], stepSeconds: 30 });
    expect(() => loadTrace(join(dir, 'missing.csv'))).toThrow(
      `cannot read ${join(dir, 'missing.csv')}: file not found`,
    );
  });

  it('flightsTrace reads the fixture of this checkout (hourly: one value per row, 3600 s steps)', () => {
    const path = flightsFixturePath('hourly');
    expect(path).toMatch(/packages\/predictor\/fixtures\/flights-2001-hourly\.csv$/);
    const rows = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const t = flightsTrace('hourly');
    expect(t.stepSeconds).toBe(3600);
    expect(t.values).toHaveLength(rows.length - 1);
    expect(t.values[0]).toBe(Number(rows[1]!.split(',')[1]));
    expect(t.values.some((v) => v > 0)).toBe(true);
  });

  it('flightsTrace fails clearly when the fixture is absent', () => {
    const missing = join(dir, 'nope', 'flights-2001-minutely.csv');
    let err: unknown;
    try {
      flightsTrace('minutely', missing);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LoadgenConfigError);
    expect((err as LoadgenConfigError).field).toBe('trace');
    expect((err as Error).message).toContain(`flights fixture not found at ${missing}`);
    expect((err as Error).message).toContain('packages/predictor/fixtures');
  });
});
