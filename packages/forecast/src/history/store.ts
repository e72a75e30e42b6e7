/**
 * The history store: evenly spaced series (connections, message rate, ...) kept in memory as
 * fixed-size rings and persisted atomically, so the predictor resumes where it was after a
 * restart and never reads a half-written file.
 */
import { readFileSync } from 'node:fs';
import writeFileAtomic from 'write-file-atomic';
import { intOption, OptionError } from '../options.js';
import type { Series } from '../series.js';
import { HistoryError } from './errors.js';
import { decodeHistory, encodeHistory, type HistorySnapshot, type StoredSeries } from './format.js';

/** What to do when the persisted file exists but is corrupt or unreadable. */
export type OnCorrupt = 'throw' | 'start-empty';

/** Options of {@link createHistoryStore}. */
export interface HistoryStoreOptions {
  /** Spacing of every series, milliseconds; a positive integer. Samples are aligned to multiples of it (unix epoch grid). */
  stepMs: number;
  /** Points kept per series (a ring: the oldest is dropped); an integer >= 2. Default 20 160 (14 days at 1 min). */
  capacity?: number;
  /** Longest run of missing steps filled by linear interpolation when the next sample arrives; an integer >= 0 (0 = never). Default 5. */
  maxInterpolateSteps?: number;
  /** Where `persist()` writes and where the store resumes from. Default: in memory only. */
  file?: string;
  /** A corrupt or unreadable `file`: throw (default), or start empty and report it in `loadWarning`. A missing file always starts empty. */
  onCorrupt?: OnCorrupt;
}

/** A bounded, persisted store of evenly spaced series keyed by name. */
export interface HistoryStore {
  /** The step of every series, milliseconds. */
  readonly stepMs: number;
  /** Points kept per series. */
  readonly capacity: number;
  /** The persisted file, if any. */
  readonly file: string | undefined;
  /** Set when the file was corrupt or unreadable and `onCorrupt: 'start-empty'` discarded it. */
  readonly loadWarning: HistoryError | undefined;
  /**
   * Records `value` at `timestampMs`, aligned down to the step grid (`floor(t / stepMs) * stepMs`).
   * Several samples in one step: the last one wins (right for gauges and for rates computed
   * per step); `NaN` marks the step missing and never erases a value already in that step.
   * Steps skipped since the previous sample become `NaN`; a run of at most `maxInterpolateSteps`
   * missing steps is filled by linear interpolation once a value arrives on its far side. A jump
   * longer than the capacity restarts the series at this sample.
   * @param value - A finite number >= 0, or `NaN` for "no data this step".
   * @throws HistoryError `out-of-order` when the step is older than the series' last step;
   *   `invalid-sample` for a non-finite timestamp or a negative/infinite value.
   */
  append(name: string, timestampMs: number, value: number): void;
  /**
   * A copy of the series, oldest point first (`startMs` is on the step grid).
   * @throws HistoryError `unknown-series` when nothing was ever appended under `name`.
   */
  series(name: string): Series;
  /** Whether `name` has points. */
  has(name: string): boolean;
  /** The names of all series, in first-append order. */
  names(): string[];
  /** Unix ms of the last step of `name` (the one a same-step sample would overwrite), or `undefined`. */
  lastTimestamp(name: string): number | undefined;
  /**
   * Writes every series to `file` atomically (temp file, fsync, rename; write-file-atomic), so a
   * crash mid-write leaves the previous file intact. Calls are serialised.
   * @throws HistoryError `persist-failed` when the store has no file or the write fails.
   */
  persist(): Promise<void>;
}

const OWNER = 'createHistoryStore';
const DEFAULT_CAPACITY = 20_160;
const DEFAULT_MAX_INTERPOLATE = 5;

