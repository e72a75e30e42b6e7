/**
 * Validation of the CLI's option values. Commander only checks the shape of the command line
 * (usage errors, exit code 2); values are checked here so that a bad horizon or model name is
 * a one-line input error with exit code 1, like a bad file.
 */
import { MODEL_NAMES } from '@tidewatch/forecast';
import { checkField, positiveIntText, positiveNumberText } from '../fields.js';
import { CliError } from './errors.js';

/** Output format. */
export type OutputFormat = 'table' | 'json';

/** Options shared by `forecast` and `backtest`, validated. */
export interface CommonArgs {
  /** CSV file path. */
  input: string;
  /** Forecast horizon, steps (positive integer). */
  horizon: number;
  /** Expected spacing of the file, seconds (absent: inferred). */
  step?: number;
  /** Rolling origins of the backtest (positive integer; default 7 in the library). */
  origins?: number;
  /** Steps between origins (positive integer; default the horizon). */
  every?: number;
  /** Models the backtest compares (absent: all). */
  models?: string[];
  /** Wall-clock budget for training, ms (from `--time-budget` seconds). */
  timeBudgetMs?: number;
  /** Calendar file of known events (`--calendar`): holidays, launches. */
  calendar?: string;
  output: OutputFormat;
}

/** `forecast` options, validated. */
export interface ForecastArgs extends CommonArgs {
  /** A model name or `auto` (backtest winner). */
  model: string;
}

/** `backtest` options, validated. */
export type BacktestArgs = CommonArgs;

/** Raw option values as commander hands them over (strings unless defaulted). */
export type RawOptions = Record<string, unknown>;

/**
 * Validates `backtest` options.
 * @throws CliError (exit 1) for a missing input, a horizon/origins/every that is not a
 *   positive integer, a step or time budget that is not a positive number, an unknown model,
 *   an empty `--calendar` (the file itself is read by the command).
 */
export function parseBacktestArgs(raw: RawOptions): BacktestArgs {
  const input = raw.input;
  if (typeof input !== 'string' || input === '') throw new CliError('--input FILE.csv is required');
  const output = raw.output ?? 'table';
  if (output !== 'table' && output !== 'json')
    throw new CliError(`--output must be "table" or "json", got "${String(output)}"`);
  const args: BacktestArgs = {
    input,
    horizon: positiveInt(raw.horizon, '--horizon', 'steps'),
    output,
  };
  if (raw.step !== undefined) args.step = positiveNumber(raw.step, '--step', 'seconds');
  if (raw.origins !== undefined) args.origins = positiveInt(raw.origins, '--origins', 'origins');
  if (raw.every !== undefined) args.every = positiveInt(raw.every, '--every', 'steps');
  if (raw.models !== undefined) args.models = modelList(raw.models);
  if (raw.timeBudget !== undefined)
    args.timeBudgetMs = Math.round(
      positiveNumber(raw.timeBudget, '--time-budget', 'seconds') * 1000,
    );
  if (raw.calendar !== undefined) {
    const calendar = String(raw.calendar).trim();
    if (calendar === '') throw new CliError('--calendar needs a file path');
    args.calendar = calendar;
  }
  return args;
}

/**
 * Validates `forecast` options: those of {@link parseBacktestArgs} plus `--model` (default
 * `auto`).
 * @throws CliError as {@link parseBacktestArgs}, and for an unknown `--model`.
 */
export function parseForecastArgs(raw: RawOptions): ForecastArgs {
  const model = raw.model === undefined ? 'auto' : String(raw.model).trim();
  if (model !== 'auto') checkModel(model);
  return { ...parseBacktestArgs(raw), model };
}

const cliError = (message: string) => new CliError(message);

/** A positive integer from an option value. */
export function positiveInt(value: unknown, flag: string, unit: string): number {
  return checkField(positiveIntText(unit), String(value ?? ''), flag, cliError);
}

/** A positive finite number from an option value. */
export function positiveNumber(value: unknown, flag: string, unit: string): number {
  return checkField(positiveNumberText(unit), String(value ?? ''), flag, cliError);
}

/** Comma-separated model names, each known, without duplicates. */
function modelList(value: unknown): string[] {
  const names = String(value)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new CliError('--models needs at least one model name');
  for (const name of names) checkModel(name);
  return [...new Set(names)];
}

function checkModel(name: string): void {
  if (!(MODEL_NAMES as readonly string[]).includes(name)) {
    throw new CliError(`unknown model "${name}" (known: ${MODEL_NAMES.join(', ')})`);
  }
}
