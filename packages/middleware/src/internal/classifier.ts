import type { IncomingMessage } from 'node:http';
import type { RequestClassifier } from '../metrics.js';
import { labelValue } from './family.js';
import type { Recorder } from './recorder.js';

// User classifiers (endpoint, client type, client id) run on every handshake, inside the
// host's request path: a bad one must cost a label value, never the request. Async ones are
// refused at construction (validate.ts); this is the runtime half, for functions that return
// a Promise or an object without being declared async (transpiled async, a callback mix-up).

/** Makes a thenable's rejection handled: unhandled, it would crash the host (Node >= 15). */
function settle(v: object): void {
  try {
    const then = (v as { then?: unknown }).then;
    if (typeof then === 'function') then.call(v, undefined, () => {});
  } catch {
    // A throwing `then` getter is the classifier's problem; it is counted by the caller.
  }
}

/**
 * A classifier's result as a label value. A string is bounded by `labelValue` (`''` gives
 * `fallback`); `undefined` and `null` give `fallback` ("no answer", as a missing header does).
 * Anything else (a Promise, an object, a number) is counted in
 * `instrumentation_errors_total{site}` and gives `fallback`: `String(promise)` would be the
 * label `[object Promise]`, one series for every connection.
 */
export function classifierResult(
  recorder: Recorder,
  v: unknown,
  site: string,
  fallback = 'unknown',
): string {
  if (typeof v === 'string' || v === undefined || v === null) return labelValue(v, fallback);
  if (typeof v === 'object' || typeof v === 'function') settle(v);
  const what = typeof v === 'object' ? (v.constructor?.name ?? 'an object') : typeof v;
  recorder.error(site, new TypeError(`classifier returned ${what}, not a string`));
  return fallback;
}

/**
 * Runs a label classifier guarded: a fixed string is returned as is; a classifier's result
 * goes through {@link classifierResult}; a throwing classifier is counted in
 * `instrumentation_errors_total{site}` and gives `unknown`.
 */
export function classify(
  recorder: Recorder,
  fn: string | RequestClassifier,
  req: IncomingMessage,
  site: string,
): string {
  if (typeof fn === 'string') return fn;
  let v: unknown;
  try {
    v = fn(req);
  } catch (err) {
    recorder.error(site, err);
    return 'unknown';
  }
  return classifierResult(recorder, v, site);
}

/** The `endpoint` and `client_type` labels of one adapter's requests, classified guarded. */
export class RequestLabels {
  readonly endpointOpt: string | RequestClassifier | undefined;
  readonly clientTypeOpt: RequestClassifier | undefined;
  private readonly recorder: Recorder;
  private readonly fallback: (req: IncomingMessage) => string;

  /** @param fallback the endpoint when `endpoint` is undefined. */
  constructor(
    recorder: Recorder,
    endpoint: string | RequestClassifier | undefined,
    clientType: RequestClassifier | undefined,
    fallback: (req: IncomingMessage) => string = () => 'default',
  ) {
    this.recorder = recorder;
    this.endpointOpt = endpoint;
    this.clientTypeOpt = clientType;
    this.fallback = fallback;
  }

  /** `endpoint`; a throwing or non-string classifier counts at `classifier.endpoint`. */
  endpoint(req: IncomingMessage): string {
    const fn = this.endpointOpt;
    return fn === undefined
      ? this.fallback(req)
      : classify(this.recorder, fn, req, 'classifier.endpoint');
  }

  /** `client_type` (`unknown` without a classifier); a bad one counts at `classifier.client_type`. */
  clientType(req: IncomingMessage): string {
    const fn = this.clientTypeOpt;
    return fn === undefined
      ? 'unknown'
      : classify(this.recorder, fn, req, 'classifier.client_type');
  }
}
