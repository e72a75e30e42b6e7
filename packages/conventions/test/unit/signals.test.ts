import { describe, expect, it } from 'vitest';
import {
  ACTUAL_EXTERNAL_METRIC,
  PREDICTED_EXTERNAL_METRIC,
  SIGNAL_KEYS,
  SIGNAL_PREFIX,
  SIGNALS,
  STALE_REASONS,
  signalLabelNames,
} from '../../src/index.js';

describe('signal catalogue invariants', () => {
  it('names carry the prefix, say their unit and type, and are unique', () => {
    const names = new Set<string>();
    for (const key of SIGNAL_KEYS) {
      const s = SIGNALS[key];
      expect(s.name, key).toMatch(new RegExp(`^${SIGNAL_PREFIX}[a-z][a-z0-9_]*$`));
      if (s.type === 'counter') expect(s.name, key).toMatch(/_total$/);
      else expect(s.name, key).not.toMatch(/_total$/);
      if (s.unit === 'seconds') expect(s.name, key).toMatch(/_seconds$/);
      expect(names.has(s.name), key).toBe(false);
      names.add(s.name);
    }
    expect(SIGNAL_KEYS).toHaveLength(25);
  });

  it('labels are valid and unique per signal', () => {
    for (const key of SIGNAL_KEYS) {
      const labels = signalLabelNames(key);
      expect(new Set(labels).size, key).toBe(labels.length);
      for (const l of labels) expect(l).toMatch(/^[a-z_][a-z0-9_]*$/);
    }
  });

  it('stale reasons are snake_case codes and the stale signal carries them', () => {
    for (const r of STALE_REASONS) expect(r).toMatch(/^[a-z][a-z_]*$/);
    const reason = SIGNALS.forecastStale.labels.find((l) => l.name === 'reason');
    expect(reason?.values).toBe(STALE_REASONS);
  });

  it('the predicted external metric is the predicted-load signal; the actual one is not a signal', () => {
    expect(PREDICTED_EXTERNAL_METRIC).toBe(SIGNALS.predictedLoad.name);
    expect(SIGNAL_KEYS.map((k) => SIGNALS[k].name)).not.toContain(ACTUAL_EXTERNAL_METRIC);
  });
});
