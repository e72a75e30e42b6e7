/**
 * `@tidewatch/middleware/cluster`: one `/metrics` for many processes or threads.
 *
 * Workers (cluster workers, worker threads) expose their registry with
 * {@link exposeToPrimary} / {@link exposeToParent}; the primary (or the thread owner) serves
 * {@link clusterMetricsHandler} / {@link workerThreadsMetrics}, which asks every live worker
 * for its metrics over IPC, waits at most `timeoutMs`, and aggregates them per metric with
 * prom-client's own aggregators (each metric's `aggregator`: sum for tidewatch's counters,
 * histograms and connection gauges; max, min, average, first or omit where a metric says
 * so, e.g. prom-client's event-loop lag metrics).
 *
 * @packageDocumentation
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { DEFAULT_PREFIX } from '@tidewatch/conventions';
import type { Registry } from 'prom-client';
import type { AggregationErrorHook } from './cluster/aggregate.js';
import { type Channel, expose, registryOf } from './cluster/expose.js';
import { Gatherer, type GathererOptions } from './cluster/gatherer.js';
import { isTidewatchMessage } from './cluster/protocol.js';
import { serveAggregated } from './cluster/serve.js';
import { clusterSource, threadsSource } from './cluster/sources.js';
import type { MetricsAuth, MetricsRequestHandler } from './handler.js';
import {
  fail,
  noUnknownKeys,
  optFunction,
  optInt,
  optObject,
  optString,
} from './internal/validate.js';
import type { RealtimeMetrics } from './metrics.js';

export type { AggregationErrorHook };
export { isTidewatchMessage };

/** Options of {@link clusterAggregator} (and the aggregation part of the handlers). */
export interface ClusterAggregatorOptions {
  /**
   * How long to wait for the workers' answers, in milliseconds; a worker that has not
   * answered by then is served from its last good snapshot (`stale`). Keep it below your
   * Prometheus `scrape_timeout`. Integer from 1 to 300000. Default 2000.
   */
  timeoutMs?: number;
  /**
   * Prefix of the `<prefix>cluster_workers{state}` gauge the aggregate adds. Default
   * `realtime_`, matching `createRealtimeMetrics`.
   */
  prefix?: string;
  /**
   * Keep the counters and histograms of workers that exited (or lost their IPC channel)
   * in the totals, from their last snapshot. With `false` their share disappears, so the
   * cluster's counters fall and Prometheus reads a counter reset (`rate()` then counts the
   * whole remaining total as new). Gauges of exited workers are always dropped.
   * Default true.
   */
  keepExitedCounters?: boolean;
  /**
   * Called with every error caught on the aggregating side: a worker that could not be
   * asked (`send`), reported a failure (`worker`), sent a malformed answer (`decode`), or a
   * metric that could not be aggregated (`aggregate`). Also logged through the
   * OpenTelemetry `diag` logger. Never called for a worker that is merely slow.
   */
  onError?: AggregationErrorHook;
}

/** Options of {@link workerThreadsAggregator}. */
export interface WorkerThreadsAggregatorOptions extends ClusterAggregatorOptions {
  /**
   * The worker threads to aggregate, read at every scrape (e.g. `() => pool`). Threads
   * that have exited are skipped; each thread must call {@link exposeToParent}.
   */
  workers: () => Iterable<Worker>;
}

/** The `/metrics` options shared by both handlers (see `metricsHandler`). */
export interface AggregatedHandlerOptions {
  /**
   * Required credentials, checked before any worker is asked; without it the endpoint is
   * open. Same shape and behaviour as `metricsHandler`'s `auth`.
   */
  auth?: MetricsAuth;
  /** Serve OpenMetrics when the scraper's `Accept` asks for it. Default true. */
  openMetrics?: boolean;
}

/** Options of {@link clusterMetricsHandler}. */
export interface ClusterMetricsHandlerOptions
  extends ClusterAggregatorOptions,
    AggregatedHandlerOptions {}

/** Options of {@link workerThreadsMetrics}. */
export interface WorkerThreadsMetricsOptions
  extends WorkerThreadsAggregatorOptions,
    AggregatedHandlerOptions {}

/** Aggregates the metrics of several workers on demand. */
export interface WorkerMetricsAggregator {
  /**
   * Asks every live worker for its metrics and resolves, within `timeoutMs` plus the
   * aggregation itself, with a new prom-client `Registry` holding the aggregate and the
   * `<prefix>cluster_workers{state}` gauge. Never rejects. Serve it with
   * `metricsHandler(registry)` or `registry.metrics()`.
   */
  aggregate(): Promise<Registry>;
  /**
   * Stops listening to the workers, answers pending `aggregate()` calls with what it has,
   * and forgets every snapshot. Later calls aggregate nothing.
   */
  close(): void;
}

