/**
 * Saving the sidecar's state to `dataDir` (the history after every new step, the model after
 * every training) and what a failed save means. A sidecar that cannot write keeps serving
 * from memory, but a restart would lose what was not saved: that is `degraded`, not `ok`.
 * Every failed save is counted (`tidewatch_persist_errors_total{file}`), the sidecar turns
 * `degraded` with reason `persist_failed` until the next successful save of that file, and the
 * error is logged once per distinct message per minute (not once per step). A model that could
 * not be saved is retried with every history save, so a healed directory clears it within a
 * step instead of at the next daily training. A vanished directory is recreated.
 */
import type { DegradedReason, PersistFile } from '@tidewatch/conventions';
import type { HistoryStore } from '@tidewatch/forecast';
import { ensureDir } from './data-dir.js';
import type { Logger } from './log.js';
import type { SavedModel } from './model-file.js';

/** The sidecar's health beside the forecast: `/forecast`'s and `/healthz`'s `health`. */
export interface HealthJson {
  /** `degraded`: serving, but something an operator must fix (see `reasons`). */
  status: 'ok' | 'degraded';
  /** Stable codes (`DEGRADED_REASONS` of `@tidewatch/conventions`); empty when ok. */
  reasons: DegradedReason[];
  /** What failed, one line each (e.g. the failed write with the file and the OS error). */
  messages: string[];
}

/** The health of a sidecar that has nothing wrong (or nothing to save). */
export const HEALTHY: Readonly<HealthJson> = Object.freeze({
  status: 'ok',
  reasons: [],
  messages: [],
});

/** Options of {@link createPersistence}. */
export interface PersistenceOptions {
  /** The data directory (recreated when it vanished). */
  dir: string;
  /** The history; its `persist()` writes the history file. */
  store: HistoryStore;
  /** Writes the model file (`saveModel` of `./model-file.js` bound to the file). */
  writeModel(model: SavedModel): Promise<void>;
  log: Logger;
  /** A failed save of `file` (the metrics layer counts it). Must not throw. */
  onError?(file: PersistFile): void;
  /** The health changed (the metrics layer sets `tidewatch_degraded`). Must not throw. */
  onHealth?(health: HealthJson): void;
  /** The clock, unix ms. Default `Date.now`. */
  now?: () => number;
  /** The same error message is logged at most once per this many ms. Default 60 000. */
  logEveryMs?: number;
  /** Spacing of the writes of `updateModel` changes, ms. Default 600 000 (10 min). */
  updateEveryMs?: number;
}

/** See {@link createPersistence}. */
export interface Persistence {
  /** Saves the history (and a model that could not be saved yet); coalesces calls made while a save runs. Never rejects. */
  saveHistory(): void;
  /** Saves `model` (after the history save in progress, if any). Never rejects. */
  saveModel(model: SavedModel): void;
  /**
   * Marks `model` (the current one with a small change: its band adaptation, which moves
   * every step) to be written with a history save at most every `updateEveryMs`, and by the
   * final flush, without a save of its own: a crash loses at most that much of the change,
   * and the model file is not rewritten every step. A model save pending takes it at once.
   */
  updateModel(model: SavedModel): void;
  /** Records a failure that happened outside a save (e.g. the directory could not be created at start). */
  fail(file: PersistFile, error: unknown): void;
  /**
   * The final write (shutdown): waits for the save in progress, then writes the history and
   * any model not yet on disk. Later `saveHistory()` calls do nothing.
   * @returns Whether both are on disk now. Never rejects.
   */
  flush(): Promise<boolean>;
  /** The health now. */
  health(): HealthJson;
}

/** Write errors whose temp-file name (write-file-atomic's `<file>.<number>`) would make every message distinct. */
const TEMP_NAME = /(\.json)\.\d+/g;

/** One line for a failed save, without the random temp-file suffix (so equal failures compare equal). */
function messageOf(file: PersistFile, error: unknown): string {
  const text = (error as Error)?.message ?? String(error);
  const line = text.replace(TEMP_NAME, '$1.<tmp>').replace(/\s*\n\s*/g, ' ');
  return line.startsWith(`${file}:`) ? line : `${file}: ${line}`;
}

/**
 * The errno code (`ENOENT`, ...) of `error` or of its cause: HistoryError wraps the fs error
 * and has a `code` of its own (`persist-failed`).
 */
function errnoOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  for (const code of [e?.cause?.code, e?.code])
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  return undefined;
}

/**
 * Creates the persistence of one sidecar's `dir`. Writes nothing until asked.
 * @throws TypeError when `logEveryMs` or `updateEveryMs` is not a number >= 0.
 */
