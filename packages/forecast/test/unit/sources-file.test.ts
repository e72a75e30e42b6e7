import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OptionError } from '../../src/options.js';
import { SourceError } from '../../src/sources/errors.js';
import { createFileSource, parseSeriesCsv } from '../../src/sources/file.js';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/sources/${name}`, import.meta.url));
const vals = (s: { values: ArrayLike<number> }): number[] => Array.from(s.values);
const H = 'timestamp,value\n';

function csvError(text: string, options = {}): SourceError {
  try {
    parseSeriesCsv(text, 'file:data.csv', options);
  } catch (error) {
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).source).toBe('file:data.csv');
    expect((error as Error).message).not.toContain('\n');
    return error as SourceError;
  }
  throw new Error('expected a SourceError');
}

describe('parseSeriesCsv: valid input', () => {
  it('reads unix seconds', () => {
    expect(parseSeriesCsv(`${H}60,1\n120,2.5\n180,0\n`, 'x')).toEqual({
      startMs: 60_000,
      stepMs: 60_000,
      values: Float64Array.of(1, 2.5, 0),
    });
  });

  it('reads ISO-8601 with CRLF, a BOM, blank lines, spaces and no trailing newline', () => {
    const text = `\uFEFF timestamp , value \r\n2024-03-01T00:00:00Z, 1 \r\n\r\n 2024-03-01T01:00:00+00:00 ,2\r\n2024-03-01T02:00:00.000Z,3`;
    expect(parseSeriesCsv(text, 'x')).toEqual({
      startMs: Date.UTC(2024, 2, 1),
      stepMs: 3_600_000,
      values: Float64Array.of(1, 2, 3),
    });
  });

  it('reads a date-time without a zone as UTC, and plain dates', () => {
    expect(parseSeriesCsv(`${H}2024-03-01T00:00:00,1\n2024-03-01T00:01:00,2\n`, 'x').startMs).toBe(
      Date.UTC(2024, 2, 1),
    );
    expect(parseSeriesCsv(`${H}2024-03-01,1\n2024-03-02,2\n`, 'x').stepMs).toBe(86_400_000);
  });

  it('fills missing rows with NaN only when allowed', () => {
    const text = `${H}0,1\n60,2\n240,5\n`;
    expect(vals(parseSeriesCsv(text, 'x', { allowGaps: true }))).toEqual([1, 2, NaN, NaN, 5]);
    expect(csvError(text).message).toBe(
      'file:data.csv: row 4: timestamp "240" is 180s after the previous row, expected a step of 60s (missing rows?)',
    );
  });

  it('uses a given step, which also makes a single row enough', () => {
    expect(parseSeriesCsv(`${H}60,4\n`, 'x', { stepMs: 60_000 })).toEqual({
      startMs: 60_000,
      stepMs: 60_000,
      values: Float64Array.of(4),
    });
  });
});

describe('parseSeriesCsv: every error names the source and the row', () => {
  it.each([
    ['', 'file:data.csv: row 1: empty file, expected header "timestamp,value"'],
    ['\n\n', 'file:data.csv: row 1: empty file, expected header "timestamp,value"'],
    [
      'time,value\n0,1\n',
      'file:data.csv: row 1: header is "time,value", expected "timestamp,value"',
    ],
    [
      'Timestamp,Value\n0,1\n',
      'file:data.csv: row 1: header is "Timestamp,Value", expected "timestamp,value"',
    ],
    [
      'timestamp,value,extra\n0,1\n',
      'file:data.csv: row 1: header is "timestamp,value,extra", expected "timestamp,value"',
    ],
    [H, 'file:data.csv: no data rows after the header'],
    [
      `${H}0,1\n`,
      'file:data.csv: row 2: only one data row: the step cannot be inferred (need at least 2 rows)',
    ],
    [`${H}0,1\n60\n`, 'file:data.csv: row 3: expected 2 fields (timestamp,value), found 1'],
    [`${H}0,1\n60,2,3\n`, 'file:data.csv: row 3: expected 2 fields (timestamp,value), found 3'],
    [`${H}0,1\n60,2\n120,abc\n`, 'file:data.csv: row 4: value "abc" is not a number'],
    [`${H}0,1\n60,\n`, 'file:data.csv: row 3: value "" is not a number'],
    [`${H}0,1\n60,NaN\n`, 'file:data.csv: row 3: value "NaN" is not a number'],
    [`${H}0,1\n60,0x10\n`, 'file:data.csv: row 3: value "0x10" is not a number'],
    [`${H}0,1\n60,1e999\n`, 'file:data.csv: row 3: value "1e999" is not a finite number'],
    [`${H}0,1\n60,-2\n`, 'file:data.csv: row 3: value "-2" is negative'],
    [
      `${H}yesterday,1\n`,
      'file:data.csv: row 2: timestamp "yesterday" is neither ISO-8601 (2024-01-31T12:00:00Z) nor unix seconds',
    ],
    [
      `${H}2024-02-30T00:00:00Z,1\n`,
      'file:data.csv: row 2: timestamp "2024-02-30T00:00:00Z" is neither ISO-8601 (2024-01-31T12:00:00Z) nor unix seconds',
    ],
    [
      `${H}Jan 1 2024,1\n`,
      'file:data.csv: row 2: timestamp "Jan 1 2024" is neither ISO-8601 (2024-01-31T12:00:00Z) nor unix seconds',
    ],
    [
      `${H}-60,1\n`,
      'file:data.csv: row 2: timestamp "-60" is neither ISO-8601 (2024-01-31T12:00:00Z) nor unix seconds',
    ],
    [
      `${H}0,1\n2024-01-01T00:00:00Z,1\n`,
      'file:data.csv: row 3: timestamp "2024-01-01T00:00:00Z" is not unix seconds like the first row (mixed formats)',
    ],
    [
      `${H}2024-01-01T00:00:00Z,1\n1704067260,1\n`,
      'file:data.csv: row 3: timestamp "1704067260" is unix seconds but the first row is ISO-8601 (mixed formats)',
    ],
    [
      `${H}60,1\n60,2\n`,
      'file:data.csv: row 3: timestamp "60" is not after the previous row\'s (1970-01-01T00:01:00.000Z)',
    ],
    [
      `${H}120,1\n60,2\n`,
      'file:data.csv: row 3: timestamp "60" is not after the previous row\'s (1970-01-01T00:02:00.000Z)',
    ],
    [
      `${H}0,1\n60,2\n150,3\n`,
      'file:data.csv: row 4: timestamp "150" is 90s after the previous row, expected a step of 60s',
    ],
    [
      `${H}0,1\n60,2\n\n\n90,3\n`,
      'file:data.csv: row 6: timestamp "90" is 30s after the previous row, expected a step of 60s',
    ],
    [
      `${H}0,1\n60,"2\n`,
      'file:data.csv: row 3: malformed CSV: Quote Not Closed: the parsing is finished with an opening quote at line 3',
    ],
  ])('%j', (text, message) => {
    expect(csvError(text).message).toBe(message);
  });

  it('exposes the row as a field', () => {
    expect(csvError(`${H}0,1\n60,2\n120,abc\n`).row).toBe(4);
  });

  it('a given step that the rows do not follow', () => {
    expect(csvError(`${H}0,1\n30,2\n`, { stepMs: 60_000 }).message).toBe(
      'file:data.csv: row 3: timestamp "30" is 30s after the previous row, expected a step of 60s',
    );
  });

  it('refuses a gap that would explode the series', () => {
    expect(
      csvError(`${H}0,1\n60,2\n6000000,3\n`, { allowGaps: true, maxPoints: 1000 }).message,
    ).toBe('file:data.csv: row 4: the gap before this row would make more than 1000 points');
  });

  it('validates stepMs', () => {
    expect(() => parseSeriesCsv(H, 'x', { stepMs: 0 })).toThrow(OptionError);
  });
});

