/**
 * Patch mode in the running sidecar: after every forecast, write the threshold in effect into
 * the HPA or ScaledObject (see `../patch/patcher.ts`). While the forecast is published that is the
 * planner's dynamic threshold; while it is stale or warming it is the static one (capacity x
 * target utilisation), so a stale forecast never leaves a lowered target behind: the cluster
 * falls back to purely reactive scaling, as with the two-trigger setup.
 */
import type { Patcher, PatcherOptions, PatchResult } from '../patch/patcher.js';
import type { ServeConfig } from './config.js';
import type { Decision } from './engine.js';
import type { Logger } from './log.js';

/** Which threshold was written: the planner's, or the static fallback. */
export type PatchMode = 'predicted' | 'reactive';

/** `/forecast`'s `patch` block (null when patch mode is off). */
export interface PatchJson {
  /** `scaledobjects.keda.sh realtime/realtime-server trigger actual-load`. */
  target: string;
  /** The threshold of the last apply and where it came from; null before the first. */
  mode: PatchMode | null;
  last: {
    at: string;
    status: PatchResult['status'];
    value: number;
    /** Failures: the step, HTTP status and message. */
    error?: string;
  } | null;
  patches: number;
  skips: number;
  failures: number;
}

/** The sidecar's patch loop. */
export interface PatchLoop {
  /** Applies the threshold `decision` implies. One at a time; never rejects. */
  tick(decision: Decision): Promise<void>;
  json(): PatchJson;
}

/** Options of {@link createPatchLoop}. */
export interface PatchLoopOptions {
  config: ServeConfig;
  log: Logger;
  /** Builds the patcher (tests pass a KubeConfig through it). */
  createPatcher: (options: PatcherOptions) => Patcher;
  /** Called with every result (the metrics layer counts them). */
  onResult?: (result: PatchResult, mode: PatchMode) => void;
  now?: () => number;
}

/**
 * Creates the loop for an enabled `config.patch`.
 * @throws TypeError from `createPatcher` when an option is invalid (the schema checks them first).
 */
export function createPatchLoop(options: PatchLoopOptions): PatchLoop {
  const { config, log } = options;
  const now = options.now ?? Date.now;
  const p = config.patch;
  const staticThreshold = config.planner.capacityPerReplica * config.planner.targetUtilization;
  const patcher = options.createPatcher({
    kind: p.kind,
    namespace: p.namespace as string,
    name: p.name as string,
    ...(p.triggerName !== undefined ? { triggerName: p.triggerName } : {}),
    hysteresis: p.hysteresis,
    timeoutMs: p.timeoutSeconds * 1000,
    fieldManager: p.fieldManager,
    // Bounded steps, a floor and a dead band around the planner's target x actual / load
    // (see patch/clamp.ts): the written threshold never amplifies low-load noise.
    staticThreshold,
  });
  let mode: PatchMode | null = null;
  let last: PatchJson['last'] = null;
  let running: Promise<void> | undefined;
  let lastLogged = '';

  async function apply(decision: Decision): Promise<void> {
    const t = decision.plan.threshold;
    const predicted = decision.status === 'ok' && t !== null && Number.isFinite(t) && t > 0;
    const nextMode: PatchMode = predicted ? 'predicted' : 'reactive';
    const value = predicted ? (t as number) : staticThreshold;
    const result = await patcher.apply(value);
    options.onResult?.(result, nextMode);
    last = {
      at: new Date(now()).toISOString(),
      status: result.status,
      value: result.value,
      ...(result.status === 'failed'
        ? {
            error: `${result.step}${result.httpStatus ? ` (HTTP ${result.httpStatus})` : ''}: ${result.message}`,
          }
        : {}),
    };
    // One log line per change of state, not one per minute of the same failure.
    const state = result.status === 'failed' ? `failed:${last.error}` : `ok:${nextMode}`;
    if (result.status === 'patched' || state !== lastLogged) {
      if (result.status === 'failed')
        log.log('warn', 'patch failed', { target: patcher.target, error: last.error });
      else if (result.status === 'patched')
        log.log('info', 'threshold patched', {
          target: patcher.target,
          mode: nextMode,
          value: result.value,
          previous: result.previous,
        });
      else if (nextMode !== mode)
        log.log('info', 'threshold unchanged (within hysteresis)', {
          target: patcher.target,
          mode: nextMode,
          current: result.current,
        });
    }
    lastLogged = state;
    mode = nextMode;
  }

  return {
    tick(decision) {
      // A tick that finds the previous apply still running (a slow API server) is dropped:
      // the next forecast brings a fresher value anyway.
      if (running !== undefined) return running;
      running = apply(decision)
        .catch((error: unknown) => log.log('error', 'patch loop failed', { error }))
        .finally(() => {
          running = undefined;
        });
      return running;
    },
    json() {
      const s = patcher.stats();
      return {
        target: patcher.target,
        mode,
        last,
        patches: s.patches,
        skips: s.skips,
        failures: s.failures,
      };
    },
  };
}
