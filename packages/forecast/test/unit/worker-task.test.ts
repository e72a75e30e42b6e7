import { flightsHourly, head } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import type { BacktestProgress } from '../../src/backtest/backtest.js';
import { runTask, throttleProgress } from '../../src/worker/task.js';

const fit = (iterations: number, total = 60): BacktestProgress => ({
  origin: 0,
  total: 7,
  fit: { model: 'lstm', iterations, total, error: 0.1 },
});

describe('throttleProgress', () => {
  it('passes fit updates at most once per interval but always the last iteration and origin changes', () => {
    let clock = 0;
    const sent: BacktestProgress[] = [];
    const send = throttleProgress(
      (p) => sent.push(p),
      100,
      () => clock,
    );
    send(fit(1)); // first of its kind: through
    clock = 10;
    send(fit(2)); // too soon: dropped
    clock = 50;
    send(fit(3)); // dropped
    clock = 120;
    send(fit(4)); // interval passed: through
    clock = 130;
    send(fit(60)); // last iteration: through
    send({ origin: 1, total: 7 }); // origin done: through
    clock = 131;
    send({ origin: 2, total: 7 }); // another origin: through
    expect(sent.map((p) => p.fit?.iterations ?? `o${p.origin}`)).toEqual([1, 4, 60, 'o1', 'o2']);
  });

  it('passes everything with interval 0', () => {
    const sent: BacktestProgress[] = [];
    const send = throttleProgress(
      (p) => sent.push(p),
      0,
      () => 5,
    );
    for (let i = 1; i <= 5; i++) send(fit(i));
    expect(sent).toHaveLength(5);
  });
});

describe('runTask', () => {
  it('runs a backtest in-process with the request options and reports origins', () => {
    const s = head(flightsHourly(), 24 * 28);
    const origins: number[] = [];
    const report = runTask(
      {
        task: 'backtest',
        series: { startMs: s.startMs, stepMs: s.stepMs, values: Float64Array.from(s.values) },
        options: { horizon: 24, origins: 3, models: ['seasonal-naive-weekly'] },
        progressIntervalMs: 0,
      },
      (p) => origins.push(p.origin),
    );
    expect(report).toMatchObject({ selected: 'seasonal-naive-weekly', origins: 3, horizon: 24 });
    expect(origins).toEqual([1, 2, 3]);
  });
});