describe('createFileSource', () => {
  it('reads a CRLF file and clips to the requested range', async () => {
    const source = createFileSource({ path: fixture('five-minute.csv') });
    expect(source.name).toBe(`file:${fixture('five-minute.csv')}`);
    const all = await source.read();
    expect(all).toEqual({
      startMs: Date.UTC(2024, 2, 1),
      stepMs: 300_000,
      values: Float64Array.of(10, 12.5, 0, 7),
    });
    const part = await source.read({
      startMs: Date.UTC(2024, 2, 1, 0, 1),
      endMs: Date.UTC(2024, 2, 1, 0, 10),
    });
    expect(part).toEqual({
      startMs: Date.UTC(2024, 2, 1, 0, 5),
      stepMs: 300_000,
      values: Float64Array.of(12.5, 0),
    });
  });

  it('gaps are an error unless allowGaps', async () => {
    await expect(createFileSource({ path: fixture('gap.csv') }).read()).rejects.toThrow(
      `file:${fixture('gap.csv')}: row 4: timestamp "1709251380" is 120s after the previous row, expected a step of 60s (missing rows?)`,
    );
    const s = await createFileSource({ path: fixture('gap.csv'), allowGaps: true }).read();
    expect(vals(s)).toEqual([3, 4, NaN, 6]);
  });

  it('a missing file is a SourceError naming it', async () => {
    const error = await createFileSource({ path: 'nope/data.csv' })
      .read()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toBe('file:nope/data.csv: cannot read: file not found');
  });

  it('validates the path', () => {
    expect(() => createFileSource({ path: '' })).toThrow(
      'createFileSource: path must be a non-empty path, got ""',
    );
  });
});
