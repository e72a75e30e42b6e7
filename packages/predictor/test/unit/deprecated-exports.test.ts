/**
 * What @tidewatch/predictor exported before the forecasting library and the manifest
 * generator moved out still imports from it: the same objects as their new homes.
 */
import * as forecast from '@tidewatch/forecast';
import * as deploy from '@tidewatch/mixin/deploy';
import { describe, expect, it } from 'vitest';
import * as predictor from '../../src/index.js';

/** Every value export of the package's index before the split (types are checked by tsc). */
const BEFORE = `ACTUAL_EXTERNAL_METRIC ACTUAL_TRIGGER BASELINES ConfigError DEFAULT_DEPLOY_CONFIG
DEFAULT_SCALE_DOWN DEFAULT_SCALE_UP DeployConfigError ENV_VARS HistoryError MODEL_NAMES
OptionError PLACEHOLDER_CAPACITY PREDICTED_EXTERNAL_METRIC PREDICTED_TRIGGER
PROMETHEUS_MAX_POINTS SourceError WorkerTimeoutError backoffDelay backtest cleanValues
contextFor counterRates createAccuracyTracker createCounterRate createFileSource
createHistoryStore createHpa createJsonLogger createModels createPatcher createPlanner
createPrometheusSource createScraper createSidecar deployConfig deployFiles envOverrides
fitBand flagOverrides forecast forecastWith generateDeployFiles holtWintersModel
loadHistoryStore loadModel loadServeConfig lstmModel naiveModel parseSeriesCsv
parseServeConfig peakOver pickMetric pinball renderDeployFile rollingPredictions runInWorker
runSimulation seasonalMae seasonalNaiveModel seasonalProfileModel silentLogger simulate
sliceSeries statusPageRouter targetPerReplica timeAt upper withRetry`.split(/\s+/);

describe('the old entry point keeps working', () => {
  it('exports every value it exported before the split', () => {
    const missing = BEFORE.filter((name) => !(name in predictor));
    expect(missing).toEqual([]);
  });

  it('moved names are the very objects of their new homes', () => {
    const p = predictor as Record<string, unknown>;
    const f = forecast as Record<string, unknown>;
    const d = deploy as Record<string, unknown>;
    // The sidecar's own ConfigError never moved (the mixin has another of that name).
    for (const name of BEFORE.filter((n) => n !== 'ConfigError')) {
      if (name in f) expect(p[name], name).toBe(f[name]);
      else if (name in d) expect(p[name], name).toBe(d[name]);
    }
    expect(BEFORE.filter((n) => n in f).length).toBeGreaterThan(40);
    expect(BEFORE.filter((n) => n in d && n !== 'ConfigError')).toEqual([
      'ACTUAL_EXTERNAL_METRIC',
      'ACTUAL_TRIGGER',
      'DEFAULT_DEPLOY_CONFIG',
      'DeployConfigError',
      'PREDICTED_EXTERNAL_METRIC',
      'PREDICTED_TRIGGER',
      'deployConfig',
      'deployFiles',
      'generateDeployFiles',
      'renderDeployFile',
      'targetPerReplica',
    ]);
  });
});
