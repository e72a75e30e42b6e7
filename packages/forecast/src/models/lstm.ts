import { createRequire } from 'node:module';
import { holdoutMae } from './holdout.js';
import {
  cachedProfile,
  type ProfileParams,
  periodSteps,
  profileForecast,
  seasonalProfileModel,
} from './seasonal.js';
import type { Model, ModelContext, ModelJSON } from './types.js';

/** Options for {@link lstmModel}. */
export interface LstmOptions {
  /** Hidden units of the single LSTM layer. Default 8. */
  hidden?: number;
  /**
   * Training iterations (epochs over the windows). Default 40: with 200 windows, 40 scored
   * as well as 60 or better on every series tried (flights hourly, ORD, ATL, DFW) at two
   * thirds of the cost.
   */
  iterations?: number;
  /** Default 0.01. */
  learningRate?: number;
  /** Training stops after this many ms (on top of any context deadline). Default 45,000. */
  timeBudgetMs?: number;
  /** Seed for the weight initialisation (brain.js uses Math.random). Default 1. */
  seed?: number;
  /**
   * Most training windows the network trains on: the newest, one per block (for hourly data
   * at a 24-step horizon 200 windows span the last 50 days). Bounds the fit's cost, which
   * otherwise grows with the history. Default {@link LSTM_TRAIN_WINDOWS}.
   */
  maxWindows?: number;
}

/**
 * Default {@link LstmOptions.maxWindows}. Training cost is windows x iterations, so without
 * a cap it grew with the history: 200 caps a fit on 4,345 hourly points (688 windows) at the
 * cost of about 1,400 points, and left the backtest MASE on the flights, ORD, ATL and DFW series
 * equal or lower.
 */
export const LSTM_TRAIN_WINDOWS = 200;

interface LstmState {
  profile: ProfileParams;
  /** Steps per block whose level ratio the network forecasts. */
  block: number;
  /** Blocks of context the network reads. */
  window: number;
  /** Log ratios are divided by this (4 x their standard deviation) before entering the net. */
  spread: number;
  /**
   * How much of the network's correction is applied (0..1), chosen on the holdout: the
   * network's ratio forecasts are noisy, and a shrunk correction keeps what it gets right.
   */
  gain: number;
  net: unknown;
}

// brain.js is CommonJS and heavy: loaded on first fit, never at import time. It is an
// optional peer dependency: its required peer gpu.js depends on `webgpu`, whose prebuilt
// binaries for four platforms weigh 84 MB although gpu.js never loads them in Node (the LSTM
// runs on the CPU), so a user of the other models does not carry it.
type Brain = typeof import('brain.js');
let brain: Brain | undefined;

/** The command that installs what the LSTM needs (brain.js's `latest` tag is the old 1.x). */
export const LSTM_INSTALL = 'npm install brain.js@2.0.0-beta.24 gpu.js@^2.24.1';

/**
 * Whether the `lstm` model can run here: brain.js and its peer gpu.js resolve from this
 * package (optional peer dependencies). Resolves paths only; loads nothing.
 */
export function lstmAvailable(): boolean {
  try {
    const brainPath = createRequire(import.meta.url).resolve('brain.js');
    createRequire(brainPath).resolve('gpu.js');
    return true;
  } catch {
    return false;
  }
}

/** The error for an LSTM asked for without brain.js installed (`cause`: the failed require). */
export function lstmMissingError(cause?: unknown): Error {
  return new Error(
    `the lstm model needs the optional peer dependencies brain.js and gpu.js: ${LSTM_INSTALL}`,
    cause === undefined ? undefined : { cause },
  );
}

function loadBrain(): Brain {
  if (brain) return brain;
  try {
    brain = createRequire(import.meta.url)('brain.js') as Brain;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw lstmMissingError(error);
  }
  return brain;
}

/** log(actual / profile) is clipped to +-CLIP and mapped to [0, 1] for the network. */
const CLIP = 1.5;
const FEATURES = 5;
const GAINS = [1, 0.75, 0.5, 0.25, 0];
/** Thrown from the training callback to end training at the time budget. */
const OUT_OF_TIME = Symbol('lstm training out of time');

/**
 * A brain.js `recurrent.LSTMTimeStep` that learns the *residual* of the seasonal profile
 * rather than raw counts (raw counts lose to seasonal naive, MASE 1.49 on flights): the
 * series is cut into blocks, each block's log ratio actual / profile becomes one step of a
 * normalised sequence with calendar features (time of day, day of week, as sin/cos), and the
 * network forecasts the next blocks' ratios. The forecast is the profile times that ratio.
 */
