/**
 * The `forecast` and `backtest` commands: read and check the CSV, check there is enough
 * history, run the work in a worker thread and print the result (JSON or a table).
 */
import type { BacktestReport, Calendar, ForecastResult } from '@tidewatch/forecast';
import {
  loadCalendarFile,
  type RunInWorkerOptions,
  runInWorker,
  WorkerTimeoutError,
} from '@tidewatch/forecast';
import type { BacktestArgs, CommonArgs, ForecastArgs } from './args.js';
import { readSeriesCsv } from './csv.js';
import { CliError } from './errors.js';
import { checkHistory } from './history.js';
import { createProgress } from './progress.js';
import { renderBacktest, renderForecast } from './table.js';

/** Where a command writes: injectable so tests can capture output. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  /** Also where the progress bar goes. */
  stderr: NodeJS.WriteStream;
}

/**
 * `forecast`: prints `{"model","step","forecast":[{timestamp,p50,p90}]}` (plus `backtest`
 * when the model was chosen automatically) or a table.
 * @throws CliError for bad input, too little history, a failed or timed-out run.
 */
export async function forecastCommand(args: ForecastArgs, io: CliIO): Promise<void> {
  const series = readSeriesCsv(args.input, args.step !== undefined ? { stepS: args.step } : {});
  checkHistory(series, { ...plan(args), model: args.model });
  const calendar = readCalendar(args);
  const result = await run(args, io, (options) =>
    runInWorker(
      'forecast',
      {
        series,
        options: {
          horizon: args.horizon,
          model: args.model,
          ...(args.models ? { candidates: args.models } : {}),
          ...(args.origins !== undefined ? { origins: args.origins } : {}),
          ...(args.every !== undefined ? { every: args.every } : {}),
          ...(calendar ? { calendar } : {}),
        },
      },
      options,
    ),
  );
  io.stdout.write(
    args.output === 'json' ? `${JSON.stringify(forecastJson(result))}\n` : renderForecast(result),
  );
}

/**
 * `backtest`: prints `{"models":[{model,mase,wape,coverage90,fitMs}],"selected", ...}` or a
 * table.
 * @throws CliError for bad input, too little history, a failed or timed-out run.
 */
export async function backtestCommand(args: BacktestArgs, io: CliIO): Promise<void> {
  const series = readSeriesCsv(args.input, args.step !== undefined ? { stepS: args.step } : {});
  checkHistory(series, plan(args));
  const calendar = readCalendar(args);
  const report = await run(args, io, (options) =>
    runInWorker(
      'backtest',
      {
        series,
        options: {
          horizon: args.horizon,
          ...(args.models ? { models: args.models } : {}),
          ...(args.origins !== undefined ? { origins: args.origins } : {}),
          ...(args.every !== undefined ? { every: args.every } : {}),
          ...(calendar ? { calendar } : {}),
        },
      },
      options,
    ),
  );
  io.stdout.write(
    args.output === 'json' ? `${JSON.stringify(backtestJson(report))}\n` : renderBacktest(report),
  );
}

/** The contract's forecast JSON: model, step, forecast first; the choosing backtest after. */
export function forecastJson(result: ForecastResult): object {
  // `fitted` stays out: it is the model's internal state (LSTM weights), not a result.
  return {
    model: result.model,
    step: result.step,
    forecast: result.forecast.map((p) => ({ timestamp: p.timestamp, p50: p.p50, p90: p.p90 })),
    ...(result.backtest ? { backtest: backtestJson(result.backtest) } : {}),
  };
}

/** The contract's backtest JSON: models (contract fields first), selected, then the rest. */
export function backtestJson(report: BacktestReport): object {
  return {
    models: report.models.map((m) => ({
      model: m.model,
      mase: m.mase,
      wape: m.wape,
      coverage90: m.coverage90,
      fitMs: m.fitMs,
    })),
    selected: report.selected,
    horizon: report.horizon,
    step: report.step,
    origins: report.origins,
    skipped: report.skipped,
  };
}

/**
 * The `--calendar` file, parsed (absent: undefined). Read before the worker starts so a bad
 * file is a one-line error naming the file, the line and the field.
 * @throws CliError when the file cannot be read, is over 5 MiB, or is invalid.
 */
function readCalendar(args: CommonArgs): Calendar | undefined {
  if (args.calendar === undefined) return undefined;
  try {
    return loadCalendarFile(args.calendar);
  } catch (error) {
    throw new CliError(`--calendar: ${(error as Error).message}`);
  }
}

function plan(args: CommonArgs) {
  return {
    horizon: args.horizon,
    ...(args.origins !== undefined ? { origins: args.origins } : {}),
    ...(args.every !== undefined ? { every: args.every } : {}),
    ...(args.models ? { models: args.models } : {}),
  };
}

/**
 * Runs `work` with the progress bar up (only for a human at a terminal: stderr a TTY and
 * table output) and turns its failures into one-line CLI errors.
 */
async function run<T>(
  args: CommonArgs,
  io: CliIO,
  work: (options: RunInWorkerOptions) => Promise<T>,
): Promise<T> {
  const progress = createProgress(io.stderr, io.stderr.isTTY === true && args.output !== 'json');
  try {
    return await work({
      onProgress: (p) => progress.update(p),
      ...(args.timeBudgetMs !== undefined ? { timeBudgetMs: args.timeBudgetMs } : {}),
    });
  } catch (error) {
    if (error instanceof WorkerTimeoutError)
      throw new CliError(`${error.message}; raise --time-budget`);
    throw new CliError(error instanceof Error ? error.message : String(error));
  } finally {
    progress.stop();
  }
}
