/**
 * The fitted model on disk, next to the history: JSON written atomically (write-file-atomic:
 * temp file, fsync, rename), so a restart resumes forecasting at once instead of waiting for
 * a retrain, and a crash mid-write leaves the previous model in place.
 */
import { readFileSync } from 'node:fs';
import type { BandAdaptation, FittedForecaster } from '@tidewatch/forecast';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';

/** The `format` tag of a model file. */
export const MODEL_FORMAT = 'tidewatch-model';

/** The selected model's backtest scores (the sidecar's `tidewatch_forecast_error`). */
export interface ModelScores {
  mase: number;
  wape: number;
  coverage90: number;
}

/** What the sidecar keeps about its current model. */
export interface SavedModel {
  /** The series it forecasts (the config's `metric`). */
  metric: string;
  /** Step of the series, milliseconds. */
  stepMs: number;
  /** When training finished, unix ms. */
  trainedAtMs: number;
  /** The model's name, e.g. `holt-winters`. */
  model: string;
  /** Its backtest scores; `null` when the backtest could not score it. */
  scores: ModelScores | null;
  /** Scale of the live MASE (seasonal naive in-sample MAE of the training history); `null` if unknown. */
  maseScale: number | null;
  /** The fitted model: `forecastWith` reproduces forecasts from it. */
  fitted: FittedForecaster;
  /**
   * The live adaptive correction of its band (./band.ts), as of the last save; absent in a
   * freshly trained model and in files of older sidecars (the band starts at its calibration).
   */
  bandAdaptation?: BandAdaptation;
}

const finite = z.number().refine(Number.isFinite);
const fileSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  version: z.literal(1),
  metric: z.string(),
  stepMs: z.number().int().positive(),
  trainedAtMs: finite,
  model: z.string(),
  scores: z.object({ mase: finite, wape: finite, coverage90: finite }).nullable(),
  maseScale: finite.nullable(),
  fitted: z.object({
    version: z.literal(1),
    model: z.object({ kind: z.string(), name: z.string(), params: z.unknown() }),
    band: z.unknown(),
    stepMs: z.number().int().positive(),
    startMs: finite,
    horizon: z.number().int().positive(),
    season: z.object({ daySteps: z.number().optional(), weekSteps: z.number().optional() }),
  }),
  bandAdaptation: z
    .object({
      target: finite,
      gamma: finite,
      level: finite,
      points: z.number().int().nonnegative(),
      covered: z.number().int().nonnegative(),
    })
    .optional(),
});

/**
 * Writes `model` to `file` atomically (fsync before rename).
 * @throws Error when the write fails (the previous file is intact).
 */
export async function saveModel(file: string, model: SavedModel): Promise<void> {
  await writeFileAtomic(file, modelText(model), { fsync: true });
}

/** The model file's text of `model` (also what leader election stores in its ConfigMap). */
export function modelText(model: SavedModel): string {
  return `${JSON.stringify({ format: MODEL_FORMAT, version: 1, ...model })}\n`;
}

/**
 * Reads the model saved at `file`.
 * @returns `undefined` when there is no file.
 * @throws Error saying why the file cannot be used (unreadable, not JSON, wrong format).
 */
export function loadSavedModel(file: string): SavedModel | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`model file ${file} cannot be read: ${(error as Error).message}`);
  }
  return parseSavedModel(text, `model file ${file}`);
}

/**
 * Parses a model file's text (see {@link modelText}).
 * @param where - names the text in messages, e.g. `model file /data/model.json`.
 * @throws Error saying why the text cannot be used (not JSON, wrong format).
 */
export function parseSavedModel(text: string, where: string): SavedModel {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = fileSchema.safeParse(doc);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(
      `${where} is not a ${MODEL_FORMAT} file: ${first?.path.join('.') || 'document'}: ${first?.message}`,
    );
  }
  const { format: _format, version: _version, ...model } = parsed.data;
  return model as SavedModel;
}