export function lstmModel(options: LstmOptions = {}, restored?: LstmState): Model {
  let state: LstmState | undefined = restored;
  let net: InstanceType<Brain['recurrent']['LSTMTimeStep']> | undefined;
  const opts = {
    hidden: options.hidden ?? 8,
    iterations: options.iterations ?? 40,
    learningRate: options.learningRate ?? 0.01,
    timeBudgetMs: options.timeBudgetMs ?? 45_000,
    seed: options.seed ?? 1,
    maxWindows: options.maxWindows ?? LSTM_TRAIN_WINDOWS,
  };
  const network = () => {
    if (!net && state) {
      const { recurrent } = loadBrain();
      net = new recurrent.LSTMTimeStep().fromJSON(state.net as never);
    }
    if (!net) throw new Error('lstm: predict() before fit()');
    return net;
  };
  const model: Model = {
    name: 'lstm',
    expensive: true,
    minHistory: (ctx) => Math.round(ctx.weekSteps) * 2 + Math.round(ctx.daySteps),
    fit(y, ctx) {
      const profileModel = seasonalProfileModel();
      profileModel.fit(y, ctx);
      const profile = (profileModel.toJSON().params as ProfileParams) ?? {
        period: 'week',
        seasons: 4,
        smooth: 1,
        levelWeight: 0,
      };
      const block = Math.max(1, Math.round(Math.min(ctx.horizon, ctx.daySteps / 4)));
      const window = Math.min(48, Math.max(4, Math.ceil((2 * ctx.daySteps) / block)));
      const ratios = blockRatios(y, ctx, profile, block);
      const firstBlock = Math.ceil(Math.round(ctx.weekSteps) / block);
      const spread = spreadOf(ratios.subarray(firstBlock));
      const sequences: number[][][] = [];
      for (
        let end = ratios.length;
        end - window - 1 >= firstBlock && sequences.length < opts.maxWindows;
        end--
      ) {
        const seq: number[][] = [];
        for (let b = end - window - 1; b < end; b++)
          seq.push(features(ratios[b] as number, spread, b * block, ctx));
        sequences.push(seq);
      }
      const { recurrent } = loadBrain();
      const fresh = withSeed(
        opts.seed,
        () =>
          new recurrent.LSTMTimeStep({
            inputSize: FEATURES,
            hiddenLayers: [opts.hidden],
            outputSize: FEATURES,
          }),
      );
      if (sequences.length > 0) {
        const started = Date.now();
        const stopAt = Math.min(
          started + opts.timeBudgetMs,
          ctx.deadline ?? Number.POSITIVE_INFINITY,
        );
        // RNNTimeStep.train ignores its `timeout` option: stop from the per-iteration
        // callback instead. It runs after the iteration's weight update, so the network is
        // consistent when we leave.
        try {
          withSeed(opts.seed, () =>
            fresh.train(sequences, {
              iterations: opts.iterations,
              learningRate: opts.learningRate,
              errorThresh: 1e-5,
              callbackPeriod: 1,
              callback: (s: { iterations: number; error: number }) => {
                // brain.js counts from 0 before the iteration's update; report iterations done.
                ctx.onProgress?.({
                  model: 'lstm',
                  iterations: s.iterations + 1,
                  total: opts.iterations,
                  error: s.error,
                });
                if (Date.now() >= stopAt) throw OUT_OF_TIME;
              },
            }),
          );
        } catch (err) {
          if (err !== OUT_OF_TIME) throw err;
        }
      }
      net = fresh;
      state = { profile, block, window, spread, gain: 1, net: fresh.toJSON() };
      const current = state;
      let best = Number.POSITIVE_INFINITY;
      let gain = 1;
      for (const g of GAINS) {
        current.gain = g;
        const err = holdoutMae(y, ctx, (hist, hh) => model.predict(hist, hh, ctx));
        if (err < best - 1e-12) {
          best = err;
          gain = g;
        }
      }
      current.gain = gain;
    },
    predict(y, h, ctx) {
      const s = state;
      const n = network();
      if (!s) throw new Error('lstm: predict() before fit()');
      // The partial block at the end is not a ratio yet: forecast from whole blocks only.
      const whole = Math.floor(y.length / s.block);
      const ratios = blockRatios(y, ctx, s.profile, s.block, whole - s.window);
      const seq: number[][] = [];
      for (let b = Math.max(0, whole - s.window); b < whole; b++)
        seq.push(features(ratios[b] as number, s.spread, b * s.block, ctx));
      const blocksAhead = Math.ceil((y.length + h) / s.block) - whole;
      const ahead: number[] = [];
      for (let k = 0; k < blocksAhead; k++) {
        const out = n.run(seq) as unknown as ArrayLike<number>;
        const lr = Math.max(-CLIP, Math.min(CLIP, (((out[0] as number) ?? 0.5) - 0.5) * s.spread));
        ahead.push(lr);
        seq.push(features(lr, s.spread, (whole + k) * s.block, ctx));
        if (seq.length > s.window) seq.shift();
      }
      const base = profileForecast(y, h, ctx, s.profile);
      const f = new Float64Array(h);
      for (let k = 0; k < h; k++) {
        const lr = ahead[Math.floor((y.length + k) / s.block) - whole] ?? 0;
        f[k] = (base[k] as number) * Math.exp(s.gain * lr);
      }
      return f;
    },
    toJSON: () => ({ kind: 'lstm', name: 'lstm', params: { options: opts, state } }),
  };
  return model;
}

