import type { Internals, RequestClassifier } from '../metrics.js';
import { fail, noUnknownKeys, optInt, optObject, optString, optSyncFunction } from './validate.js';

// The option readers every adapter shares, so one option means one check and one error
// message everywhere. Each reader names the option it reads in the error it throws; an
// adapter calls them in the order it documents its options, which is the order errors are
// reported in when several options are wrong. Types only from metrics.ts: it imports these
// readers too, and a runtime import back would make a cycle.

/** `transport` label values: what Prometheus and OpenTelemetry both accept unquoted. */
export const TRANSPORT_RE = /^[a-z0-9_]{1,64}$/;

/** Default send-buffer size above which a connection counts as a slow consumer: 1 MiB. */
export const DEFAULT_SLOW_CONSUMER_BYTES = 1 << 20;

/**
 * An options object as a record (`undefined` gives `{}`): the adapter's `options`
 * argument, or a nested option object when `at` names it (`heartbeat`).
 * @throws {TidewatchConfigError} naming `at` (default `options`) when it is not an object,
 *   or naming the key (`at.key`) when it is not one of `known` (the message lists `known`
 *   in the order given).
 */
export function readOptions(
  options: unknown,
  known: readonly string[],
  at?: string,
): Record<string, unknown> {
  const opts = optObject(at ?? 'options', options) ?? {};
  noUnknownKeys(at ?? '', opts, known);
  return opts;
}

/**
 * The `endpoint` option: a fixed label value or a synchronous classifier of the request.
 * @param nonEmpty reject `''` (the HTTP middleware would otherwise report an empty label).
 * @throws {TidewatchConfigError} naming `endpoint` (also for an async function).
 */
export function endpointOption(
  value: unknown,
  nonEmpty = false,
): string | RequestClassifier | undefined {
  if (value !== undefined && typeof value !== 'string' && typeof value !== 'function') {
    fail('endpoint', 'a string or a function (req) => string', value);
  }
  if (nonEmpty && value === '') {
    fail('endpoint', 'a non-empty string or a function (req) => string', value);
  }
  if (typeof value === 'function') return optSyncFunction<RequestClassifier>('endpoint', value);
  return value as string | undefined;
}

/**
 * The `clientType` option, defaulting to the one given to `createRealtimeMetrics`.
 * @throws {TidewatchConfigError} naming `clientType` when it is not a synchronous function.
 */
export function clientTypeOption(
  value: unknown,
  internals: Internals,
): RequestClassifier | undefined {
  return optSyncFunction<RequestClassifier>('clientType', value) ?? internals.options.clientType;
}

/**
 * The `transport` label option.
 * @throws {TidewatchConfigError} naming `transport` unless it matches {@link TRANSPORT_RE}.
 */
export function transportOption(value: unknown, fallback: string): string {
  return optString('transport', value, TRANSPORT_RE) ?? fallback;
}

/**
 * The `slowConsumerBytes` option, in bytes; default {@link DEFAULT_SLOW_CONSUMER_BYTES}.
 * @throws {TidewatchConfigError} unless it is an integer >= 0.
 */
export function slowConsumerOption(value: unknown): number {
  return optInt('slowConsumerBytes', value, 0) ?? DEFAULT_SLOW_CONSUMER_BYTES;
}

/**
 * The `maxConnections` option (capacity for `capacity_utilization`); default unset.
 * @throws {TidewatchConfigError} unless it is an integer >= 1.
 */
export function maxConnectionsOption(value: unknown): number | undefined {
  return optInt('maxConnections', value, 1);
}

/** The label options of the HTTP middleware (`sse`, `longPoll`), validated. */
export interface LabelOptions {
  /** Undefined: the middleware falls back to the express route pattern. */
  readonly endpoint: string | RequestClassifier | undefined;
  readonly clientType: RequestClassifier | undefined;
  readonly transport: string;
}

/**
 * `endpoint` (non-empty), `clientType` and `transport`, in that order, with the metrics'
 * defaults for the first two.
 * @throws {TidewatchConfigError} naming the first bad one.
 */
export function labelOptions(
  opts: Record<string, unknown>,
  internals: Internals,
  defaultTransport: string,
): LabelOptions {
  return {
    endpoint: endpointOption(opts.endpoint, true) ?? internals.options.endpoint,
    clientType: clientTypeOption(opts.clientType, internals),
    transport: transportOption(opts.transport, defaultTransport),
  };
}
