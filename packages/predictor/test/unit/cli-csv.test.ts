import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSeriesCsv } from '../../src/cli/csv.js';
import { CliError } from '../../src/cli/errors.js';

const csv = (...rows: string[]) => `${rows.join('\n')}\n`;

// Parsing itself is the file source's and tested in sources-file.test.ts; these cover what
// the CLI adds: file-system errors, --step, and one-line CliErrors naming the file.
describe('readSeriesCsv', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-csv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('says when the file is missing or a directory', () => {
    expect(() => readSeriesCsv(join(dir, 'nope.csv'))).toThrow(
      new CliError(`input file not found: ${join(dir, 'nope.csv')}`),
    );
    expect(() => readSeriesCsv(dir)).toThrow(
      new CliError(`input is a directory, not a CSV file: ${dir}`),
    );
  });

  it('reads a file with ISO-8601 timestamps and infers the step', () => {
    const path = file(
      'iso.csv',
      csv('timestamp,value', '2001-01-01T00:00:00Z,84', '2001-01-01T01:00:00Z,33'),
    );
    expect(readSeriesCsv(path)).toEqual({
      startMs: Date.UTC(2001, 0, 1),
      stepMs: 3_600_000,
      values: Float64Array.from([84, 33]),
    });
  });

  it('checks --step against the spacing', () => {
    const path = file('unix.csv', csv('timestamp,value', '0,1', '60,2', '120,3'));
    expect(readSeriesCsv(path, { stepS: 60 }).stepMs).toBe(60_000);
    expect(() => readSeriesCsv(path, { stepS: 30 })).toThrow(
      new CliError(
        `${path}: row 3: timestamp "60" is 60s after the previous row, expected a step of 30s (missing rows?)`,
      ),
    );
    expect(() => readSeriesCsv(path, { stepS: 0.0001 })).toThrow(
      new CliError('--step must be at least 0.001 s, got 0.0001'),
    );
  });

  it.each([
    [csv('time,val', '1,2'), 'row 1: header is "time,val", expected "timestamp,value"'],
    [csv('timestamp,value', '0,1', '60,abc'), 'row 3: value "abc" is not a number'],
    [csv('timestamp,value', '0,1', '60,-2'), 'row 3: value "-2" is negative'],
    [
      csv('timestamp,value', '0,1', '60,1', '180,1'),
      'row 4: timestamp "180" is 120s after the previous row, expected a step of 60s (missing rows?)',
    ],
    ['', 'row 1: empty file, expected header "timestamp,value"'],
  ])('turns a source error into a CliError naming the file %#', (text, detail) => {
    const path = file('bad.csv', text);
    let thrown: unknown;
    try {
      readSeriesCsv(path);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CliError);
    expect((thrown as CliError).message).toBe(`${path}: ${detail}`);
  });
});