/**
 * A `(req, res)` `/metrics` handler for express and `node:http` that serves the
 * aggregate; also an aggregator (`aggregate()`, `close()`).
 */
export type AggregatedMetricsHandler = MetricsRequestHandler & WorkerMetricsAggregator;

const PREFIX_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const AGGREGATOR_KEYS = ['timeoutMs', 'prefix', 'keepExitedCounters', 'onError'] as const;
const HANDLER_KEYS = ['auth', 'openMetrics'] as const;

function gathererOptions(opts: Record<string, unknown>): GathererOptions {
  const keep = opts.keepExitedCounters;
  if (keep !== undefined && typeof keep !== 'boolean')
    fail('keepExitedCounters', 'a boolean', keep);
  return {
    timeoutMs: optInt('timeoutMs', opts.timeoutMs, 1, 300_000) ?? 2000,
    prefix: optString('prefix', opts.prefix, PREFIX_RE) ?? DEFAULT_PREFIX,
    keepExitedCounters: keep !== false,
    onError: optFunction<AggregationErrorHook>('onError', opts.onError),
  };
}

function workersOption(opts: Record<string, unknown>): () => Iterable<Worker> {
  const workers = optFunction<() => Iterable<Worker>>('workers', opts.workers);
  if (!workers) fail('workers', 'a function returning the Worker threads', opts.workers);
  return workers;
}

function asAggregator<K>(gatherer: Gatherer<K>): WorkerMetricsAggregator {
  return {
    aggregate: async () => (await gatherer.gather()).registry,
    close: () => gatherer.close(),
  };
}

function asHandler(
  aggregator: WorkerMetricsAggregator,
  opts: Record<string, unknown>,
): AggregatedMetricsHandler {
  const handler = serveAggregated(aggregator.aggregate, {
    auth: opts.auth as MetricsAuth | undefined,
    openMetrics: opts.openMetrics as boolean | undefined,
  });
  return Object.assign(handler, aggregator);
}

/**
 * Aggregates the metrics of this cluster primary's workers (each calling
 * {@link exposeToPrimary}). Requests go only to connected workers, tagged with an id;
 * answers to an earlier request are ignored, so nothing is counted twice. A worker that
 * does not answer within `timeoutMs` is served from its last good snapshot; one that
 * exits is dropped (its counters stay in the totals unless `keepExitedCounters: false`).
 *
 * Listens to `cluster` events from here on (no timer, nothing at import time); call
 * `close()` to stop. Uses the same IPC channel as your own messages: skip messages for
 * which {@link isTidewatchMessage} is true in your `cluster.on('message')` listeners.
 * Unlike prom-client's `AggregatorRegistry.clusterMetrics()`, one hung worker never fails
 * the scrape. Meant for the primary: a cluster worker has no workers of its own, so there
 * the aggregate holds only the gauge.
 *
 * @throws {TidewatchConfigError} for a bad option (`option` names it).
 */
export function clusterAggregator(options: ClusterAggregatorOptions = {}): WorkerMetricsAggregator {
  const opts = optObject('options', options) ?? {};
  noUnknownKeys('', opts, AGGREGATOR_KEYS);
  const gatherer = new Gatherer<number>(gathererOptions(opts));
  gatherer.attach(clusterSource(gatherer));
  return asAggregator(gatherer);
}

/**
 * A `/metrics` handler for the cluster primary: {@link clusterAggregator} served through
 * `metricsHandler` (same `auth`, `openMetrics`, 405 for other methods). Credentials are
 * checked before any worker is asked. Answers within `timeoutMs` (default 2000 ms) plus
 * rendering even when a worker hangs; `<prefix>cluster_workers{state}` says how many
 * workers answered (`responding`), were served from their last snapshot (`stale`) or
 * have never answered (`missing`).
 *
 * ```ts
 * if (cluster.isPrimary) {
 *   http.createServer(clusterMetricsHandler({ auth: { bearer: token } })).listen(9100);
 * } else {
 *   exposeToPrimary(metrics);
 * }
 * ```
 *
 * @throws {TidewatchConfigError} for a bad option, including an empty `auth` token.
 */
export function clusterMetricsHandler(
  options: ClusterMetricsHandlerOptions = {},
): AggregatedMetricsHandler {
  const opts = optObject('options', options) ?? {};
  noUnknownKeys('', opts, [...AGGREGATOR_KEYS, ...HANDLER_KEYS]);
  const gatherer = new Gatherer<number>(gathererOptions(opts));
  // Built before listening, so a bad `auth` throws without leaving cluster listeners.
  const handler = asHandler(asAggregator(gatherer), opts);
  gatherer.attach(clusterSource(gatherer));
  return handler;
}