/** One series: a ring of `capacity` points starting at step index `firstStep`. */
interface Ring {
  readonly values: Float64Array;
  head: number;
  count: number;
  /** Step index (`floor(t / stepMs)`) of the oldest point. */
  firstStep: number;
  /** Step index of the newest real (non-NaN, not interpolated) sample. */
  lastGood: number | undefined;
  /** The real sample before `lastGood`: the left end of the last interpolation, if any. */
  anchor: number | undefined;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Creates a history store, resuming from `options.file` when it exists. Reads the file
 * synchronously (once, here); nothing else touches the disk until `persist()`.
 * @throws OptionError naming the field for invalid options; HistoryError (`corrupt-file`,
 *   `unreadable-file`) naming the file when it cannot be used and `onCorrupt` is `'throw'`;
 *   HistoryError `incompatible-file` when the file was written with another `stepMs` or a
 *   newer format (whatever `onCorrupt` says: discarding it would lose data silently).
 */
export function createHistoryStore(options: HistoryStoreOptions): HistoryStore {
  if (typeof options !== 'object' || options === null)
    throw new OptionError(OWNER, 'options', 'an object', options);
  const stepMs = intOption(OWNER, 'stepMs', options.stepMs, { min: 1, unit: 'milliseconds' });
  const capacity = intOption(OWNER, 'capacity', options.capacity, {
    default: DEFAULT_CAPACITY,
    min: 2,
  });
  const maxInterpolate = intOption(OWNER, 'maxInterpolateSteps', options.maxInterpolateSteps, {
    default: DEFAULT_MAX_INTERPOLATE,
    min: 0,
  });
  const { file } = options;
  if (file !== undefined && (typeof file !== 'string' || file === ''))
    throw new OptionError(OWNER, 'file', 'a non-empty path', file);
  const onCorrupt = options.onCorrupt ?? 'throw';
  if (onCorrupt !== 'throw' && onCorrupt !== 'start-empty')
    throw new OptionError(OWNER, 'onCorrupt', '"throw" or "start-empty"', onCorrupt);

  const rings = new Map<string, Ring>();
  let loadWarning: HistoryError | undefined;
  if (file !== undefined) {
    try {
      const snapshot = readSnapshot(file);
      if (snapshot) restore(snapshot, file);
    } catch (error) {
      const recoverable =
        error instanceof HistoryError &&
        (error.code === 'corrupt-file' || error.code === 'unreadable-file');
      if (!recoverable || onCorrupt === 'throw') throw error;
      loadWarning = error;
      rings.clear();
    }
  }

  function restore(snapshot: HistorySnapshot, path: string): void {
    if (snapshot.stepMs !== stepMs) {
      throw new HistoryError(
        `history file ${path} was written with stepMs ${snapshot.stepMs}, but this store uses stepMs ${stepMs}; use the same step or move the file away`,
        'incompatible-file',
        { file: path },
      );
    }
    for (const stored of snapshot.series) rings.set(stored.name, ringFrom(stored));
  }

  function ringFrom(stored: StoredSeries): Ring {
    // A smaller capacity than when saved keeps the newest points.
    const keep = stored.values.subarray(Math.max(0, stored.values.length - capacity));
    const ring = newRing(stored.startMs / stepMs + (stored.values.length - keep.length));
    ring.values.set(keep);
    ring.count = keep.length;
    for (let k = keep.length - 1; k >= 0; k--) {
      if (!Number.isNaN(keep[k] as number)) {
        ring.lastGood = ring.firstStep + k;
        break;
      }
    }
    return ring;
  }

  function newRing(firstStep: number): Ring {
    return {
      values: new Float64Array(capacity),
      head: 0,
      count: 0,
      firstStep,
      lastGood: undefined,
      anchor: undefined,
    };
  }

  const slot = (ring: Ring, step: number): number => (ring.head + step - ring.firstStep) % capacity;

  function push(ring: Ring, value: number): void {
    if (ring.count < capacity) {
      ring.values[(ring.head + ring.count) % capacity] = value;
      ring.count++;
    } else {
      ring.values[ring.head] = value;
      ring.head = (ring.head + 1) % capacity;
      ring.firstStep++;
    }
  }

  /** Linear interpolation between the real samples at `from` and `to`, if the run is short. */
  function fill(ring: Ring, from: number | undefined, to: number): void {
    if (from === undefined || from < ring.firstStep) return;
    const missing = to - from - 1;
    if (missing < 1 || missing > maxInterpolate) return;
    const a = ring.values[slot(ring, from)] as number;
    const b = ring.values[slot(ring, to)] as number;
    for (let k = 1; k <= missing; k++)
      ring.values[slot(ring, from + k)] = a + ((b - a) * k) / (missing + 1);
  }

  /** Bookkeeping after a real value was written at `step` (the newest step). */
  function settle(ring: Ring, step: number): void {
    // A second sample in the same step moves the right end of the last fill, so redo it.
    if (ring.lastGood !== step) ring.anchor = ring.lastGood;
    ring.lastGood = step;
    fill(ring, ring.anchor, step);
  }

  const store: HistoryStore = {
    stepMs,
    capacity,
    file,
    get loadWarning() {
      return loadWarning;
    },
    append(name, timestampMs, value) {
      if (typeof name !== 'string' || name === '')
        throw new HistoryError('history: series name must be a non-empty string', 'invalid-sample');
      if (typeof timestampMs !== 'number' || !Number.isFinite(timestampMs)) {
        throw new HistoryError(
          `history: series "${name}": timestamp ${String(timestampMs)} is not a finite number of milliseconds`,
          'invalid-sample',
          { series: name },
        );
      }
      if (
        typeof value !== 'number' ||
        (!Number.isNaN(value) && !(value >= 0 && value < Infinity))
      ) {
        throw new HistoryError(
          `history: series "${name}": value ${String(value)} at ${iso(timestampMs)} is not a finite number >= 0`,
          'invalid-sample',
          { series: name },
        );
      }
      const step = Math.floor(timestampMs / stepMs);
      const missing = Number.isNaN(value);
      let ring = rings.get(name);
      if (!ring || ring.count === 0) {
        ring ??= newRing(step);
        rings.set(name, ring);
        ring.firstStep = step;
        push(ring, value);
        if (!missing) settle(ring, step);
        return;
      }
      const last = ring.firstStep + ring.count - 1;
      if (step < last) {
        throw new HistoryError(
          `history: series "${name}": sample at ${iso(timestampMs)} is older than the last step ${iso(last * stepMs)} (out of order or a duplicate)`,
          'out-of-order',
          { series: name },
        );
      }
      if (step === last) {
        if (missing) return;
        ring.values[slot(ring, step)] = value;
        settle(ring, step);
        return;
      }
      if (step - last > capacity) {
        // Everything held would be evicted by the gap anyway: restart instead of writing NaNs.
        ring.head = 0;
        ring.count = 0;
        ring.firstStep = step;
        ring.lastGood = undefined;
        ring.anchor = undefined;
      } else {
        for (let s = last + 1; s < step; s++) push(ring, Number.NaN);
      }
      push(ring, value);
      if (!missing) settle(ring, step);
    },
    series(name) {
      const ring = rings.get(name);
      if (!ring) {
        const known = [...rings.keys()].map((n) => `"${n}"`).join(', ') || 'none';
        throw new HistoryError(`history: no series "${name}" (known: ${known})`, 'unknown-series', {
          series: name,
        });
      }
      return { startMs: ring.firstStep * stepMs, stepMs, values: ordered(ring) };
    },
    has: (name) => (rings.get(name)?.count ?? 0) > 0,
    names: () => [...rings.keys()],
    lastTimestamp(name) {
      const ring = rings.get(name);
      return ring && ring.count > 0 ? (ring.firstStep + ring.count - 1) * stepMs : undefined;
    },
    persist() {
      writing = writing.catch(() => {}).then(() => write());
      return writing;
    },
  };

  function ordered(ring: Ring): Float64Array {
    const out = new Float64Array(ring.count);
    const tail = Math.min(ring.count, capacity - ring.head);
    out.set(ring.values.subarray(ring.head, ring.head + tail));
    if (tail < ring.count) out.set(ring.values.subarray(0, ring.count - tail), tail);
    return out;
  }

  let writing: Promise<void> = Promise.resolve();
  async function write(): Promise<void> {
    if (file === undefined) {
      throw new HistoryError(
        'history: persist() needs the file option of createHistoryStore',
        'persist-failed',
      );
    }
    // Encoded synchronously, so appends during the async write cannot tear the snapshot.
    const text = encodeHistory({
      stepMs,
      capacity,
      savedAtMs: Date.now(),
      series: [...rings]
        .filter(([, ring]) => ring.count > 0)
        .map(([name, ring]) => ({ name, startMs: ring.firstStep * stepMs, values: ordered(ring) })),
    });
    try {
      await writeFileAtomic(file, text, { fsync: true });
    } catch (error) {
      throw new HistoryError(
        `history: cannot write ${file}: ${(error as Error).message}`,
        'persist-failed',
        { file, cause: error },
      );
    }
  }

  return store;
}

/**
 * Opens the history persisted at `file`, with the step and capacity it was saved with unless
 * `options` override them. A missing file is an error here (use {@link createHistoryStore} to
 * start empty).
 * @throws HistoryError `unreadable-file`/`corrupt-file`/`incompatible-file` naming the file
 *   (with `onCorrupt: 'start-empty'` a corrupt file needs `options.stepMs` and gives an empty store).
 */
export function loadHistoryStore(
  file: string,
  options: Partial<Omit<HistoryStoreOptions, 'file'>> = {},
): HistoryStore {
  let snapshot: HistorySnapshot | undefined;
  try {
    snapshot = readSnapshot(file);
  } catch (error) {
    if (options.onCorrupt !== 'start-empty' || options.stepMs === undefined) throw error;
  }
  if (!snapshot && options.stepMs === undefined) {
    throw new HistoryError(`history file ${file} does not exist`, 'unreadable-file', { file });
  }
  return createHistoryStore({
    ...options,
    stepMs: options.stepMs ?? (snapshot as HistorySnapshot).stepMs,
    capacity: options.capacity ?? snapshot?.capacity,
    file,
  });
}

/** Reads and verifies `file`; `undefined` when it does not exist. */
function readSnapshot(file: string): HistorySnapshot | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new HistoryError(
      `history file ${file} cannot be read: ${(error as Error).message}`,
      'unreadable-file',
      { file, cause: error },
    );
  }
  return decodeHistory(text, file);
}
