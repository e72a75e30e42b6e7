import { describe, expect, it } from 'vitest';
import { type ClampOptions, clampThreshold } from '../../src/patch/clamp.js';

const o: ClampOptions = {
  staticThreshold: 350,
  maxStepFraction: 0.2,
  floorFraction: 0.5,
  lowerMargin: 0.1,
};

describe('clampThreshold', () => {
  it('moves at most 20 % of the static threshold per write, in both directions', () => {
    expect(clampThreshold(200, 350, o)).toBe(280);
    expect(clampThreshold(200, 280, o)).toBe(210);
    expect(clampThreshold(200, 210, o)).toBe(200);
    expect(clampThreshold(350, 175, o)).toBe(245); // back towards static, bounded too
  });

  it('never goes below the floor: the gain load / actual is capped at 2', () => {
    // actual 5, load 300: the bare formula asks for 350 x 5 / 300 = 5.83.
    const noisy = (350 * 5) / 300;
    expect(clampThreshold(noisy, 175, o)).toBe(175);
    expect(clampThreshold(noisy, undefined, o)).toBe(175);
  });

  it('does not lower for a forecast within ~11 % of the actual load, never raises above static', () => {
    expect(clampThreshold(320, 350, o)).toBe(350); // load / actual = 1.09
    expect(clampThreshold(314, 350, o)).toBe(314); // 1.11: lowering starts
    expect(clampThreshold(500, 350, o)).toBe(350);
    expect(clampThreshold(320, 300, o)).toBe(350);
  });

  it('rounds to 0.001 (what a quantity holds)', () => {
    expect(clampThreshold(233.12345, undefined, { ...o, staticThreshold: 333 })).toBe(233.123);
  });
});
