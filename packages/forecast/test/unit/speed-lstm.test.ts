/**
 * The LSTM's bounded training (LstmOptions.maxWindows): a history with fewer windows than the
 * cap trains exactly as before; a longer one trains on its newest windows only.
 */
import { flightsHourly, head } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import { contextFor } from '../../src/models/context.js';
import { LSTM_TRAIN_WINDOWS, type LstmOptions } from '../../src/models/lstm.js';
import { createModels } from '../../src/models/registry.js';

const ctx = contextFor({ startMs: 0, stepMs: 3_600_000 }, 24);
// Five weeks of hourly flights: 140 blocks of 6 h, of which 104 end a whole training window
// (the first week and one window of context are not training targets).
const y = Float64Array.from(head(flightsHourly(), 24 * 35).values);
const WINDOWS = 104;

function fitted(lstm: LstmOptions): { state: unknown; forecast: number[] } {
  const [m] = createModels(['lstm'], { lstm: { iterations: 3, ...lstm } });
  if (!m) throw new Error('no lstm');
  m.fit(y, ctx);
  const { state } = m.toJSON().params as { state: unknown };
  return { state, forecast: Array.from(m.predict(y, 24, ctx)) };
}

describe('lstm maxWindows', () => {
  it('defaults to LSTM_TRAIN_WINDOWS', () => {
    const [m] = createModels(['lstm']);
    if (!m) throw new Error('no lstm');
    const { options } = m.toJSON().params as { options: LstmOptions };
    expect(options.maxWindows).toBe(LSTM_TRAIN_WINDOWS);
    expect(LSTM_TRAIN_WINDOWS).toBe(200);
  });

  it('changes nothing while the history has no more windows than the cap', () => {
    expect(fitted({ maxWindows: WINDOWS })).toEqual(fitted({ maxWindows: 1_000_000 }));
  });

  it('trains on fewer windows when the cap is below their number', () => {
    const all = fitted({ maxWindows: WINDOWS });
    const capped = fitted({ maxWindows: WINDOWS - 1 });
    expect((capped.state as { net: unknown }).net).not.toEqual((all.state as { net: unknown }).net);
  });
});
