import type { IncomingMessage } from 'node:http';
import { ErrorCodes, TidewatchConfigError } from '../errors.js';
import type { RealtimeMetrics, RequestClassifier } from '../metrics.js';
import { labelValue } from './family.js';
import type { Recorder } from './recorder.js';

/** What an adapter leaves on the object it instruments, so a second attach is harmless. */
export interface Attachment {
  metrics: RealtimeMetrics;
  detach: () => void;
}

/**
 * The detach of an earlier attachment of the same metrics to `target` (attaching twice
 * returns it), or undefined when `target` is not instrumented yet.
 * @throws {TidewatchConfigError} `TW_ERR_ALREADY_INSTRUMENTED` when other metrics hold it.
 */
export function priorAttachment(
  target: object,
  key: symbol,
  metrics: RealtimeMetrics,
  option: string,
): (() => void) | undefined {
  const prior = (target as Record<symbol, Attachment | undefined>)[key];
  if (!prior) return undefined;
  if (prior.metrics === metrics) return prior.detach;
  throw new TidewatchConfigError(
    option,
    'is already instrumented by another metrics instance; detach it first',
    ErrorCodes.ALREADY_INSTRUMENTED,
  );
}

/**
 * Runs a label classifier guarded: a throwing classifier is counted at `site` and gives
 * `unknown`; a fixed string is returned as is; results are bounded by `labelValue`.
 */
export function classifierFor(recorder: Recorder) {
  return (fn: string | RequestClassifier, req: IncomingMessage, site: string): string => {
    if (typeof fn === 'string') return fn;
    try {
      return labelValue(fn(req));
    } catch (err) {
      recorder.error(site, err);
      return 'unknown';
    }
  };
}
