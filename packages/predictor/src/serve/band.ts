/**
 * The live adaptive correction of the published p90 band (adaptive conformal inference,
 * Gibbs & Candes 2021, `adaptBand` of `@tidewatch/forecast`). Each forecast's p90 at the
 * planner's lead time is remembered until its actual arrives, and every actual is scored
 * against the p90 forecast for it one lead time earlier: that is the p90 scaling acted on
 * (the newest forecast's one-step-ahead p90 is narrower and would let the band drift narrow
 * at the lead that matters). The level the band is read at moves up after a miss and down
 * after a hit. The state belongs to one model: a new
 * model starts at the calibrated level, and it is saved in the model file so a restart keeps it.
 */
import {
  adaptBand,
  type BandAdaptation,
  createBandAdaptation,
  type ForecastPoint,
} from '@tidewatch/forecast';
import { ConfigError } from './config.js';

/** `forecast.bandAdaptation` of the config. */
export interface BandAdaptationSettings {
  /** Whether forecasts read the band at the adapted level. Default true. */
  enabled: boolean;
  /** Step of the level per scored actual, in (0, 0.1]. Default 0.005. */
  gamma: number;
}

/** `/forecast`'s `band`: the live p90 band. */
export interface BandJson {
  /** Whether the live correction is applied (`forecast.bandAdaptation.enabled`). */
  adaptive: boolean;
  /** Quantile level the p90 band is read at now (0.9: as calibrated by the backtest). */
  level: number;
  /**
   * Share of scored actuals at or below the p90 published for them, since the model was
   * trained (0..1); null before the first one. About 0.9 is calibrated.
   */
  liveCoverage90: number | null;
  /** Actuals scored. */
  points: number;
}

/** See {@link createLiveBand}. */
export interface LiveBand {
  /** The state to forecast with; `undefined` when the correction is off. */
  readonly adaptation: BandAdaptation | undefined;
  /** The state (kept and saved even while the correction is off, for the live coverage). */
  readonly state: BandAdaptation;
  /** Remembers the p90s of a forecast just published. */
  forecast(points: readonly ForecastPoint[]): void;
  /** Pairs the actual of the step at `timeMs` with the newest p90 for it (ignores non-finite values). */
  observe(timeMs: number, value: number): void;
  /** Scores the pairs observed since the last call (one `adaptBand`). @returns whether any were. */
  flush(): boolean;
  /** Starts over for a new model: at `saved` (its state from the model file) or fresh. */
  reset(saved?: BandAdaptation): void;
  json(): BandJson;
}

/**
 * Creates the live band of a sidecar with `settings` and the series' step; `leadSteps` is the
 * planner's lead time in steps (default 1), the lead each actual is scored at.
 * @throws ConfigError naming `forecast.bandAdaptation.gamma` when `createBandAdaptation`
 *   rejects it.
 */
export function createLiveBand(
  settings: BandAdaptationSettings,
  stepMs: number,
  saved?: BandAdaptation,
  leadSteps = 1,
): LiveBand {
  const fresh = (): BandAdaptation => {
    try {
      return createBandAdaptation({ gamma: settings.gamma });
    } catch (error) {
      throw new ConfigError([`config: forecast.bandAdaptation.${(error as Error).message}`]);
    }
  };
  // Built once up front so a bad gamma fails at construction, saved state or not.
  const initial = fresh();
  /** A saved state goes on at its level with the configured gamma (the config may have changed). */
  const from = (s: BandAdaptation | undefined): BandAdaptation =>
    usable(s) ? { ...(s as BandAdaptation), gamma: initial.gamma } : initial;
  let state = from(saved);
  // Step index -> the newest p90 published for it (bounded: older steps go as actuals arrive).
  let pending = new Map<number, number>();
  let p90s: number[] = [];
  let actuals: number[] = [];

  return {
    get adaptation() {
      return settings.enabled ? state : undefined;
    },
    get state() {
      return state;
    },
    forecast(points) {
      // The point one lead time ahead (the last one when the forecast is shorter).
      const p = points[Math.min(Math.max(1, leadSteps), points.length) - 1];
      if (p) pending.set(Math.round(Date.parse(p.timestamp) / stepMs), p.p90);
    },
    observe(timeMs, value) {
      if (!Number.isFinite(value)) return;
      const step = Math.round(timeMs / stepMs);
      const p90 = pending.get(step);
      for (const key of pending.keys()) if (key <= step) pending.delete(key);
      if (p90 === undefined || !Number.isFinite(p90)) return;
      p90s.push(p90);
      actuals.push(value);
    },
    flush() {
      if (p90s.length === 0) return false;
      state = adaptBand(state, p90s, actuals);
      p90s = [];
      actuals = [];
      return true;
    },
    reset(next) {
      state = from(next);
      pending = new Map();
      p90s = [];
      actuals = [];
    },
    json() {
      return {
        adaptive: settings.enabled,
        level: settings.enabled ? state.level : state.target,
        liveCoverage90: state.points > 0 ? state.covered / state.points : null,
        points: state.points,
      };
    },
  };
}

/** Whether a saved state can be used (model files of older sidecars have none). */
function usable(saved: BandAdaptation | undefined): boolean {
  return (
    saved !== undefined &&
    [saved.target, saved.gamma, saved.level, saved.points, saved.covered].every(Number.isFinite)
  );
}
