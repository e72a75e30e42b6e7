/**
 * One simulation run as the CLI and the benchmark make it: a policy, the lead time the
 * planner would use, the rolling forecast for the predictive policy, and the HPA replay.
 */
import { intOption, numberOption, OptionError } from '../options.js';
import type { Series } from '../series.js';
import { type SimulationOptions, type SimulationResult, simulate } from './replay.js';
import { rollingPredictions } from './rolling.js';

const OWNER = 'runSimulation';

/** Scaling policies: `oracle` is the predictive policy fed the actual future (the bound). */
export type SimulationPolicy = 'reactive' | 'predictive' | 'oracle';

/** Options of {@link runSimulation}. */
export interface RunSimulationOptions extends Omit<SimulationOptions, 'scoreFrom'> {
  policy: SimulationPolicy;
  /** Forecasting model of the predictive policy. Default `seasonal-profile`. */
  model?: string;
  /**
   * How far ahead the prediction looks, seconds. Default metric lag + pod ready + the HPA
   * sync period: the time from a published value to a pod that serves.
   */
  leadSeconds?: number;
  /** Steps before scoring starts (history for the forecaster). Default 14 days. */
  warmupSteps?: number;
}

/** A simulation result with what produced it. */
export interface RunSimulationResult extends Omit<SimulationResult, 'policy'> {
  policy: SimulationPolicy;
  /** Lead time of the predicted peak, seconds (0 for reactive). */
  leadTimeSeconds: number;
  /** The forecasting model (null for reactive and oracle). */
  model: string | null;
  /** Model fits made by the rolling forecast (one per day). */
  forecastFits: number;
}

/**
 * Replays `demand` under one policy. The predictive policy publishes, at each step, what the
 * sidecar would: max(p50 peak, p90 peak x target utilisation) over the lead time, forecast
 * from the history up to that step only, with the model refitted daily.
 * @throws OptionError naming the field; Error when the trace is too short for the warm-up.
 */
export function runSimulation(demand: Series, options: RunSimulationOptions): RunSimulationResult {
  if (typeof options !== 'object' || options === null)
    throw new OptionError(OWNER, 'options', 'an object', options);
  const { policy, model, leadSeconds, warmupSteps, ...sim } = options;
  if (policy !== 'reactive' && policy !== 'predictive' && policy !== 'oracle')
    throw new OptionError(OWNER, 'policy', '"reactive", "predictive" or "oracle"', policy);
  const stepS = demand.stepMs / 1000;
  const day = Math.round(86_400 / stepS);
  const n = demand.values.length;
  const warmup = intOption(OWNER, 'warmupSteps', warmupSteps, { default: 14 * day, min: 0 });
  if (n < warmup + day)
    throw new Error(
      `too little history: ${n} points, need at least ${warmup + day} (${fmtDays(warmup * stepS)} of warm-up and a day to score)`,
    );
  if (policy === 'predictive' && warmup < 7 * day)
    throw new Error(
      `the predictive policy needs a warm-up of at least 7 days, got ${fmtDays(warmup * stepS)}`,
    );
  const syncS = sim.hpa?.syncPeriodSeconds ?? 15;
  const lead = numberOption(OWNER, 'leadSeconds', leadSeconds, {
    default: (sim.metricLagSeconds ?? 60) + (sim.podReadySeconds ?? 120) + syncS,
    min: 0,
    exclusive: true,
    unit: 'seconds',
  });
  const leadSteps = Math.max(1, Math.ceil(lead / stepS - 1e-9));
  const run = { ...sim, scoreFrom: warmup };
  if (policy === 'reactive') {
    return { ...simulate(demand, run), policy, leadTimeSeconds: 0, model: null, forecastFits: 0 };
  }
  if (policy === 'oracle') {
    const peak = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let m = 0;
      for (let k = 1; k <= leadSteps && i + k < n; k++)
        m = Math.max(m, Number(demand.values[i + k]));
      peak[i] = m;
    }
    return {
      ...simulate(demand, run, peak),
      policy,
      leadTimeSeconds: lead,
      model: null,
      forecastFits: 0,
    };
  }
  const name = model ?? 'seasonal-profile';
  const rolling = rollingPredictions(demand, {
    leadSteps,
    model: name,
    from: warmup,
    ...(sim.targetUtilization === undefined ? {} : { targetUtilization: sim.targetUtilization }),
  });
  return {
    ...simulate(demand, run, rolling.signal),
    policy,
    leadTimeSeconds: lead,
    model: name,
    forecastFits: rolling.fits,
  };
}

function fmtDays(seconds: number): string {
  const days = seconds / 86_400;
  return `${Number.isInteger(days) ? days : days.toFixed(2)} days`;
}
