import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSeriesCsvText, readSeriesCsv } from '../../src/cli/csv.js';

const csv = (...rows: string[]) => `${rows.join('\n')}\n`;

describe('parseSeriesCsvText', () => {
  it('reads ISO-8601 timestamps and infers the step', () => {
    const s = parseSeriesCsvText(
      csv(
        'timestamp,value',
        '2001-01-01T00:00:00Z,84',
        '2001-01-01T01:00:00Z,33',
        '2001-01-01T02:00:00.000Z,7.5',
      ),
      'f.csv',
    );
    expect(s).toEqual({
      startMs: Date.UTC(2001, 0, 1),
      stepMs: 3_600_000,
      values: Float64Array.from([84, 33, 7.5]),
    });
  });

  it('reads unix seconds, a BOM, CRLF, blank lines and a checked --step', () => {
    const s = parseSeriesCsvText(
      '\ufefftimestamp,value\r\n60,1\r\n\r\n120,2\r\n180,3e2\r\n',
      'f.csv',
      { stepS: 60 },
    );
    expect(s).toEqual({ startMs: 60_000, stepMs: 60_000, values: Float64Array.from([1, 2, 300]) });
  });

  it.each([
    [csv('time,val', '1,2', '2,3'), 'f.csv: bad header "time,val", expected "timestamp,value"'],
    [
      csv('timestamp,value,extra', '1,2,3'),
      'f.csv: bad header "timestamp,value,extra", expected "timestamp,value"',
    ],
    ['', 'f.csv: empty file, expected a header "timestamp,value" and rows'],
    [csv('timestamp,value', '0,1'), 'f.csv: needs at least 2 rows to know the spacing, found 1'],
    [csv('timestamp,value', '0,1', '60,abc'), 'f.csv line 3: value "abc" is not a number'],
    [csv('timestamp,value', '0,1', '60,'), 'f.csv line 3: value "" is not a number'],
    [csv('timestamp,value', '0,1', '60,NaN'), 'f.csv line 3: value "NaN" is not a number'],
    [csv('timestamp,value', '0,1', '60,0x1f'), 'f.csv line 3: value "0x1f" is not a number'],
    [
      csv('timestamp,value', 'Jan 1 2001,1', '60,1'),
      'f.csv line 2: timestamp "Jan 1 2001" is neither ISO-8601 nor unix seconds',
    ],
    [
      csv('timestamp,value', '0,1', '60'),
      'f.csv line 3: expected 2 fields (timestamp,value), found 1',
    ],
    [
      csv('timestamp,value', '0,1', '60,1', '180,1'),
      'f.csv line 4: uneven spacing, expected a step of 60 s, found 120 s (after 1970-01-01T00:01:00.000Z)',
    ],
    [
      csv('timestamp,value', '60,1', '0,1'),
      'f.csv line 3: timestamps must increase, found a step of -60 s',
    ],
    [
      csv('timestamp,value', '0,1', '0,1'),
      'f.csv line 3: timestamps must increase, found a step of 0 s',
    ],
  ])('rejects bad input %#', (text, message) => {
    expect(() => parseSeriesCsvText(text, 'f.csv')).toThrow(message);
  });

  it('rejects a file whose spacing differs from --step', () => {
    expect(() =>
      parseSeriesCsvText(csv('timestamp,value', '0,1', '3600,2'), 'f.csv', { stepS: 60 }),
    ).toThrow("f.csv: --step 60 s does not match the file's spacing of 3600 s (line 3)");
  });

  it('reports an unterminated quote as invalid CSV', () => {
    expect(() => parseSeriesCsvText(csv('timestamp,value', '0,"1'), 'f.csv')).toThrow(
      /^f\.csv: invalid CSV: /,
    );
  });
});

describe('readSeriesCsv', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-csv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says when the file is missing or a directory', () => {
    expect(() => readSeriesCsv(join(dir, 'nope.csv'))).toThrow(
      `input file not found: ${join(dir, 'nope.csv')}`,
    );
    expect(() => readSeriesCsv(dir)).toThrow(`input is a directory, not a CSV file: ${dir}`);
  });

  it('reads a file', () => {
    const file = join(dir, 'ok.csv');
    writeFileSync(file, csv('timestamp,value', '0,1', '60,2'));
    expect(readSeriesCsv(file).values).toEqual(Float64Array.from([1, 2]));
  });
});
