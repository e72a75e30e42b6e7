/**
 * One simulation run as the CLI and the benchmark make it: a policy, the lead time the
 * planner would use, the rolling forecast for the predictive policy, and the HPA replay.
 */
import { createNowcaster } from '../nowcast/nowcast.js';
import type { NowcastOptions } from '../nowcast/options.js';
import { intOption, numberOption, OptionError } from '../options.js';
import type { Series } from '../series.js';
import { type SimulationOptions, type SimulationResult, simulate } from './replay.js';
import { rollingPredictions } from './rolling.js';
import { type StickyOptions, simulateSticky } from './sticky.js';

const OWNER = 'runSimulation';

/** Scaling policies: `oracle` is the predictive policy fed the actual future (the bound). */
export type SimulationPolicy = 'reactive' | 'predictive' | 'oracle';

/** How connections follow the pods: see {@link simulate} and {@link simulateSticky}. */
export type ConnectionModel = 'fluid' | 'sticky';

/**
 * Options of {@link runSimulation}. The {@link StickyOptions} (balancer, lifetimes, drain,
 * jitter, nodes, nowcaster, disruptions) apply to `connections: 'sticky'` only; a nowcaster
 * or disruptions with `fluid` is an error.
 */
export interface RunSimulationOptions extends Omit<SimulationOptions, 'scoreFrom'>, StickyOptions {
  policy: SimulationPolicy;
  /**
   * `fluid` (default): the load spreads evenly over the ready pods at every instant (today's
   * model, perfect rebalancing). `sticky`: connections stay on the pod that took them.
   */
  connections?: ConnectionModel;
  /** Forecasting model of the predictive policy. Default `seasonal-profile`. */
  model?: string;
  /**
   * How far ahead the prediction looks, seconds. Default metric lag + pod ready + the HPA
   * sync period: the time from a published value to a pod that serves.
   */
  leadSeconds?: number;
  /** Steps before scoring starts (history for the forecaster). Default 14 days. */
  warmupSteps?: number;
  /**
   * Sticky only: run the real nowcaster ({@link createNowcaster}) fed the simulator's lagged
   * leading signals, as the sidecar does (its answer is one more HPA metric: scale-up only).
   * `true` uses the nowcaster's defaults with `leadSeconds` = this run's lead time; an object
   * overrides any of its options. Excludes `nowcaster` (a caller's own instance). Default off.
   */
  nowcast?: boolean | Partial<NowcastOptions>;
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
  /** A nowcaster took part (the `nowcast` option or a caller's `nowcaster`). */
  nowcast: boolean;
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
  const {
    policy,
    model,
    leadSeconds,
    warmupSteps,
    connections = 'fluid',
    nowcast = false,
    ...sim
  } = options;
  if (policy !== 'reactive' && policy !== 'predictive' && policy !== 'oracle')
    throw new OptionError(OWNER, 'policy', '"reactive", "predictive" or "oracle"', policy);
  if (connections !== 'fluid' && connections !== 'sticky')
    throw new OptionError(OWNER, 'connections', '"fluid" or "sticky"', connections);
  if (nowcast !== false && sim.nowcaster !== undefined)
    throw new OptionError(OWNER, 'nowcast', 'unset when a nowcaster is given', nowcast);
  if (nowcast !== false && nowcast !== true && (typeof nowcast !== 'object' || nowcast === null))
    throw new OptionError(OWNER, 'nowcast', 'a boolean or nowcaster options', nowcast);
  if (
    connections === 'fluid' &&
    (sim.nowcaster !== undefined || nowcast !== false || sim.disruptions?.length)
  )
    throw new OptionError(
      OWNER,
      'connections',
      '"sticky" with a nowcaster or disruptions',
      connections,
    );
  const replay = connections === 'sticky' ? simulateSticky : simulate;
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
  if (nowcast !== false)
    run.nowcaster = createNowcaster({ leadSeconds: lead, ...(nowcast === true ? {} : nowcast) });
  const withNowcast = run.nowcaster !== undefined;
  if (policy === 'reactive') {
    return {
      ...replay(demand, run),
      policy,
      leadTimeSeconds: 0,
      model: null,
      forecastFits: 0,
      nowcast: withNowcast,
    };
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
      ...replay(demand, run, peak),
      policy,
      leadTimeSeconds: lead,
      model: null,
      forecastFits: 0,
      nowcast: withNowcast,
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
    ...replay(demand, run, rolling.signal),
    policy,
    leadTimeSeconds: lead,
    model: name,
    forecastFits: rolling.fits,
    nowcast: withNowcast,
  };
}

function fmtDays(seconds: number): string {
  const days = seconds / 86_400;
  return `${Number.isInteger(days) ? days : days.toFixed(2)} days`;
}
