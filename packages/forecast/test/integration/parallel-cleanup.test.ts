/**
 * The two-thread forecast (a worker that starts a second worker) leaves no thread behind when
 * it is aborted or times out: terminating the first worker must take the second with it.
 * Threads are counted in /proc/self/task (Linux; this project runs in forks, so the count is
 * this file's process alone). Uses the built worker: run `npx tsup` in packages/forecast.
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '@tidewatch/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Series } from '../../src/series.js';
import { runInWorker, WorkerTimeoutError } from '../../src/worker/runner.js';

const built = fileURLToPath(new URL('../../dist/worker.js', import.meta.url));
const TASKS = '/proc/self/task';

function threads(): number {
  return readdirSync(TASKS).length;
}

/** Polls (bounded) until the process is back to `count` threads or fewer; returns the last count. */
async function settleTo(count: number): Promise<number> {
  let n = threads();
  for (let i = 0; i < 400 && n > count; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    n = threads();
  }
  return n;
}

function seeded(hours = 24 * 35): Series {
  const rnd = seededRandom(7);
  const values = new Float64Array(hours);
  for (let t = 0; t < hours; t++)
    values[t] = Math.round(
      100 * (1 + 0.6 * Math.sin((2 * Math.PI * (t % 24)) / 24)) * (0.9 + 0.2 * rnd()),
    );
  return { startMs: Date.parse('2024-01-01T00:00:00Z'), stepMs: 3_600_000, values };
}

/** An LSTM that only an abort or the budget stops, among the default candidates. */
const longAuto = {
  horizon: 24,
  modelOptions: { lstm: { iterations: 100_000, timeBudgetMs: 60_000 } },
};

let baseline = 0;

beforeAll(async () => {
  if (!existsSync(TASKS)) throw new Error(`${TASKS} is missing: this test needs Linux`);
  if (!existsSync(built))
    throw new Error(`${built} is missing: run \`npx tsup\` in packages/forecast first`);
  // One full two-thread forecast first, so threads Node starts once (libuv pool, inspector)
  // are in the baseline.
  await runInWorker('forecast', {
    series: seeded(),
    options: { horizon: 24, modelOptions: { lstm: { iterations: 2 } } },
  });
  baseline = await settleTo(0);
});

describe('two-thread forecast cleanup', () => {
  it('finishes with both workers gone', async () => {
    const result = await runInWorker('forecast', {
      series: seeded(),
      options: { horizon: 24, modelOptions: { lstm: { iterations: 2 } } },
    });
    expect(result.forecast).toHaveLength(24);
    expect(await settleTo(baseline)).toBe(baseline);
  });

  it('aborted while the LSTM trains, terminates the second worker too', async () => {
    const controller = new AbortController();
    let peak = 0;
    const run = runInWorker(
      'forecast',
      { series: seeded(), options: longAuto },
      {
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (p) => {
          // Training has started: the second worker was started before it.
          if (p.fit && p.fit.iterations >= 5) {
            peak = Math.max(peak, threads());
            controller.abort();
          }
        },
      },
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(peak).toBeGreaterThanOrEqual(baseline + 2);
    expect(await settleTo(baseline)).toBe(baseline);
  });

  it('timed out, terminates the second worker too', async () => {
    const run = runInWorker(
      'forecast',
      { series: seeded(), options: longAuto },
      { timeBudgetMs: 300, graceMs: 1 },
    );
    await expect(run).rejects.toBeInstanceOf(WorkerTimeoutError);
    expect(await settleTo(baseline)).toBe(baseline);
  });
});
