/**
 * The warming estimate's words: the time left before the first training, as `/forecast`,
 * `/readyz`, the stale reason, the log and the status page show it.
 */
import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  formatStep,
  warmingEstimate,
  withTimeLeft,
} from '../../src/serve/warming.js';

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [-5, '0 s'],
    [Number.NaN, '0 s'],
    [0.4, '0 s'],
    [1, '1 s'],
    [42, '42 s'],
    [60, '1 min'],
    [150, '2 min 30 s'],
    [3_600, '1 h'],
    [24_000, '6 h 40 min'],
    // The smaller unit is rounded, not cut: 6 h 39 min 50 s is about 6 h 40 min.
    [23_990, '6 h 40 min'],
    [23_950, '6 h 39 min'],
    // Rounding up into the next larger unit.
    [3_599, '59 min 59 s'],
    [7_170, '2 h'],
    [86_400, '1 d'],
    [86_400 * 3 + 7_200, '3 d 2 h'],
    [86_400 * 41 + 3_600 * 11, '41 d 11 h'],
  ])('%s s -> %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('formatStep', () => {
  it.each([
    [1, 'one point a second'],
    [60, 'one point a minute'],
    [3_600, 'one point an hour'],
    [86_400, 'one point a day'],
    [15, 'one point every 15 s'],
    [300, 'one point every 5 min'],
    [90, 'one point every 1 min 30 s'],
  ])('%s s -> %s', (step, text) => {
    expect(formatStep(step)).toBe(text);
  });
});

describe('warmingEstimate', () => {
  it("says the issue's example exactly: 400 points short at one a minute", () => {
    expect(warmingEstimate(20, 420, 60)).toEqual({
      pointsHeld: 20,
      pointsNeeded: 420,
      secondsLeft: 24_000,
      timeLeft: 'about 6 h 40 min at one point a minute',
    });
  });

  it('counts a fresh sidecar with no points at a 1 s step', () => {
    expect(warmingEstimate(0, 378, 1)).toEqual({
      pointsHeld: 0,
      pointsNeeded: 378,
      secondsLeft: 378,
      timeLeft: 'about 6 min 18 s at one point a second',
    });
  });

  it('never goes below zero once enough points are held', () => {
    expect(warmingEstimate(500, 420, 3_600)).toEqual({
      pointsHeld: 500,
      pointsNeeded: 420,
      secondsLeft: 0,
      timeLeft: 'about 0 s at one point an hour',
    });
  });

  it('adds the time left to the stale reason', () => {
    expect(
      withTimeLeft(
        'too little history: 20 points, need 420 to train',
        warmingEstimate(20, 420, 60),
      ),
    ).toBe(
      'too little history: 20 points, need 420 to train (about 6 h 40 min at one point a minute)',
    );
  });
});
