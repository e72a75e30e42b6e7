/**
 * What the model ConfigMap costs: every shipped model fitted on the flights fixture (its
 * whole 4,345 hourly points, the sidecar's default horizon of 60 steps), encoded as the leader
 * stores it. Each must fit a ConfigMap; the sizes are printed for docs/sidecar.md.
 */
import { forecast, MODEL_NAMES } from '@tidewatch/forecast';
import { flightsHourly } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, MAX_MODEL_BYTES } from '../../src/election/model-store.js';
import type { SavedModel } from '../../src/serve/model-file.js';

describe('model ConfigMap size', () => {
  it('every shipped model on the flights fixture fits a ConfigMap and round-trips', () => {
    const series = flightsHourly();
    const rows: string[] = [];
    for (const name of MODEL_NAMES) {
      const result = forecast(
        { startMs: series.startMs, stepMs: series.stepMs, values: series.values },
        {
          horizon: 60,
          model: name,
          season: { daySteps: 24, weekSteps: 168 },
          deadline: Date.now() + 60_000,
        },
      );
      const model: SavedModel = {
        metric: 'realtime_connections',
        stepMs: series.stepMs,
        trainedAtMs: 1_800_000_000_000,
        model: name,
        scores: { mase: 0.5, wape: 0.1, coverage90: 0.9 },
        maseScale: 12.5,
        fitted: result.fitted,
      };
      const encoded = encodeModel(model);
      rows.push(
        `${name}: ${encoded.jsonBytes} B JSON, ${encoded.bytes} B stored (${encoded.data ? 'data' : 'gzip'})`,
      );
      expect(encoded.bytes, name).toBeLessThanOrEqual(MAX_MODEL_BYTES);
      expect(decodeModel(encoded, name)).toEqual(JSON.parse(JSON.stringify(model)));
    }
    console.info(`model ConfigMap sizes on flights:\n${rows.join('\n')}`);
  }, 300_000);
});
