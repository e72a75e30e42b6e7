/**
 * The on-disk format of the history store: one JSON document with a format tag, a version
 * and a SHA-256 of the body, so a truncated or bit-flipped file is detected on load instead of
 * being trusted. JSON has no NaN, so missing points are written as `null`.
 */
import { createHash } from 'node:crypto';
import { HistoryError } from './errors.js';

/** The `format` tag of a history file. */
export const HISTORY_FORMAT = 'tidewatch-history';
/** The version this code writes; files with a higher version are refused. */
export const HISTORY_VERSION = 1;

/** One series as stored: the oldest point's time and the points in order. */
export interface StoredSeries {
  readonly name: string;
  readonly startMs: number;
  readonly values: Float64Array;
}

/** What a history file holds once decoded and verified. */
export interface HistorySnapshot {
  readonly stepMs: number;
  readonly capacity: number;
  /** When the file was written, unix ms. */
  readonly savedAtMs: number;
  readonly series: readonly StoredSeries[];
}

interface Body {
  stepMs: number;
  capacity: number;
  savedAtMs: number;
  series: Array<{ name: string; startMs: number; values: Array<number | null> }>;
}

function checksum(bodyJson: string): string {
  return createHash('sha256').update(bodyJson).digest('hex');
}

/** Serialises a snapshot to the file's text. */
export function encodeHistory(snapshot: HistorySnapshot): string {
  const body: Body = {
    stepMs: snapshot.stepMs,
    capacity: snapshot.capacity,
    savedAtMs: snapshot.savedAtMs,
    series: snapshot.series.map((s) => ({
      name: s.name,
      startMs: s.startMs,
      values: Array.from(s.values, (v) => (Number.isNaN(v) ? null : v)),
    })),
  };
  const bodyJson = JSON.stringify(body);
  // The checksum is over the body exactly as written; on load the body is re-serialised, which
  // gives the same text because JSON.stringify round-trips its own output (numbers included).
  return `{"format":${JSON.stringify(HISTORY_FORMAT)},"version":${HISTORY_VERSION},"sha256":"${checksum(bodyJson)}","body":${bodyJson}}\n`;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/**
 * Parses and verifies a history file's text.
 * @param file - The path, for messages.
 * @throws HistoryError `corrupt-file` (not JSON, wrong tag, checksum mismatch, bad structure)
 *   or `incompatible-file` (a version newer than {@link HISTORY_VERSION}).
 */
export function decodeHistory(text: string, file: string): HistorySnapshot {
  const corrupt = (why: string): HistoryError =>
    new HistoryError(`history file ${file} is corrupt: ${why}`, 'corrupt-file', { file });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw corrupt(
      `not valid JSON (truncated or overwritten?): ${(error as Error).message} (${text.length} bytes)`,
    );
  }
  if (typeof doc !== 'object' || doc === null) throw corrupt('not a JSON object');
  const { format, version, sha256, body } = doc as Record<string, unknown>;
  if (format !== HISTORY_FORMAT)
    throw corrupt(`format is ${JSON.stringify(format)}, expected "${HISTORY_FORMAT}"`);
  if (!isInt(version) || version < 1) throw corrupt(`bad version ${JSON.stringify(version)}`);
  if (version > HISTORY_VERSION) {
    throw new HistoryError(
      `history file ${file} has format version ${version}; this version of tidewatch reads up to ${HISTORY_VERSION}`,
      'incompatible-file',
      { file },
    );
  }
  if (typeof sha256 !== 'string' || typeof body !== 'object' || body === null)
    throw corrupt('missing sha256 or body');
  const actual = checksum(JSON.stringify(body));
  if (actual !== sha256) throw corrupt(`checksum mismatch (stored ${sha256}, computed ${actual})`);
  return checkBody(body as Record<string, unknown>, corrupt);
}

function checkBody(
  body: Record<string, unknown>,
  corrupt: (why: string) => HistoryError,
): HistorySnapshot {
  const { stepMs, capacity, savedAtMs, series } = body;
  if (!isInt(stepMs) || stepMs <= 0) throw corrupt(`bad stepMs ${JSON.stringify(stepMs)}`);
  if (!isInt(capacity) || capacity < 2) throw corrupt(`bad capacity ${JSON.stringify(capacity)}`);
  if (typeof savedAtMs !== 'number') throw corrupt('bad savedAtMs');
  if (!Array.isArray(series)) throw corrupt('series is not an array');
  const names = new Set<string>();
  const out = series.map((raw: unknown, i): StoredSeries => {
    const s = raw as Record<string, unknown> | null;
    const name = s?.name;
    if (typeof name !== 'string' || name === '' || names.has(name))
      throw corrupt(`series ${i} has a bad or duplicate name`);
    names.add(name);
    if (!isInt(s?.startMs) || (s.startMs as number) % stepMs !== 0)
      throw corrupt(`series "${name}" has a startMs off the ${stepMs} ms grid`);
    const values = s?.values;
    if (!Array.isArray(values) || values.length > capacity)
      throw corrupt(`series "${name}" values are missing or exceed the capacity ${capacity}`);
    const floats = new Float64Array(values.length);
    for (const [k, v] of values.entries()) {
      if (v === null) floats[k] = Number.NaN;
      else if (typeof v === 'number' && Number.isFinite(v) && v >= 0) floats[k] = v;
      else throw corrupt(`series "${name}" point ${k} is ${JSON.stringify(v)}`);
    }
    return { name, startMs: s.startMs as number, values: floats };
  });
  return { stepMs, capacity, savedAtMs, series: out };
}
