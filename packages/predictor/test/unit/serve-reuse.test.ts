/**
 * Reusing a fitted model after the history ring moved: the series is cut a whole number of
 * weeks after the fitted start, so calendar phases line up.
 */

import { forecast, forecastWith, sliceSeries } from '@tidewatch/forecast';
import { flightsHourly, head } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import { forecastFromFitted } from '../../src/serve/reuse.js';

const WEEK = 168;
const flights = head(flightsHourly(), WEEK * 6);
const fitted = forecast(head(flights, WEEK * 5), { horizon: 24, model: 'seasonal-profile' }).fitted;

describe('forecastFromFitted', () => {
  it('is forecastWith when the series starts where the model was fitted', () => {
    expect(forecastFromFitted(fitted, flights, 24)).toEqual(forecastWith(fitted, flights, 24));
  });

  it('after the ring dropped 5 points, cuts at the next week boundary of the fitted calendar', () => {
    const moved = sliceSeries(flights, 5);
    const aligned = sliceSeries(flights, WEEK);
    const expected = forecastWith({ ...fitted, startMs: aligned.startMs }, aligned, 24);
    const got = forecastFromFitted(fitted, moved, 24);
    expect(got).toEqual(expected);
    // The forecast continues right after the newest point.
    expect(got[0]?.timestamp).toBe(new Date(flights.startMs + WEEK * 6 * 3_600_000).toISOString());
  });

  it('skips leading gaps and an aligned point that is missing', () => {
    const values = Float64Array.from(flights.values);
    values.fill(Number.NaN, 0, 3);
    values[WEEK] = Number.NaN;
    const series = { ...flights, values };
    const aligned = sliceSeries(flights, 2 * WEEK);
    expect(forecastFromFitted(fitted, series, 12)).toEqual(
      forecastWith({ ...fitted, startMs: aligned.startMs }, aligned, 12),
    );
  });

  it('refuses another step, and a calendar that is not whole steps once the ring moved', () => {
    expect(() => forecastFromFitted(fitted, { ...flights, stepMs: 60_000 }, 24)).toThrow(
      'series step 60000 ms differs from the model',
    );
    const odd = { ...fitted, stepMs: 7000 };
    const series = { startMs: fitted.startMs + 7000, stepMs: 7000, values: flights.values };
    expect(() => forecastFromFitted(odd, series, 24)).toThrow(
      'the history moved and a day (12342.857142857143 steps) is not a whole number of steps: retrain needed',
    );
  });

  it('says so when too little history is left after the cut', () => {
    const short = sliceSeries(flights, WEEK * 6 - 10);
    expect(() => forecastFromFitted(fitted, short, 24)).toThrow(
      'too little history after aligning to the model calendar: retrain needed',
    );
  });

  it('refuses a cut that leaves fewer points than the model needs, even a few past a boundary', () => {
    // The newest 171 points start 3 steps before a week boundary: 168 points are left after
    // the cut, fewer than seasonal-profile's 2 weeks + 1 day.
    const fewAfterBoundary = sliceSeries(flights, WEEK * 5 - 3);
    expect(() => forecastFromFitted(fitted, fewAfterBoundary, 24)).toThrow(
      'too little history after aligning to the model calendar: retrain needed',
    );
  });
});
