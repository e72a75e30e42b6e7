import {
  createNoopMeter,
  type Meter,
  type MeterProvider,
  type Observable,
  type ObservableResult,
  metrics as otelMetrics,
} from '@opentelemetry/api';
import type { MetricKey } from '@tidewatch/conventions';
import type { ValueSeries } from '../internal/family.js';
import type { Recorder } from '../internal/recorder.js';

const NoopMeter = createNoopMeter().constructor;

/** Meter name for tidewatch instruments (the instrumentation scope). */
export const METER_NAME = '@tidewatch/middleware';

/**
 * Creates the OpenTelemetry instruments for every catalogue metric. Counters and gauges
 * are observable and read the recorder at collection time (so both sinks report the same
 * totals); histograms are recorded when the event happens, with the catalogue's buckets
 * as explicit bucket advice. Returns an undo.
 */
export function attachOtel(
  recorder: Recorder,
  provider: MeterProvider | undefined,
  otelPrefix: string,
  version: string,
): () => void {
  const meter: Meter = (provider ?? otelMetrics.getMeterProvider()).getMeter(METER_NAME, version);
  // With no SDK installed every call is a no-op; skip per-message histogram records then,
  // so the default configuration costs nothing on the hot path.
  const real = !(meter instanceof NoopMeter);
  recorder.otelPerMessage = real;
  const observables: Array<[MetricKey, Observable]> = [];
  for (const [key, fam] of recorder.all()) {
    const spec = fam.spec;
    const name = otelPrefix + spec.otel;
    const opts = { description: spec.help, unit: spec.otelUnit };
    if (spec.type === 'histogram') {
      fam.otel = real
        ? meter.createHistogram(name, {
            ...opts,
            advice: { explicitBucketBoundaries: [...(spec.buckets ?? [])] },
          })
        : null;
    } else if (spec.type === 'counter') {
      observables.push([key, meter.createObservableCounter(name, opts)]);
    } else if (key === 'capacityUtilization') {
      observables.push([key, meter.createObservableGauge(name, opts)]);
    } else {
      observables.push([key, meter.createObservableUpDownCounter(name, opts)]);
    }
  }
  if (!real) return () => {};
  const callback = (result: { observe: (o: Observable, v: number, a?: object) => void }) => {
    try {
      recorder.collect();
      for (const [key, inst] of observables) {
        for (const s of recorder.family(key).series.values()) {
          result.observe(inst, (s as ValueSeries).value, s.attrs);
        }
      }
    } catch (err) {
      recorder.error('otel.collect', err);
    }
  };
  const insts = observables.map(([, o]) => o);
  meter.addBatchObservableCallback(callback as never, insts);
  return () => {
    meter.removeBatchObservableCallback(callback as never, insts);
    for (const [, fam] of recorder.all()) fam.otel = null;
    recorder.otelPerMessage = false;
  };
}

export type { ObservableResult };
