/**
 * The data directory at start: the history and model files a previous run left, read
 * forgivingly. A corrupt history is moved aside and the history starts empty, a model that
 * does not fit the configuration is ignored, temp files of an interrupted write are removed:
 * a sidecar must not crash-loop on its own files. Only a history written with another step
 * stops the start (discarding it would lose data silently).
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createHistoryStore, HistoryError, type HistoryStore } from '@tidewatch/forecast';
import type { ServeConfig } from './config.js';
import type { Logger } from './log.js';
import { loadSavedModel, type SavedModel } from './model-file.js';

/** The files of a data directory. */
export interface DataFiles {
  /** `<dir>/history.json`. */
  history: string;
  /** `<dir>/model.json`. */
  model: string;
}

/** The files kept in `dir`. */
export function dataFiles(dir: string): DataFiles {
  return { history: join(dir, 'history.json'), model: join(dir, 'model.json') };
}

/**
 * Creates `dir` (and its parents).
 * @throws The fs error; for a directory that exists up to `dir` itself, the error of creating
 *   it (`recursive` reports a read-only parent as ENOENT, which would send an operator looking
 *   for a missing path).
 */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(dir);
  }
}

/**
 * Creates `dir` and removes the temp files of interrupted writes.
 * @returns `undefined`, or the error when the directory cannot be created or read (the sidecar
 *   then starts degraded instead of not at all: it can serve from memory).
 */
export function prepareDataDir(dir: string, log: Logger): unknown {
  try {
    ensureDir(dir);
    removeOrphans(dir, log);
    return undefined;
  } catch (error) {
    return error;
  }
}

/**
 * Deletes temp files a killed writer left (write-file-atomic names them `<file>.<number>`).
 * The sidecar owns its dataDir, so at start nobody else can be writing them.
 */
function removeOrphans(dir: string, log: Logger): void {
  const orphans = readdirSync(dir).filter((f) => /^(history|model|shadow)\.json\.\d+$/.test(f));
  for (const f of orphans) rmSync(join(dir, f), { force: true });
  if (orphans.length > 0)
    log.log('info', 'removed temp files of an interrupted write', { files: orphans });
}

/**
 * Opens the history. A corrupt or unreadable file is moved aside (kept for inspection) and
 * the history starts empty.
 * @throws HistoryError `incompatible-file` for a file written with another step.
 */
export function openStore(
  config: ServeConfig,
  file: string | undefined,
  log: Logger,
): HistoryStore {
  const options = {
    stepMs: config.stepSeconds * 1000,
    capacity: config.historyPoints,
    ...(file ? { file } : {}),
  };
  try {
    return createHistoryStore(options);
  } catch (error) {
    const recoverable =
      file &&
      error instanceof HistoryError &&
      (error.code === 'corrupt-file' || error.code === 'unreadable-file');
    if (!recoverable) throw error;
    const aside = `${file}.corrupt-${Date.now()}`;
    try {
      renameSync(file, aside);
    } catch {
      // Unreadable and unmovable: start empty in memory; saving will report the problem.
    }
    log.log('error', 'history file unusable: moved aside, starting empty', {
      error,
      movedTo: aside,
    });
    return createHistoryStore(options);
  }
}

/**
 * Why a saved model does not fit `config` (another metric, step, season or calendar), or
 * undefined when it does. A changed calendar file retrains: the model's history was adjusted
 * with the old events.
 */
export function savedModelMismatch(model: SavedModel, config: ServeConfig): string | undefined {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (model.metric !== config.metric) return `it is for metric ${model.metric}`;
  if (model.stepMs !== config.stepSeconds * 1000)
    return `it was trained with a step of ${model.stepMs / 1000} s`;
  if (!same(model.fitted.season, config.forecast.season ?? {}))
    return 'it was trained with another forecast.season';
  if (!same(model.fitted.calendar?.events ?? [], config.forecast.calendar?.events ?? []))
    return 'it was trained with another forecast.calendarFile';
  return undefined;
}

/** The saved model, when it fits this configuration; anything else is logged and ignored. */
export function loadModel(file: string, config: ServeConfig, log: Logger): SavedModel | undefined {
  let model: SavedModel | undefined;
  try {
    model = loadSavedModel(file);
  } catch (error) {
    log.log('error', 'saved model unusable: it will be retrained', { error });
    return undefined;
  }
  if (!model) return undefined;
  const why = savedModelMismatch(model, config);
  if (why) {
    log.log('warn', `saved model ignored: ${why}`);
    return undefined;
  }
  log.log('info', 'saved model loaded', {
    model: model.model,
    trainedAt: new Date(model.trainedAtMs).toISOString(),
  });
  return model;
}