/**
 * Aggregates the metrics of worker threads (each calling {@link exposeToParent}), with
 * the same guarantees as {@link clusterAggregator}. Listens to each listed thread's
 * `message` and `exit` events from its first scrape until it exits or `close()`.
 *
 * @throws {TidewatchConfigError} for a bad option (e.g. `workers` missing).
 */
export function workerThreadsAggregator(
  options: WorkerThreadsAggregatorOptions,
): WorkerMetricsAggregator {
  const opts = optObject('options', options) ?? {};
  noUnknownKeys('', opts, [...AGGREGATOR_KEYS, 'workers']);
  const workers = workersOption(opts);
  const gatherer = new Gatherer<Worker>(gathererOptions(opts));
  gatherer.attach(threadsSource(gatherer, workers));
  return asAggregator(gatherer);
}

/**
 * A `/metrics` handler that aggregates worker threads: {@link workerThreadsAggregator}
 * served like {@link clusterMetricsHandler}.
 *
 * ```ts
 * const pool = [new Worker(file), new Worker(file)]; // each calls exposeToParent(metrics)
 * app.get('/metrics', workerThreadsMetrics({ workers: () => pool }));
 * ```
 *
 * @throws {TidewatchConfigError} for a bad option, including an empty `auth` token.
 */
export function workerThreadsMetrics(
  options: WorkerThreadsMetricsOptions,
): AggregatedMetricsHandler {
  const opts = optObject('options', options) ?? {};
  noUnknownKeys('', opts, [...AGGREGATOR_KEYS, ...HANDLER_KEYS, 'workers']);
  const workers = workersOption(opts);
  const gatherer = new Gatherer<Worker>(gathererOptions(opts));
  const handler = asHandler(asAggregator(gatherer), opts);
  gatherer.attach(threadsSource(gatherer, workers));
  return handler;
}

/**
 * In a cluster worker (or any process forked with an IPC channel): answers the primary's
 * metrics requests with the registry of `source`. Each metric is collected on its own, so
 * a throwing or hanging collector costs only its own family (counted in
 * `scrape_errors_total{metric}` for tidewatch registries; the primary keeps that family's
 * last good values); the worker never crashes over it. Exposing the same registry again
 * returns the first undo; several registries are answered together.
 *
 * Adds one `process.on('message')` listener, which ignores every message but ours. In a
 * process without an IPC channel it does nothing, so the same code runs unclustered.
 *
 * @returns an undo that stops answering for this registry.
 * @throws {TidewatchConfigError} when `source` is neither `createRealtimeMetrics()`'s
 *   result nor a prom-client Registry.
 */
export function exposeToPrimary(source: RealtimeMetrics | Registry): () => void {
  const registry = registryOf(source);
  if (typeof process.send !== 'function') return () => {};
  const channel: Channel = {
    key: process,
    json: true,
    listen(onMessage) {
      process.on('message', onMessage);
      return () => {
        process.off('message', onMessage);
      };
    },
    send(message, onError) {
      // With a callback, a closed channel is reported here instead of as an `error`
      // event that would crash a worker without an error listener.
      process.send?.(message, undefined, undefined, (err: Error | null) => {
        if (err) onError(err);
      });
    },
  };
  return expose(channel, registry);
}

/**
 * In a worker thread: answers {@link workerThreadsMetrics} / {@link workerThreadsAggregator}
 * in the parent with the registry of `source`, with the same guarantees as
 * {@link exposeToPrimary}. In the main thread (`parentPort` is null) it does nothing.
 *
 * Like any `message` listener, ours keeps the port referenced, so a thread that should end
 * by itself must call the undo first.
 *
 * @param port where requests arrive; default `parentPort` of `node:worker_threads`.
 * @returns an undo that stops answering for this registry.
 * @throws {TidewatchConfigError} for a bad `source` or a `port` that is not a MessagePort.
 */
export function exposeToParent(
  source: RealtimeMetrics | Registry,
  port?: MessagePort | null,
): () => void {
  const registry = registryOf(source);
  const target =
    port === undefined ? process.getBuiltinModule('node:worker_threads').parentPort : port;
  if (target === null) return () => {};
  if (
    typeof target?.postMessage !== 'function' ||
    typeof target.on !== 'function' ||
    typeof target.off !== 'function'
  ) {
    fail('port', 'a MessagePort (or parentPort)', target);
  }
  const channel: Channel = {
    key: target,
    json: false,
    listen(onMessage) {
      target.on('message', onMessage);
      return () => {
        target.off('message', onMessage);
      };
    },
    send(message) {
      target.postMessage(message);
    },
  };
  return expose(channel, registry);
}
