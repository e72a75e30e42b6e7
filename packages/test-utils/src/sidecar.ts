/**
 * Settings for a predictor sidecar under test, as plain data in the shape of its config file
 * (this package imports no tidewatch package): the part every fast test sidecar shares.
 */

/**
 * A sidecar that works in seconds: 1 s steps (an hourly seed trace is laid one hour per
 * second, so it can forecast at once), a collection every second, a forecast every 2 s, a
 * 30-step horizon with the quick candidate models and the trace's daily/weekly seasons, and
 * staleness limits that the live test load, nothing like the replayed trace, does not trip
 * (staleness by error has its own tests). Spread it into a config and add `source`,
 * `listen`, `planner`, ... (or override a part: `staleness: { ...FAST_SIDECAR.staleness, ... }`).
 */
export const FAST_SIDECAR = {
  stepSeconds: 1,
  schedule: { collect: '* * * * * *', forecast: '*/2 * * * * *', retrain: '0 0 3 * * *' },
  forecast: {
    horizonSteps: 30,
    models: ['seasonal-naive-weekly', 'holt-winters', 'seasonal-profile'],
    season: { daySteps: 24, weekSteps: 168 },
  },
  staleness: {
    maxDataAgeSeconds: 3,
    maxForecastAgeSeconds: 10,
    maxRollingMase: 1e9,
    maxModelMase: 10,
  },
} as const;