/**
 * Per whole block of `y`: log(actual / what the seasonal profile forecast for the block from
 * its start), clipped; NaN for the first season. The network learns when the profile's
 * level guess persists and when it does not.
 */
function blockRatios(
  y: Float64Array,
  ctx: ModelContext,
  p: ProfileParams,
  block: number,
  from = 0,
): Float64Array {
  const count = Math.floor(y.length / block);
  const out = new Float64Array(count).fill(Number.NaN);
  const first = Math.max(from, Math.ceil(Math.round(ctx.weekSteps) / block));
  if (first >= count) return out;
  // Each block's forecast re-reads the profile over the level window before it: memoise it.
  const at = cachedProfile(y, periodSteps(ctx, p), p);
  for (let b = first; b < count; b++) {
    const expectedF = profileForecast(y, block, ctx, p, b * block, at);
    let actual = 0;
    let expected = 0;
    for (let k = 0; k < block; k++) {
      actual += y[b * block + k] as number;
      expected += expectedF[k] as number;
    }
    const eps = 1e-6 + 0.01 * (expected / block);
    out[b] = Math.max(-CLIP, Math.min(CLIP, Math.log((actual + eps) / (expected + eps))));
  }
  return out;
}

/**
 * Four standard deviations of the finite log ratios: the network sees ratios spread over
 * most of [0, 1] (mapped against the fixed clip they would be a sliver around 0.5, and the
 * net's bias alone would be a 10 % level error).
 */
function spreadOf(ratios: Float64Array): number {
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (const v of ratios) {
    if (!Number.isFinite(v)) continue;
    s += v;
    s2 += v * v;
    n++;
  }
  const sd = n > 1 ? Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2)) : 0;
  return sd > 1e-6 ? 4 * sd : 1;
}

/** One network step: the scaled ratio and the block's calendar position, within [0, 1]. */
function features(logRatio: number, spread: number, t: number, ctx: ModelContext): number[] {
  const lr = Number.isFinite(logRatio) ? logRatio : 0;
  const tod = (2 * Math.PI * (t % ctx.daySteps)) / ctx.daySteps;
  const dow = (2 * Math.PI * (t % ctx.weekSteps)) / ctx.weekSteps;
  return [
    Math.max(0, Math.min(1, 0.5 + lr / spread)),
    0.5 + 0.4 * Math.sin(tod),
    0.5 + 0.4 * Math.cos(tod),
    0.5 + 0.4 * Math.sin(dow),
    0.5 + 0.4 * Math.cos(dow),
  ];
}

/**
 * Runs `fn` with Math.random replaced by a seeded generator (mulberry32), so training is
 * reproducible: brain.js draws its initial weights from Math.random.
 */
function withSeed<T>(seed: number, fn: () => T): T {
  const original = Math.random;
  let a = seed >>> 0;
  Math.random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}

/** Rebuilds a trained LSTM model; forecasts are identical to the original's. */
export function loadLstm(json: ModelJSON): Model {
  const { options, state } = json.params as { options: LstmOptions; state: LstmState };
  return lstmModel(options, state);
}
