/** The calendar file: CSV and JSON, and one message per bad input naming line and field. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCalendarFile, MAX_CALENDAR_BYTES, parseCalendar } from '../../src/calendar/parse.js';

const ms = (iso: string) => Date.parse(iso);
const dir = mkdtempSync(join(tmpdir(), 'tw-calendar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseCalendar: CSV', () => {
  it('reads dates, date-times, optional end and factor, comments and blank lines; sorts', () => {
    const text = [
      '# holidays and launches',
      'name,start,end,factor',
      '',
      'launch,2026-12-03T18:00:00Z,2026-12-03T21:00:00Z,1.5',
      'christmas,2026-12-25,,',
      '  # indented comment',
      '"new year, eve",2026-12-31T12:00:00+01:00,2027-01-01',
      'black-friday,2026-11-27,2026-11-30,0.8',
      'pi,2026-03-14T01:59:26.535Z,2026-03-14T02:00:00Z',
    ].join('\r\n');
    expect(parseCalendar(text, 'h.csv')).toEqual({
      events: [
        { name: 'pi', startMs: ms('2026-03-14T01:59:26.535Z'), endMs: ms('2026-03-14T02:00:00Z') },
        {
          name: 'black-friday',
          startMs: ms('2026-11-27T00:00:00Z'),
          endMs: ms('2026-11-30T00:00:00Z'),
          factor: 0.8,
        },
        {
          name: 'launch',
          startMs: ms('2026-12-03T18:00:00Z'),
          endMs: ms('2026-12-03T21:00:00Z'),
          factor: 1.5,
        },
        {
          name: 'christmas',
          startMs: ms('2026-12-25T00:00:00Z'),
          endMs: ms('2026-12-26T00:00:00Z'),
        },
        {
          name: 'new year, eve',
          startMs: ms('2026-12-31T11:00:00Z'),
          endMs: ms('2027-01-01T00:00:00Z'),
        },
      ],
    });
  });

  it('takes the columns in any order, end and factor optional, and a BOM', () => {
    expect(parseCalendar('\uFEFFstart,name\n2026-01-01,new-year\n')).toEqual({
      events: [{ name: 'new-year', startMs: ms('2026-01-01'), endMs: ms('2026-01-02') }],
    });
    expect(parseCalendar('name,start\n')).toEqual({ events: [] });
  });

  it.each([
    [
      'no header at all',
      '# only comments\n',
      'c.csv: no header: the first line must be name,start,end,factor',
    ],
    [
      'a missing header',
      'christmas,2026-12-25\n',
      'c.csv: line 1: header missing: the first line must be name,start,end,factor (end and factor optional), got "christmas,2026-12-25"',
    ],
    [
      'an unknown column',
      'name,start,until\n',
      'c.csv: line 1: unknown column "until" (known: name, start, end, factor)',
    ],
    ['a duplicate column', 'name,start,start\n', 'c.csv: line 1: column "start" appears twice'],
    ['no start column', 'name,end\n', 'c.csv: line 1: column "start" is missing'],
    [
      'too many fields',
      'name,start\nx,2026-01-01,2026-01-02\n',
      'c.csv: line 2: 3 fields, but the header has 2 (name,start)',
    ],
    [
      'an empty name',
      'name,start\n,2026-01-01\n',
      'c.csv: line 2: name must be a non-empty text, got nothing',
    ],
    [
      'a missing start',
      'name,start,end\nx,,2026-01-02\n',
      'c.csv: line 2: start is required (an ISO-8601 date (2026-12-25) or date-time with zone (2026-12-03T18:00:00Z))',
    ],
    [
      'a bad date',
      'name,start\n\n# c\nx,2026-02-30\n',
      'c.csv: line 4: start must be an ISO-8601 date (2026-12-25) or date-time with zone (2026-12-03T18:00:00Z), got "2026-02-30"',
    ],
    [
      'a date-time without zone',
      'name,start,end\nx,2026-12-03T18:00,2026-12-04\n',
      'c.csv: line 2: start must be an ISO-8601 date (2026-12-25) or date-time with zone (2026-12-03T18:00:00Z), got "2026-12-03T18:00"',
    ],
    [
      'a bad end',
      'name,start,end\nx,2026-12-03,Dec 4\n',
      'c.csv: line 2: end must be an ISO-8601 date (2026-12-25) or date-time with zone (2026-12-03T18:00:00Z), got "Dec 4"',
    ],
    [
      'a date-time start without end',
      'name,start\nx,2026-12-03T18:00:00Z\n',
      'c.csv: line 2: end is required when start is a date-time (2026-12-03T18:00:00Z)',
    ],
    [
      'end before start',
      'name,start,end\nx,2026-12-25,2026-12-24\n',
      'c.csv: line 2: end must be after start (2026-12-25), got "2026-12-24"',
    ],
    [
      'end equal to start',
      'name,start,end\nx,2026-12-25T00:00:00Z,2026-12-25\n',
      'c.csv: line 2: end must be after start (2026-12-25T00:00:00Z), got "2026-12-25"',
    ],
    [
      'factor 0',
      'name,start,factor\nx,2026-12-25,0\n',
      'c.csv: line 2: factor must be a number > 0, got "0"',
    ],
    [
      'a negative factor',
      'name,start,factor\nx,2026-12-25,-1\n',
      'c.csv: line 2: factor must be a number > 0, got "-1"',
    ],
    [
      'a factor that is not a number',
      'name,start,factor\nx,2026-12-25,1.5x\n',
      'c.csv: line 2: factor must be a number > 0, got "1.5x"',
    ],
    [
      'a repeated event',
      'name,start\nx,2026-12-25\ny,2026-12-25\nx,2026-12-25\n',
      'c.csv: line 4: event "x" at 2026-12-25 repeats line 2',
    ],
    [
      'an unterminated quote',
      'name,start\n"x,2026-12-25\n',
      'c.csv: line 2: unterminated quoted field',
    ],
  ])('rejects %s', (_what, text, message) => {
    expect(() => parseCalendar(text, 'c.csv')).toThrow(new Error(message));
  });

  it('names the source "calendar" by default', () => {
    expect(() => parseCalendar('name,start\nx,soon\n')).toThrow(/^calendar: line 2: start must be/);
  });
});

describe('parseCalendar: JSON', () => {
  it('reads an array of {name, start, end?, factor?}', () => {
    const text = JSON.stringify([
      { name: 'launch', start: '2026-12-03T18:00:00Z', end: '2026-12-03T21:00:00Z', factor: 1.5 },
      { name: 'christmas', start: '2026-12-25', end: null },
    ]);
    expect(parseCalendar(`  ${text}`, 'c.json')).toEqual({
      events: [
        {
          name: 'launch',
          startMs: ms('2026-12-03T18:00:00Z'),
          endMs: ms('2026-12-03T21:00:00Z'),
          factor: 1.5,
        },
        { name: 'christmas', startMs: ms('2026-12-25'), endMs: ms('2026-12-26') },
      ],
    });
  });

  it.each([
    ['broken JSON', '[{', /^c\.json: not valid JSON: /],
    [
      'an item that is no object',
      '[1]',
      /^c\.json: item 1: must be an object \{name, start, end\?, factor\?\}$/,
    ],
    [
      'an unknown field',
      '[{"name":"x","start":"2026-01-01","when":1}]',
      /^c\.json: item 1: unknown field "when" \(known: name, start, end, factor\)$/,
    ],
    [
      'a start that is a number',
      '[{"name":"x","start":1}]',
      /^c\.json: item 1: start must be an ISO-8601 date .*, got 1$/,
    ],
    [
      'a bad factor',
      '[{"name":"x","start":"2026-01-01"},{"name":"y","start":"2026-01-01","factor":"big"}]',
      /^c\.json: item 2: factor must be a number > 0, got "big"$/,
    ],
  ])('rejects %s', (_what, text, message) => {
    expect(() => parseCalendar(text, 'c.json')).toThrow(message);
  });
});

describe('loadCalendarFile', () => {
  it('reads a file and names it in errors', () => {
    const good = join(dir, 'good.csv');
    writeFileSync(good, 'name,start,factor\nlaunch,2026-12-03,2\n');
    expect(loadCalendarFile(good)).toEqual({
      events: [{ name: 'launch', startMs: ms('2026-12-03'), endMs: ms('2026-12-04'), factor: 2 }],
    });
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'name,start\nlaunch,tomorrow\n');
    expect(() => loadCalendarFile(bad)).toThrow(`${bad}: line 2: start must be`);
  });

  it('refuses a missing file, a directory and a file over 5 MiB', () => {
    const missing = join(dir, 'missing.csv');
    expect(() => loadCalendarFile(missing)).toThrow(
      new Error(`cannot read calendar file ${missing}: no such file`),
    );
    expect(() => loadCalendarFile(dir)).toThrow(
      new Error(`cannot read calendar file ${dir}: it is a directory`),
    );
    const big = join(dir, 'big.csv');
    writeFileSync(big, `name,start\n${'#'.repeat(MAX_CALENDAR_BYTES)}\n`);
    expect(() => loadCalendarFile(big)).toThrow(
      new Error(
        `calendar file ${big} is ${MAX_CALENDAR_BYTES + 12} bytes, more than the limit of 5242880 bytes (5 MiB)`,
      ),
    );
  });
});
