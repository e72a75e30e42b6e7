/**
 * The two-thread selection (select/parallel.ts) against the one-thread forecast: same model,
 * same forecast and fitted state, bit for bit. Uses the built worker (dist/worker.js: run
 * `npx tsup` in packages/forecast first).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '@tidewatch/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ForecastResult, forecast, forecastFrom, select } from '../../src/forecast.js';
import { createModels } from '../../src/models/registry.js';
import { forecastParallel, selectInWorkers, splitBaseModels } from '../../src/select/parallel.js';
import type { Series } from '../../src/series.js';
import { runInWorker } from '../../src/worker/runner.js';

const built = fileURLToPath(new URL('../../dist/worker.js', import.meta.url));

/** Five weeks of a seeded hourly series: daily and weekly shape, trend, noise. */
function seeded(seed: number, hours = 24 * 35): Series {
  const rnd = seededRandom(seed);
  const values = new Float64Array(hours);
  for (let t = 0; t < hours; t++) {
    const day = 1 + 0.6 * Math.sin((2 * Math.PI * (t % 24)) / 24 - 1.2);
    const week = (t / 24) % 7 >= 5 ? 0.7 : 1;
    values[t] = Math.round(100 * day * week * (1 + t / 5000) * (0.9 + 0.2 * rnd()));
  }
  return { startMs: Date.parse('2024-01-01T00:00:00Z'), stepMs: 3_600_000, values };
}

/** The result without what legitimately differs between runs: measured fit times. */
function comparable(r: ForecastResult): unknown {
  return {
    ...r,
    backtest: r.backtest && {
      ...r.backtest,
      models: r.backtest.models.map((m) => ({ ...m, fitMs: 0 })),
    },
  };
}

const copy = (s: Series): Series => ({ ...s, values: Float64Array.from(s.values) });
const options = { horizon: 24, modelOptions: { lstm: { iterations: 20 } } };

beforeAll(() => {
  if (!existsSync(built))
    throw new Error(`${built} is missing: run \`npx tsup\` in packages/forecast first`);
});

describe('splitBaseModels', () => {
  it('puts the LSTM alone against the rest, and splits the rest when there is no LSTM', () => {
    const names = (groups: ReturnType<typeof splitBaseModels>) =>
      groups.map((g) => g.map((m) => m.name).sort());
    expect(
      names(splitBaseModels(createModels(['lstm', 'holt-winters', 'naive', 'seasonal-profile']))),
    ).toEqual([['lstm'], ['holt-winters', 'naive', 'seasonal-profile']]);
    expect(
      names(splitBaseModels(createModels(['holt-winters', 'naive', 'seasonal-profile']))),
    ).toEqual([['holt-winters'], ['naive', 'seasonal-profile']]);
  });
});

describe('forecastParallel', () => {
  it('selects the same model and forecasts the same, bit for bit, as forecast()', async () => {
    const series = seeded(17);
    const sync = forecast(copy(series), options);
    const parallel = await forecastParallel(copy(series), options);
    expect(parallel.backtest?.models.map((m) => m.model)).toEqual(
      sync.backtest?.models.map((m) => m.model),
    );
    expect(parallel.model).toBe(sync.model);
    expect(comparable(parallel)).toEqual(comparable(sync));
  });

  it('does the same through runInWorker, the path of the CLI and the sidecar', async () => {
    const series = seeded(18);
    const sync = forecast(copy(series), options);
    const viaWorker = await runInWorker('forecast', { series: copy(series), options });
    expect(comparable(viaWorker)).toEqual(comparable(sync));
  });

  it('reports every candidate and keeps every base model run for the final fit', async () => {
    const series = seeded(19);
    const selection = await selectInWorkers(copy(series), options);
    expect(selection.report?.models.map((m) => m.model).sort()).toEqual(
      createModels()
        .map((m) => m.name)
        .sort(),
    );
    expect(selection.runs.map((r) => r.model)).toEqual(
      select(copy(series), options).runs.map((r) => r.model),
    );
  });

  it('rejects with the error of a selection that cannot run', async () => {
    const tooShort: Series = { startMs: 0, stepMs: 3_600_000, values: new Float64Array(100) };
    await expect(forecastParallel(tooShort, options)).rejects.toThrow(/^too little history/);
  });
});

describe('forecastFrom', () => {
  it('reuses the LSTM fitted by the selection instead of fitting it again', () => {
    const series = seeded(20);
    const opts = {
      ...options,
      candidates: ['lstm', 'ensemble:holt-winters+seasonal-profile+lstm'],
    };
    const selection = select(series, opts);
    const lstm = selection.runs.find((r) => r.model === 'lstm');
    const result = forecastFrom(series, opts, selection);
    const fittedLstm =
      result.fitted.model.kind === 'ensemble'
        ? (result.fitted.model.params as Array<{ kind: string }>).find((m) => m.kind === 'lstm')
        : result.fitted.model;
    expect(lstm?.fitted).toBeDefined();
    expect(fittedLstm).toEqual(lstm?.fitted);
  });
});
