/**
 * Retraining after forecasts with the current model fail. The first failure retrains at once
 * (a model that no longer fits the history is the usual cause, and a retrain fixes it); when
 * failures go on (a history too short or too broken for any model, e.g. after a corrupt
 * history file was moved aside) retraining backs off exponentially, so a sidecar does not
 * train, fail and log on every forecast tick. The same failure is logged once.
 */

/** The first retry waits max(1 min, this many steps); each further one twice as long. */
const BASE_STEPS = 10;
/** No wait is longer than max(1 h, this many steps). */
const CAP_STEPS = 60;

/**
 * The wait before the n-th retraining of one run of failures, ms: 0 for the first, then
 * max(60 s, 10 steps) doubling, capped at max(1 h, 60 steps).
 * @param n - Retrainings of this run of failures including the next one (>= 1).
 * @param stepMs - The collection step, ms.
 */
export function retrainDelayMs(n: number, stepMs: number): number {
  if (n <= 1) return 0;
  const base = Math.max(60_000, BASE_STEPS * stepMs);
  const cap = Math.max(3_600_000, CAP_STEPS * stepMs);
  return Math.min(cap, base * 2 ** Math.min(n - 2, 30));
}

/** What to do about one failed forecast. */
export interface FailureVerdict {
  /** Start a retraining now. */
  retrain: boolean;
  /** Log this failure (it differs from the last one logged). */
  log: boolean;
  /** Consecutive failures so far, this one included. */
  failures: number;
  /** Seconds until a failure may retrain again (0 when `retrain`). */
  retrainInSeconds: number;
}

/** See {@link createRetrainBackoff}. */
export interface RetrainBackoff {
  /** The current failure's message, while forecasts fail. */
  readonly failure: string | undefined;
  /**
   * Records a failed forecast.
   * @param message - Why it failed.
   * @param mayTrain - A training could start now (none runs and the history is long enough).
   */
  failed(message: string, mayTrain: boolean): FailureVerdict;
  /** Records a forecast that worked. @returns The failures it ends (0 when none). */
  succeeded(): number;
}

/**
 * Creates the backoff for a sidecar collecting every `stepMs`.
 * @throws TypeError when `stepMs` is not a number > 0.
 */
export function createRetrainBackoff(options: {
  stepMs: number;
  now?: () => number;
}): RetrainBackoff {
  const { stepMs } = options;
  if (typeof stepMs !== 'number' || !(stepMs > 0))
    throw new TypeError(`createRetrainBackoff: stepMs must be a number > 0, got ${String(stepMs)}`);
  const now = options.now ?? Date.now;
  let failure: string | undefined;
  let failures = 0;
  let retrains = 0;
  let nextAtMs = 0;
  let logged: string | undefined;
  return {
    get failure() {
      return failure;
    },
    failed(message, mayTrain) {
      failure = message;
      failures++;
      const t = now();
      const retrain = mayTrain && t >= nextAtMs;
      if (retrain) {
        retrains++;
        nextAtMs = t + retrainDelayMs(retrains + 1, stepMs);
      }
      const log = message !== logged;
      logged = message;
      return {
        retrain,
        log,
        failures,
        retrainInSeconds: retrain ? 0 : Math.max(0, Math.ceil((nextAtMs - t) / 1000)),
      };
    },
    succeeded() {
      const ended = failures;
      failure = undefined;
      failures = 0;
      retrains = 0;
      nextAtMs = 0;
      logged = undefined;
      return ended;
    },
  };
}
