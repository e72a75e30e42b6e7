import { describe, expect, it } from 'vitest';
import { CATALOG, CLOSE_REASONS, METRIC_KEYS } from '../../src/index.js';

describe('catalogue invariants', () => {
  it('names say their unit and type', () => {
    for (const key of METRIC_KEYS) {
      const m = CATALOG[key];
      expect(m.name, key).toMatch(/^[a-z][a-z0-9_]*$/);
      if (m.type === 'counter') expect(m.name, key).toMatch(/_total$/);
      else expect(m.name, key).not.toMatch(/_total$/);
      if (m.unit === 'seconds') expect(m.name, key).toMatch(/_seconds(_total)?$/);
      if (m.unit === 'bytes') expect(m.name, key).toMatch(/_bytes(_total)?$/);
    }
  });

  it('histograms have ascending buckets; nothing else has buckets', () => {
    for (const key of METRIC_KEYS) {
      const m = CATALOG[key];
      if (m.type === 'histogram') {
        const b = (m as { buckets: number[] }).buckets;
        expect(b.length, key).toBeGreaterThan(3);
        for (let i = 1; i < b.length; i++) expect(b[i]!, key).toBeGreaterThan(b[i - 1]!);
      } else {
        expect('buckets' in m, key).toBe(false);
      }
    }
  });

  it('bucket ranges match the design (1 s..24 h, 0.5 ms..10 s, 64 B..16 MiB, 100 µs..10 s, 0.5 ms..30 s)', () => {
    const ends = (k: keyof typeof CATALOG) => {
      const b = (CATALOG[k] as { buckets: readonly number[] }).buckets;
      return [b[0], b[b.length - 1]];
    };
    expect(ends('connectionDuration')).toEqual([1, 86400]);
    expect(ends('handshakeDuration')).toEqual([0.0005, 10]);
    expect(ends('messageSize')).toEqual([64, 16 * 1024 * 1024]);
    expect(ends('pingRtt')).toEqual([0.0001, 10]);
    expect(ends('deliveryLag')).toEqual([0.0005, 30]);
  });

  it('labels are valid, unique per metric, never `le`; names and OTel names are unique', () => {
    const names = new Set<string>();
    const otel = new Set<string>();
    for (const key of METRIC_KEYS) {
      const m = CATALOG[key];
      const labels = m.labels.map((l) => l.name);
      expect(new Set(labels).size, key).toBe(labels.length);
      for (const l of labels) {
        expect(l).toMatch(/^[a-z_][a-z0-9_]*$/);
        expect(l).not.toBe('le');
      }
      expect(names.has(m.name), key).toBe(false);
      expect(otel.has(m.otel), key).toBe(false);
      names.add(m.name);
      otel.add(m.otel);
    }
  });

  it('close reasons are the normalised set from the design', () => {
    expect([...CLOSE_REASONS].sort()).toEqual(
      [
        'normal',
        'going_away',
        'ping_timeout',
        'idle_timeout',
        'protocol_error',
        'message_too_big',
        'slow_consumer',
        'auth',
        'server_shutdown',
        'abnormal',
        'error',
        'takeover',
        'cancelled',
        'deadline_exceeded',
        'unavailable',
        'resource_exhausted',
      ].sort(),
    );
  });
});
