/**
 * The operator's calendar (holidays, launches, sales): events no history can foresee, read
 * from a small CSV or JSON file. CSV: header `name,start,end,factor` (`end` and `factor`
 * optional, any order), `#` comment lines and blank lines allowed. JSON: an array of
 * `{name, start, end?, factor?}`. Dates are UTC: `2026-12-25` is midnight UTC; date-times
 * need a zone (`2026-12-03T18:00:00Z`, `...+01:00`) because a zone-less time would be read in
 * the host's local time.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** One event of a {@link Calendar}. */
export interface CalendarEvent {
  /** What the event is; occurrences with the same name share one learnt effect. */
  readonly name: string;
  /** Unix ms of the start (inclusive). */
  readonly startMs: number;
  /** Unix ms of the end (exclusive), > `startMs`. */
  readonly endMs: number;
  /**
   * Multiplier expected on load while the event lasts (> 0). Used when the name never
   * occurred in the history (a launch); an effect learnt from history takes precedence.
   */
  readonly factor?: number;
}

/**
 * Events sorted by start (then end, then name). Plain JSON: it crosses worker boundaries and
 * is stored as is.
 */
export interface Calendar {
  readonly events: CalendarEvent[];
}

/** Largest calendar file {@link loadCalendarFile} reads, bytes (5 MiB). */
export const MAX_CALENDAR_BYTES = 5 * 1024 * 1024;

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// A zone is required: Date.parse reads a zone-less date-time in the host's time zone.
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(Z|[+-]\d{2}:\d{2})$/i;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const COLUMNS = ['name', 'start', 'end', 'factor'] as const;
type Column = (typeof COLUMNS)[number];
const TIME_HELP = 'an ISO-8601 date (2026-12-25) or date-time with zone (2026-12-03T18:00:00Z)';

/** Raw fields of one event before checking, with where it came from for messages. */
interface RawEvent {
  name?: unknown;
  start?: unknown;
  end?: unknown;
  factor?: unknown;
  /** `line 4` (CSV) or `item 2` (JSON). */
  where: string;
}

/**
 * Parses a calendar: JSON when the text starts with `[`, else CSV (see the module comment).
 * @param source - Named in messages (the file path). Default `calendar`.
 * @returns The events sorted by start, end, name.
 * @throws Error naming the source, the line (CSV) or item (JSON) and the field, e.g.
 *   `holidays.csv: line 3: end must be after start (2026-12-25), got "2026-12-24"`, for a
 *   missing or unknown or duplicate column, a bad date, `end` <= `start`, a missing `end`
 *   after a date-time start, a `factor` that is not a number > 0, or a repeated event.
 */
export function parseCalendar(text: string, source = 'calendar'): Calendar {
  const body = text.replace(/^\uFEFF/, '');
  const raws = body.trimStart().startsWith('[')
    ? jsonEvents(body, source)
    : csvEvents(body, source);
  const events: CalendarEvent[] = [];
  const seen = new Map<string, string>();
  for (const raw of raws) {
    const event = checkEvent(raw, source);
    const key = `${event.name}\u0000${event.startMs}`;
    const first = seen.get(key);
    if (first !== undefined)
      throw new Error(
        `${source}: ${raw.where}: event "${event.name}" at ${String(raw.start)} repeats ${first}`,
      );
    seen.set(key, raw.where);
    events.push(event);
  }
  events.sort(
    (a, b) =>
      a.startMs - b.startMs ||
      a.endMs - b.endMs ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  return { events };
}

/**
 * Reads and parses a calendar file (see {@link parseCalendar}).
 * @throws Error naming the path when it cannot be read, is larger than
 *   {@link MAX_CALENDAR_BYTES}, or its content is invalid.
 */
export function loadCalendarFile(path: string): Calendar {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new Error(`cannot read calendar file ${path}: ${reason(error)}`);
  }
  try {
    // fstat on the open descriptor: the size checked is the size of the file read.
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new Error(`cannot read calendar file ${path}: it is a directory`);
    if (stat.size > MAX_CALENDAR_BYTES)
      throw new Error(
        `calendar file ${path} is ${stat.size} bytes, more than the limit of ${MAX_CALENDAR_BYTES} bytes (5 MiB)`,
      );
    // One byte past the limit tells a file that grew after fstat from one that did not.
    const buffer = Buffer.alloc(Math.min(stat.size, MAX_CALENDAR_BYTES) + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > MAX_CALENDAR_BYTES)
      throw new Error(
        `calendar file ${path} is more than the limit of ${MAX_CALENDAR_BYTES} bytes (5 MiB)`,
      );
    return parseCalendar(buffer.subarray(0, length).toString('utf8'), path);
  } finally {
    closeSync(fd);
  }
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return (error as Error).message;
}

function csvEvents(text: string, source: string): RawEvent[] {
  const lines = text.split(/\r?\n/);
  let header: Column[] | undefined;
  const out: RawEvent[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `line ${i + 1}`;
    const fields = splitCsv(line, `${source}: ${where}`);
    if (!header) {
      header = headerOf(fields, `${source}: ${where}`);
      continue;
    }
    if (fields.length > header.length)
      throw new Error(
        `${source}: ${where}: ${fields.length} fields, but the header has ${header.length} (${header.join(',')})`,
      );
    const raw: RawEvent = { where };
    header.forEach((column, k) => {
      const value = fields[k];
      // An empty optional field is absent (`christmas,2026-12-25,,`).
      if (value !== undefined && value !== '') raw[column] = value;
    });
    out.push(raw);
  }
  if (!header)
    throw new Error(`${source}: no header: the first line must be name,start,end,factor`);
  return out;
}

