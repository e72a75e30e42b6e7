/**
 * What `/metrics` and `/forecast` render from a decision: a stale forecast publishes no
 * forecast, replica or threshold series (never 0) and says why; query validation messages.
 */

import { STALE_REASONS } from '@tidewatch/conventions';
import { createPlanner, STALE_REASON_MESSAGES, staleReason } from '@tidewatch/forecast';
import { describe, expect, it } from 'vitest';
import { parseServeConfig } from '../../src/serve/config.js';
import type { Decision } from '../../src/serve/engine.js';
import type { SavedModel } from '../../src/serve/model-file.js';
import { forecastJson, parseForecastQuery } from '../../src/serve/routes.js';
import { createSignals } from '../../src/serve/signals.js';

const config = parseServeConfig({
  source: { kind: 'scrape', urls: ['http://127.0.0.1:1/metrics'] },
  target: 'chat',
  planner: { capacityPerReplica: 100, targetUtilization: 0.5 },
});
const planner = createPlanner({ capacityPerReplica: 100, targetUtilization: 0.5 });
const NOW = Date.parse('2030-01-01T00:00:00Z');
const points = [0, 60, 120, 180].map((s, k) => ({
  timestamp: new Date(NOW + s * 1000).toISOString(),
  p50: 100 + k * 10,
  p90: 120 + k * 10,
}));
const model = {
  model: 'holt-winters',
  scores: { mase: 0.71, wape: 0.12, coverage90: 0.88 },
} as SavedModel;

function decision(sourceError?: string): Decision {
  const forecast = { madeAtMs: NOW - 4000, points };
  const plan = planner.plan({
    nowMs: NOW,
    actual: 90,
    actualMs: NOW - 1000,
    forecast,
    modelMase: 0.71,
    ...(sourceError ? { sourceError } : {}),
  });
  return {
    nowMs: NOW,
    status: plan.status,
    reasons: plan.reasons,
    reasonCodes: plan.reasonCodes,
    plan,
    model,
    forecast,
    rollingMase: 0.5,
    dataAgeSeconds: 1,
    forecastAgeSeconds: 4,
  };
}

const lines = (text: string) => text.split('\n').filter((l) => l.startsWith('tidewatch_'));