export function createPersistence(options: PersistenceOptions): Persistence {
  const { dir, store, log } = options;
  const now = options.now ?? Date.now;
  const logEveryMs = options.logEveryMs ?? 60_000;
  if (typeof logEveryMs !== 'number' || !(logEveryMs >= 0))
    throw new TypeError(
      `createPersistence: logEveryMs must be a number >= 0, got ${String(logEveryMs)}`,
    );
  const failures = new Map<PersistFile, string>();
  const failedSaves = new Map<PersistFile, number>();
  const lastLogged = new Map<string, number>();
  const updateEveryMs = options.updateEveryMs ?? 600_000;
  if (typeof updateEveryMs !== 'number' || !(updateEveryMs >= 0))
    throw new TypeError(
      `createPersistence: updateEveryMs must be a number >= 0, got ${String(updateEveryMs)}`,
    );
  let unsavedModel: SavedModel | undefined;
  // A change of the current model written lazily (see updateModel), and when it last was.
  let updatedModel: SavedModel | undefined;
  let updatedAtMs = now();
  let running: Promise<void> | undefined;
  let again = false;
  let flushed = false;
  let health: HealthJson = HEALTHY;

  function publish(): void {
    const next: HealthJson =
      failures.size === 0
        ? HEALTHY
        : { status: 'degraded', reasons: ['persist_failed'], messages: [...failures.values()] };
    if (JSON.stringify(next) === JSON.stringify(health)) return;
    health = next;
    options.onHealth?.(health);
  }

  /** A failed save: counted (unless `counted` already), degraded, logged (rate-limited). */
  function failed(file: PersistFile, error: unknown, counted = false): void {
    if (!counted) options.onError?.(file);
    const message = messageOf(file, error);
    failures.set(file, message);
    failedSaves.set(file, (failedSaves.get(file) ?? 0) + 1);
    // Once per distinct message per interval: a read-only disk must not log every step.
    const t = now();
    for (const [m, when] of lastLogged) if (t - when >= logEveryMs) lastLogged.delete(m);
    if (!lastLogged.has(message)) {
      lastLogged.set(message, t);
      log.log('error', `saving the ${file} failed: serving on from memory (degraded)`, {
        file,
        error: message,
        failedSaves: failedSaves.get(file),
      });
    }
    publish();
  }

  function succeeded(file: PersistFile): void {
    if (!failures.has(file)) return;
    log.log('info', `saving the ${file} works again`, {
      file,
      failedSaves: failedSaves.get(file) ?? 0,
    });
    failures.delete(file);
    failedSaves.delete(file);
    publish();
  }

  /** One write, with the directory recreated (and the write retried once) when it vanished. */
  async function attempt(file: PersistFile, write: () => Promise<void>): Promise<boolean> {
    try {
      await write();
      succeeded(file);
      return true;
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT') {
        failed(file, error);
        return false;
      }
      // The directory is gone (deleted, or a volume unmounted): counted, recreated, retried
      // once. Counted even when the retry works: the files may now be on another disk.
      options.onError?.(file);
      try {
        ensureDir(dir);
        log.log('warn', 'the data directory vanished: recreated it', { dir, file });
        await write();
        succeeded(file);
        return true;
      } catch (retryError) {
        failed(file, retryError, true);
        return false;
      }
    }
  }

  async function saveAll(final = false): Promise<boolean> {
    let ok = await attempt('history', () => store.persist());
    const lazy =
      unsavedModel === undefined &&
      updatedModel !== undefined &&
      (final || now() - updatedAtMs >= updateEveryMs);
    const model = unsavedModel ?? (lazy ? updatedModel : undefined);
    if (model) {
      const saved = await attempt('model', () => options.writeModel(model));
      // A newer model may have arrived meanwhile: only clear the one just written.
      if (saved && unsavedModel === model) unsavedModel = undefined;
      if (saved && updatedModel === model) updatedModel = undefined;
      // Written, or failed: a failed lazy write is retried with every save (like a model's),
      // so a healed disk clears the degraded state within a step.
      if (lazy) updatedAtMs = saved ? now() : Number.NEGATIVE_INFINITY;
      ok &&= saved;
    }
    return ok;
  }

  function schedule(): Promise<void> {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await saveAll();
      } while (again && !flushed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    saveHistory() {
      if (!flushed) void schedule();
    },
    saveModel(model) {
      unsavedModel = model;
      updatedModel = undefined;
      if (!flushed) void schedule();
    },
    updateModel(model) {
      if (unsavedModel !== undefined) unsavedModel = model;
      else updatedModel = model;
    },
    fail(file, error) {
      failed(file, error);
    },
    async flush() {
      flushed = true;
      await running;
      return saveAll(true);
    },
    health: () => health,
  };
}