function headerOf(fields: string[], at: string): Column[] {
  const names = fields.map((f) => f.toLowerCase());
  if (!names.includes('name') && !names.includes('start'))
    throw new Error(
      `${at}: header missing: the first line must be name,start,end,factor (end and factor optional), got "${fields.join(',')}"`,
    );
  const out: Column[] = [];
  for (const name of names) {
    if (!(COLUMNS as readonly string[]).includes(name))
      throw new Error(`${at}: unknown column "${name}" (known: ${COLUMNS.join(', ')})`);
    if (out.includes(name as Column)) throw new Error(`${at}: column "${name}" appears twice`);
    out.push(name as Column);
  }
  for (const required of ['name', 'start'] as const)
    if (!out.includes(required)) throw new Error(`${at}: column "${required}" is missing`);
  return out;
}

/** Splits one CSV line; fields may be double-quoted (`""` is a quote inside one). */
function splitCsv(line: string, at: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new Error(`${at}: unterminated quoted field`);
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i];
        i++;
      }
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (i < line.length && line[i] !== ',') throw new Error(`${at}: text after a closing quote`);
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? line.length : comma;
      field = line.slice(i, end).trim();
      i = end;
    }
    out.push(field);
    if (i >= line.length) return out;
    i++; // the comma
  }
}

function jsonEvents(text: string, source: string): RawEvent[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(doc)) throw new Error(`${source}: must be a JSON array of events`);
  return doc.map((item, i) => {
    const where = `item ${i + 1}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new Error(`${source}: ${where}: must be an object {name, start, end?, factor?}`);
    const raw: RawEvent = { where };
    for (const [key, value] of Object.entries(item as Record<string, unknown>)) {
      if (!(COLUMNS as readonly string[]).includes(key))
        throw new Error(
          `${source}: ${where}: unknown field "${key}" (known: ${COLUMNS.join(', ')})`,
        );
      if (value !== null && value !== undefined) raw[key as Column] = value;
    }
    return raw;
  });
}

function checkEvent(raw: RawEvent, source: string): CalendarEvent {
  const at = `${source}: ${raw.where}`;
  const name = typeof raw.name === 'string' ? raw.name.trim() : '';
  if (name === '') throw new Error(`${at}: name must be a non-empty text, got ${shown(raw.name)}`);
  const start = time(raw.start, `${at}: start`);
  if (start === undefined) throw new Error(`${at}: start is required (${TIME_HELP})`);
  const end = time(raw.end, `${at}: end`);
  let endMs: number;
  if (end !== undefined) endMs = end.ms;
  else if (start.dateOnly) endMs = start.ms + DAY_MS;
  else throw new Error(`${at}: end is required when start is a date-time (${String(raw.start)})`);
  if (!(endMs > start.ms))
    throw new Error(`${at}: end must be after start (${String(raw.start)}), got ${shown(raw.end)}`);
  const event: CalendarEvent = { name, startMs: start.ms, endMs };
  if (raw.factor === undefined) return event;
  const factor =
    typeof raw.factor === 'number'
      ? raw.factor
      : typeof raw.factor === 'string' && DECIMAL.test(raw.factor.trim())
        ? Number(raw.factor)
        : Number.NaN;
  if (!Number.isFinite(factor) || factor <= 0)
    throw new Error(`${at}: factor must be a number > 0, got ${shown(raw.factor)}`);
  return { ...event, factor };
}

/** A date (UTC midnight) or a zoned date-time; undefined when absent. */
function time(value: unknown, at: string): { ms: number; dateOnly: boolean } | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value.trim() : undefined;
  const bad = () => new Error(`${at} must be ${TIME_HELP}, got ${shown(value)}`);
  if (text === undefined) throw bad();
  const date = DATE.exec(text);
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const ms = Date.UTC(y, m - 1, d);
    // Date.UTC rolls 2026-02-30 over to March 2; a typo should be an error instead.
    if (new Date(ms).getUTCDate() !== d || m < 1 || m > 12) throw bad();
    return { ms, dateOnly: true };
  }
  const dt = DATE_TIME.exec(text);
  if (!dt) throw bad();
  const [y, m, d, hh, mm, ss] = [1, 2, 3, 4, 5, 6].map((k) => Number(dt[k] ?? 0)) as number[];
  const local = Date.UTC(y as number, (m as number) - 1, d, hh, mm, ss);
  const check = new Date(local);
  if (
    check.getUTCDate() !== d ||
    (m as number) < 1 ||
    (m as number) > 12 ||
    (hh as number) > 23 ||
    (mm as number) > 59 ||
    (ss as number) > 59
  )
    throw bad();
  const millis = dt[7] ? Number(dt[7].padEnd(3, '0')) : 0;
  const zone = (dt[8] as string).toUpperCase();
  const offsetMin =
    zone === 'Z'
      ? 0
      : (zone.startsWith('-') ? -1 : 1) *
        (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return { ms: local + millis - offsetMin * 60_000, dateOnly: false };
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