describe('signals', () => {
  it('publish the planner numbers while ok', async () => {
    const signals = createSignals(config, planner.leadTimeSeconds);
    signals.sourceError('scrape:http://127.0.0.1:1/metrics', 0);
    const d = decision();
    signals.update(d, { historyPoints: 1234, lastCollectMs: NOW - 1000, jobs: 3 });
    // The peaks over the 150 s lead time (points at 0, 60, 120, 180 s), and the planner's
    // replicas and threshold for them, as they are.
    expect(d.plan.recommendedReplicas).toBeTypeOf('number');
    expect(d.plan.threshold).toBeTypeOf('number');
    expect(lines(await signals.registry.metrics())).toEqual([
      'tidewatch_forecast{metric="realtime_connections",horizon="150s",quantile="0.5"} 130',
      'tidewatch_forecast{metric="realtime_connections",horizon="150s",quantile="0.9"} 150',
      // max(p50 peak 130, utilisation 0.5 x p90 peak 150)
      'tidewatch_predicted_load{metric="realtime_connections",horizon="150s"} 130',
      `tidewatch_recommended_replicas{target="chat"} ${d.plan.recommendedReplicas}`,
      `tidewatch_scaling_threshold{target="chat"} ${d.plan.threshold}`,
      'tidewatch_forecast_error{metric="realtime_connections",model="holt-winters",measure="mase"} 0.71',
      'tidewatch_forecast_error{metric="realtime_connections",model="holt-winters",measure="wape"} 0.12',
      'tidewatch_forecast_error{metric="realtime_connections",model="holt-winters",measure="coverage90"} 0.88',
      'tidewatch_forecast_error{metric="realtime_connections",model="holt-winters",measure="rolling_mase"} 0.5',
      'tidewatch_model_info{metric="realtime_connections",model="holt-winters"} 1',
      'tidewatch_forecast_age_seconds 4',
      'tidewatch_source_errors_total{source="scrape:http://127.0.0.1:1/metrics"} 0',
      'tidewatch_history_points{metric="realtime_connections"} 1234',
      'tidewatch_last_collect_timestamp_seconds 1893455999',
      'tidewatch_train_runs_total{outcome="success"} 0',
      'tidewatch_train_runs_total{outcome="failure"} 0',
      'tidewatch_scheduled_jobs 3',
    ]);
  });

  it('remove the forecast, replicas and threshold when stale, and say why', async () => {
    const signals = createSignals(config, planner.leadTimeSeconds);
    signals.update(decision(), { historyPoints: 10, lastCollectMs: NOW, jobs: 3 });
    signals.update(decision('scrape:http://127.0.0.1:1/metrics: request failed'), {
      historyPoints: 10,
      lastCollectMs: NOW,
      jobs: 3,
    });
    const out = lines(await signals.registry.metrics());
    expect(
      out.filter((l) => /^tidewatch_(forecast|recommended_replicas|scaling_threshold)[{ ]/.test(l)),
    ).toEqual([]);
    expect(out).toContain(
      'tidewatch_forecast_stale{metric="realtime_connections",reason="source_failing"} 1',
    );
  });

  it('publish no age, collect time or train duration before there is one', async () => {
    const signals = createSignals(config, planner.leadTimeSeconds);
    const out = lines(await signals.registry.metrics());
    expect(out.filter((l) => /age_seconds|last_collect|train_duration/.test(l))).toEqual([]);
    signals.trained(2.5, true);
    expect(lines(await signals.registry.metrics())).toContain(
      'tidewatch_train_duration_seconds 2.5',
    );
  });

  it.each([
    ['source failing: scrape:x: HTTP 500', staleReason('source_failing', 'scrape:x: HTTP 500')],
    ['no current observation', staleReason('no_observation')],
    ['data is 200 s old (limit 180 s)', staleReason('data_old', 200_000, 180_000)],
    ['no forecast yet', staleReason('no_forecast')],
    ['forecast is 400 s old (limit 180 s)', staleReason('forecast_old', 400_000, 180_000)],
    ['forecast does not cover the lead time', staleReason('lead_time_not_covered')],
    ['forecast has invalid values', staleReason('invalid_forecast')],
    ['model MASE 1.200 above 1', staleReason('model_mase', 1.2, 1)],
    ['rolling MASE 3.000 above 1', staleReason('rolling_mase', 3, 1)],
    ['training the first model (started 3 s ago)', staleReason('training', 3000)],
    ['training failed: boom', staleReason('training_failed', 'boom')],
    ['too little history: 5 points, need 421 to train', staleReason('too_little_history', 5, 421)],
    ['forecast failed: x', staleReason('forecast_failed', 'x')],
  ])('reason %j comes from one code and the message table', (message, reason) => {
    expect(reason.message).toBe(message);
    expect(STALE_REASONS).toContain(reason.code);
  });

  it('every stale code has a message', () => {
    expect(Object.keys(STALE_REASON_MESSAGES).sort()).toEqual([...STALE_REASONS].sort());
  });
});

describe('/forecast rendering and query', () => {
  it('renders the document the status page reads', () => {
    const d = decision();
    const doc = forecastJson(d, [{ timestamp: 'T', value: null }], config, 'scrape:u');
    expect(doc).toEqual({
      status: 'ok',
      reasons: [],
      reasonCodes: [],
      metric: 'realtime_connections',
      source: 'scrape:u',
      step: 60,
      generatedAt: '2030-01-01T00:00:00.000Z',
      forecastAgeSeconds: 4,
      dataAgeSeconds: 1,
      model: 'holt-winters',
      errors: { mase: 0.71, wape: 0.12, coverage90: 0.88, rollingMase: 0.5 },
      history: [{ timestamp: 'T', value: null }],
      forecast: points,
      plan: {
        leadTimeSeconds: 150,
        predictedPeak: 150,
        predictedLoad: 130,
        reactiveReplicas: 2, // ceil(90 / (100 x 0.5))
        recommendedReplicas: d.plan.recommendedReplicas,
        threshold: d.plan.threshold,
        capacityPerReplica: 100,
        targetUtilization: 0.5,
      },
      patch: null,
      live: null,
      nowcast: null,
    });
  });

  it.each([
    [{}, { minutes: 360 }],
    [{ history: '1' }, { minutes: 1 }],
    [{ history: '10080' }, { minutes: 10_080 }],
    [
      { history: 'abc' },
      { error: 'history must be an integer number of minutes from 1 to 10080, got "abc"' },
    ],
    [
      { history: '0' },
      { error: 'history must be an integer number of minutes from 1 to 10080, got "0"' },
    ],
    [
      { history: '10081' },
      { error: 'history must be an integer number of minutes from 1 to 10080, got "10081"' },
    ],
    [
      { history: '1.5' },
      { error: 'history must be an integer number of minutes from 1 to 10080, got "1.5"' },
    ],
    [
      { history: '' },
      { error: 'history must be an integer number of minutes from 1 to 10080, got ""' },
    ],
    [{ history: ['1', '2'] }, { error: 'history must be given once' }],
    [{ hist: '5' }, { error: 'unknown query parameter "hist" (known: history)' }],
  ])('query %j', (query, expected) => {
    expect(parseForecastQuery(query, 360)).toEqual(expected);
  });
});
