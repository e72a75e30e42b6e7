import {
  CLOSE_REASONS,
  FORECAST_QUANTILES,
  HANDSHAKE_OUTCOMES,
  STALE_REASONS,
} from '@tidewatch/conventions';
import { describe, expect, it } from 'vitest';
import { matcher, signalMatcher, signalValue, signalValues } from '../../src/labels.js';

describe('closed label values of the middleware metrics', () => {
  it('writes matchers on a conventions set, and rejects values outside it', () => {
    expect(matcher('reason', CLOSE_REASONS, 'server_shutdown')).toBe('reason="server_shutdown"');
    expect(matcher('outcome', HANDSHAKE_OUTCOMES, 'rejected', 'error')).toBe(
      'outcome=~"rejected|error"',
    );
    // @ts-expect-error `timeout` is a heartbeat outcome, not a handshake outcome
    expect(() => matcher('outcome', HANDSHAKE_OUTCOMES, 'timeout')).toThrow(
      new RangeError('label outcome has no value "timeout"'),
    );
  });
});

describe('closed label values of the sidecar signals', () => {
  it('writes matchers from the catalogue values', () => {
    expect(signalMatcher('forecast', 'quantile', '0.9')).toBe('quantile="0.9"');
    expect(signalMatcher('forecastError', 'measure', 'mase', 'rolling_mase')).toBe(
      'measure=~"mase|rolling_mase"',
    );
    expect(signalValue('forecastStale', 'reason', 'data_old')).toBe('data_old');
    expect(signalValues('forecast', 'quantile', ...FORECAST_QUANTILES)).toEqual(['0.5', '0.9']);
    expect(signalValues('forecastStale', 'reason', ...STALE_REASONS)).toHaveLength(
      STALE_REASONS.length,
    );
  });

  it('rejects a value or label outside the catalogue, at compile time and at run time', () => {
    // @ts-expect-error 0.95 is not a quantile the sidecar publishes
    expect(() => signalValue('forecast', 'quantile', '0.95')).toThrow(
      new RangeError('tidewatch_forecast{quantile} has no value "0.95"'),
    );
    // @ts-expect-error `metric` is an open label: any value goes, so there is nothing to check
    expect(() => signalMatcher('forecast', 'metric', 'x')).toThrow(/has no value "x"/);
    // @ts-expect-error `reason` belongs to tidewatch_forecast_stale, not tidewatch_forecast
    expect(() => signalValue('forecast', 'reason', 'data_old')).toThrow(RangeError);
  });
});
