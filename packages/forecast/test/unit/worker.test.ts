/**
 * runInWorker against the real built worker (dist/worker.js: the test command builds first;
 * run `npx tsup` in packages/forecast when running this file alone).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { flightsHourly, head } from '@tidewatch/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BacktestProgress } from '../../src/backtest/backtest.js';
import { forecastWith } from '../../src/forecast.js';
import type { Series } from '../../src/series.js';
import { runInWorker, WorkerTimeoutError, workerUrl } from '../../src/worker/runner.js';

const built = fileURLToPath(new URL('../../dist/worker.js', import.meta.url));
// Four weeks of hourly flights: enough for every model at horizon 24, small enough to be quick.
const fourWeeks = head(flightsHourly(), 24 * 28);
/** An LSTM that would train for a long time: only the budget or an abort stops it early. */
const longLstm = {
  model: 'lstm',
  horizon: 24,
  modelOptions: { lstm: { iterations: 100_000, timeBudgetMs: 60_000 } },
};

/** A copy whose values own their buffer, so it is transferred (and detached) by the runner. */
function own(s: Series): Series {
  return { startMs: s.startMs, stepMs: s.stepMs, values: Float64Array.from(s.values) };
}

beforeAll(() => {
  // Fail loudly rather than skip: these tests are the proof that training leaves the loop free.
  if (!existsSync(built))
    throw new Error(
      `${built} is missing: run \`npx tsup\` in packages/forecast (npm run build) first`,
    );
});

describe('runInWorker', () => {
  it('trains in a worker while the main event loop keeps ticking, reporting progress', async () => {
    let ticks = 0;
    const interval = setInterval(() => ticks++, 1);
    const progress: BacktestProgress[] = [];
    const ticksAtProgress: number[] = [];
    try {
      const result = await runInWorker(
        'forecast',
        {
          series: fourWeeks,
          options: { model: 'lstm', horizon: 24, modelOptions: { lstm: { iterations: 40 } } },
        },
        {
          progressIntervalMs: 0,
          onProgress: (p) => {
            progress.push(p);
            ticksAtProgress.push(ticks);
          },
        },
      );
      expect(result.model).toBe('lstm');
      expect(result.forecast).toHaveLength(24);
      const fits = progress.filter((p) => p.fit?.model === 'lstm').map((p) => p.fit);
      expect(fits.length).toBeGreaterThan(1);
      expect(fits.at(-1)).toMatchObject({
        model: 'lstm',
        iterations: 40,
        total: 40,
        error: expect.any(Number),
      });
      // Timers fired between the first and the last progress message: the loop was free
      // while the network trained.
      expect(ticksAtProgress.at(-1)).toBeGreaterThan(ticksAtProgress[0] as number);
    } finally {
      clearInterval(interval);
    }
  });

  // The budget reaches the models as `deadline`; the LSTM must stop training at it and still
  // return a forecast. Grace is short so a model that ignores the deadline fails fast (with
  // WorkerTimeoutError) instead of training for a minute.
  it('stops neural training at the time budget and still returns a result', async () => {
    const progress: BacktestProgress[] = [];
    const result = await runInWorker(
      'forecast',
      { series: fourWeeks, options: longLstm },
      { timeBudgetMs: 1000, graceMs: 4000, onProgress: (p) => progress.push(p) },
    );
    expect(result.forecast).toHaveLength(24);
    const last = progress.filter((p) => p.fit?.model === 'lstm').at(-1)?.fit;
    expect(last?.iterations).toBeGreaterThan(0);
    expect(last?.iterations).toBeLessThan(100_000);
  });

  it('returns a model that reloads in the main thread to identical forecasts', async () => {
    const input = own(fourWeeks);
    const again = own(fourWeeks);
    const result = await runInWorker('forecast', {
      series: input,
      options: { model: 'lstm', horizon: 24, modelOptions: { lstm: { iterations: 15 } } },
    });
    expect(forecastWith(result.fitted, again, 24)).toEqual(result.forecast);
    // Values crossed by transfer, not copy: the caller's buffer is detached.
    expect(input.values.length).toBe(0);
  });

  it('runs a backtest and reports origins', async () => {
    const origins: number[] = [];
    const report = await runInWorker(
      'backtest',
      {
        series: fourWeeks,
        options: { horizon: 24, models: ['seasonal-naive-weekly', 'holt-winters'] },
      },
      { onProgress: (p) => origins.push(p.origin) },
    );
    expect(report.models.map((m) => m.model)).toEqual(['seasonal-naive-weekly', 'holt-winters']);
    expect(origins.at(-1)).toBe(7);
    // A subarray view was copied, not transferred: the caller's data is intact.
    expect(fourWeeks.values.length).toBe(24 * 28);
  });

  it('re-throws worker errors with their original message', async () => {
    await expect(
      runInWorker('forecast', { series: fourWeeks, options: { model: 'nope', horizon: 24 } }),
    ).rejects.toThrow(/^unknown model "nope"/);
    await expect(
      runInWorker('backtest', {
        series: head(fourWeeks, 100),
        options: { horizon: 24, models: ['seasonal-naive-weekly'] },
      }),
    ).rejects.toThrow(/^too little history: 100 points, need at least/);
  });

  it('aborts a running training when the signal fires', async () => {
    const controller = new AbortController();
    const run = runInWorker(
      'forecast',
      { series: fourWeeks, options: longLstm },
      { signal: controller.signal, onProgress: () => controller.abort() },
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    const pre = new AbortController();
    pre.abort();
    await expect(
      runInWorker('forecast', { series: fourWeeks, options: longLstm }, { signal: pre.signal }),
    ).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('terminates the worker at budget + grace with a clear error', async () => {
    const run = runInWorker(
      'forecast',
      { series: fourWeeks, options: longLstm },
      { timeBudgetMs: 1, graceMs: 1 },
    );
    await expect(run).rejects.toBeInstanceOf(WorkerTimeoutError);
    await expect(run).rejects.toThrow(
      'forecast exceeded its time budget of 0.001 s (+ 0.001 s grace) and was stopped',
    );
  });
});

describe('workerUrl', () => {
  it('points TypeScript sources at the built worker and says when it is missing', () => {
    expect(fileURLToPath(workerUrl())).toBe(built);
    const dir = mkdtempSync(join(tmpdir(), 'tw-worker-'));
    try {
      expect(() => workerUrl(pathToFileURL(join(dir, 'chunk.js')).href)).toThrow(
        /worker\.js not found: build the package first/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
