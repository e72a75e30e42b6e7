import { Registry } from 'prom-client';
import { fail } from '../internal/validate.js';
import { internalsOf, type RealtimeMetrics } from '../metrics.js';
import {
  encodeNonFinite,
  isRequest,
  type MetricsRequest,
  type MetricsResponse,
  RESPONSE,
} from './protocol.js';
import { snapshot } from './snapshot.js';

/** Where requests arrive and answers go: the process IPC channel or a MessagePort. */
export interface Channel {
  /** Identity of the channel (the `process` object or the port). */
  readonly key: object;
  listen(onMessage: (message: unknown) => void): () => void;
  /** Must never throw into the caller's event loop as an `error` event. */
  send(message: MetricsResponse, onError: (err: unknown) => void): void;
  /** JSON channels lose NaN and infinities; structured clone keeps them. */
  readonly json: boolean;
}

interface Exposure {
  /** Each exposed registry with the undo handed out for it. */
  readonly registries: Map<Registry, () => void>;
  readonly stop: () => void;
}

// Shared through the global object so two copies of this package (ESM and CJS builds) in
// one process answer once per request, with every registry, instead of racing each other.
const kExposures = Symbol.for('tidewatch.cluster.exposures');

function exposures(): WeakMap<object, Exposure> {
  const g = globalThis as { [kExposures]?: WeakMap<object, Exposure> };
  g[kExposures] ??= new WeakMap();
  return g[kExposures];
}

const MAX_BUDGET_MS = 60_000;
const DEFAULT_BUDGET_MS = 1000;

/**
 * The registry of `source`.
 * @throws {TidewatchConfigError} when `source` is neither metrics nor a registry.
 */
export function registryOf(source: unknown, option = 'source'): Registry {
  if (
    source instanceof Registry ||
    (typeof (source as Registry | null)?.getMetricsAsArray === 'function' &&
      typeof (source as Registry).getMetricsAsJSON === 'function')
  ) {
    return source as Registry;
  }
  if (typeof source !== 'object' || source === null) {
    fail(
      option,
      'the object returned by createRealtimeMetrics() or a prom-client Registry',
      source,
    );
  }
  internalsOf(source as RealtimeMetrics, option);
  return (source as RealtimeMetrics).registry;
}

async function answer(exposure: Exposure, request: MetricsRequest, channel: Channel) {
  const budget = request.budgetMs;
  const budgetMs =
    typeof budget === 'number' && Number.isFinite(budget)
      ? Math.min(MAX_BUDGET_MS, Math.max(1, Math.floor(budget)))
      : DEFAULT_BUDGET_MS;
  const reportFailure = (err: unknown) => {
    // Last resort: the answer itself could not be sent (unserialisable value, channel
    // gone). Try a bare error answer so the aggregator can log why; give up silently if
    // even that fails — the aggregator then uses this worker's last good snapshot.
    try {
      channel.send({ type: RESPONSE, id: request.id, metrics: [], error: String(err) }, () => {});
    } catch {}
  };
  try {
    const snap = await snapshot(exposure.registries.keys(), budgetMs);
    const response: MetricsResponse = {
      type: RESPONSE,
      id: request.id,
      metrics: channel.json ? encodeNonFinite(snap.metrics) : snap.metrics,
      ...(snap.failed.length > 0 ? { failed: snap.failed } : {}),
    };
    channel.send(response, reportFailure);
  } catch (err) {
    reportFailure(err);
  }
}

/**
 * Makes `registry` answer metrics requests arriving on `channel`; idempotent per registry.
 * One listener per channel answers for every exposed registry at once.
 */
export function expose(channel: Channel, registry: Registry): () => void {
  const all = exposures();
  let exposure = all.get(channel.key);
  const existing = exposure?.registries.get(registry);
  if (existing) return existing;
  if (!exposure) {
    const registries = new Map<Registry, () => void>();
    let created: Exposure | undefined;
    const unlisten = channel.listen((message) => {
      if (isRequest(message) && created) void answer(created, message, channel);
    });
    created = {
      registries,
      stop: () => {
        unlisten();
        all.delete(channel.key);
      },
    };
    exposure = created;
    all.set(channel.key, exposure);
  }
  const target = exposure;
  const undo = () => {
    if (target.registries.get(registry) !== undo) return;
    target.registries.delete(registry);
    if (target.registries.size === 0) target.stop();
  };
  target.registries.set(registry, undo);
  return undo;
}
