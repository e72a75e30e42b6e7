import { describe, expect, it } from 'vitest';
import { OptionError } from '../../src/options.js';
import { createHpa } from '../../src/simulate/hpa.js';

/** Syncs every 15 s from `from` to `to` (inclusive) with one metric value; the replicas seen. */
function drive(hpa: ReturnType<typeof createHpa>, from: number, to: number, value: number) {
  const seen: number[] = [];
  for (let t = from; t <= to; t += 15) seen.push(hpa.sync(t, [value]));
  return seen;
}

describe('createHpa (Kubernetes defaults)', () => {
  it('does nothing within the 0.1 tolerance and scales to ceil(value / target) outside it', () => {
    const hpa = createHpa({ averageValue: 100, initialReplicas: 10 });
    expect(hpa.sync(0, [1050])).toBe(10); // ratio 1.05
    expect(hpa.sync(15, [1090])).toBe(10); // ratio 1.09
    // 1 - 1100/1000 is -0.10000000000000009 in float64, as in the controller: outside.
    expect(hpa.sync(30, [1100])).toBe(11);
    expect(hpa.sync(45, [1350])).toBe(14); // ceil(13.5)
  });

  it('scales up by max(+4 pods, +100 %) per 15 s', () => {
    const hpa = createHpa({ averageValue: 100, maxReplicas: 100 });
    expect(drive(hpa, 0, 90, 10_000)).toEqual([5, 10, 20, 40, 80, 100, 100]);
  });

  it('holds the highest recommendation of the last 300 s before scaling down', () => {
    const hpa = createHpa({ averageValue: 100, initialReplicas: 10 });
    expect(hpa.sync(0, [1000])).toBe(10);
    const after = drive(hpa, 15, 300, 100);
    expect(after.slice(0, -1).every((r) => r === 10)).toBe(true); // t = 15 .. 285
    expect(after.at(-1)).toBe(1); // t = 300: the recommendation of t = 0 has left the window
  });

  it('takes the highest proposal of several metrics and ignores missing ones', () => {
    const hpa = createHpa({ averageValue: 100, initialReplicas: 2 });
    expect(hpa.sync(0, [150, 420])).toBe(5);
    expect(hpa.sync(15, [Number.NaN, 480])).toBe(5); // ratio 0.96
    expect(hpa.sync(30, [Number.NaN])).toBe(5);
    expect(hpa.sync(45, [])).toBe(5);
  });

  it('honours custom policies: at most 1 pod down per 60 s, Min picks the smaller step', () => {
    const hpa = createHpa({
      averageValue: 100,
      initialReplicas: 6,
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Min',
        policies: [
          { type: 'Pods', value: 4, periodSeconds: 15 },
          { type: 'Percent', value: 10, periodSeconds: 15 },
        ],
      },
      scaleDown: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
      },
    });
    expect(hpa.sync(0, [2000])).toBe(7); // Min(6 + 4, ceil(6 x 1.1) = 7)
    expect(drive(hpa, 15, 135, 100)).toEqual([6, 6, 6, 6, 5, 5, 5, 5, 4]);
  });

  it.each([
    [{}, 'createHpa: averageValue must be a finite number > 0, got undefined'],
    [
      { averageValue: 1, minReplicas: 0 },
      'createHpa: minReplicas must be a positive integer, got 0',
    ],
    [
      {
        averageValue: 1,
        scaleDown: { stabilizationWindowSeconds: 4000, selectPolicy: 'Max', policies: [] },
      },
      'createHpa: scaleDown.stabilizationWindowSeconds must be at most 3600, got 4000',
    ],
    [
      {
        averageValue: 1,
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [{ type: 'Cpu', value: 1, periodSeconds: 15 }],
        },
      },
      'createHpa: scaleUp.policies[0].type must be "Pods" or "Percent", got "Cpu"',
    ],
  ])('rejects bad options naming the field %#', (options, message) => {
    expect(() => createHpa(options as never)).toThrow(OptionError);
    expect(() => createHpa(options as never)).toThrow(message);
  });
});
