import type { Patches } from '../../internal/instrumentation.js';
import { stampTime, stampTrace } from '../broker/envelope.js';
import { observeLag } from '../broker/lag.js';
import { hookClient, hookPublish } from '../broker/redis.js';
import type { BrokerTracer } from '../broker/tracing.js';
import type { SioState } from './state.js';

// Broadcasts that arrive from other nodes. A cluster adapter (@socket.io/redis-adapter,
// socket.io-adapter's ClusterAdapter, ...) delivers them from its message handler through
// `super.broadcast()` / `super.broadcastWithAck()`, which bypasses the instance's
// `broadcast` wrapper; both end in the in-memory Adapter, which encodes the packet with
// `this._encode()` and then writes to each recipient in `this.apply()`, synchronously.
// An `_encode` outside any wrapped broadcast therefore starts a remote delivery, and the
// `apply` that follows it is that delivery's fan-out.

/** `broker` label of the Socket.IO Redis adapter (and its sharded variant). */
export const SOCKETIO_REDIS = 'socketio_redis';

/** How stamped broadcasts are read: the envelope field and, when tracing, the tracer. */
export interface DeliveryConfig {
  readonly key: string;
  readonly tracer: BrokerTracer | undefined;
}

/** The stamped argument of a Socket.IO packet (`['event', ...args]`), or undefined. */
function stampedArg(packet: any, key: string): unknown {
  const data = packet?.data;
  if (!Array.isArray(data)) return undefined;
  // The event name first, then the arguments; the stamp is in one of the first few.
  const end = Math.min(data.length, 5);
  for (let i = 1; i < end; i++) if (stampTime(data[i], key) >= 0) return data[i];
  return undefined;
}

/** Whether the adapter looks like @socket.io/redis-adapter: it holds a pub and a sub client. */
export function isRedisAdapter(adapter: any): boolean {
  return (
    typeof adapter?.pubClient?.publish === 'function' &&
    typeof adapter?.subClient?.emit === 'function'
  );
}

/**
 * Records a broadcast written to `n` local sockets: `delivery_lag_seconds{transport="socketio"}`
 * `n` times when the packet carries a stamp, and its `deliver` span when traced. Never throws.
 * @param broker the broker it came through (undefined: published on this node).
 * @param startMs epoch ms when the writes began (-1: unknown, use now).
 */
export function recordDelivery(
  st: SioState,
  packet: unknown,
  n: number,
  broker: string | undefined,
  startMs: number,
  transport: string,
): void {
  if (n <= 0) return;
  try {
    const { key, tracer } = st.delivery;
    const arg = stampedArg(packet, key);
    if (arg === undefined) return;
    const now = Date.now();
    observeLag(st.recorder, transport, stampTime(arg, key), now, n);
    if (tracer !== undefined) {
      const tp = stampTrace(arg, key);
      if (tp !== undefined) {
        tracer.deliver(tp, {
          transport,
          broker,
          recipients: n,
          startMs: startMs < 0 ? now : startMs,
        });
      }
    }
  } catch (err) {
    st.recorder.error('socketio.delivery', err);
  }
}

/**
 * Wraps the adapter's `_encode` and `apply` to see remote deliveries (see above). `onRemote`
 * runs `deliver` (the original `apply`) as a counted broadcast and reports it.
 */
export function wrapRemote(
  st: SioState,
  adapter: any,
  scope: Patches,
  onRemote: (adapter: any, packet: unknown, opts: unknown, deliver: () => unknown) => unknown,
): void {
  if (typeof adapter?._encode !== 'function' || typeof adapter.apply !== 'function') return;
  scope.wrap(
    adapter,
    '_encode',
    (orig) =>
      function tidewatchEncode(this: unknown, packet: unknown) {
        const result = orig.apply(this, arguments as unknown as unknown[]);
        if (scope.active && st.depth === 0) st.remote = packet;
        return result;
      },
  );
  scope.wrap(
    adapter,
    'apply',
    (orig) =>
      function tidewatchApply(this: unknown, opts: unknown) {
        const packet = st.remote;
        if (packet === null || !scope.active) {
          return orig.apply(this, arguments as unknown as unknown[]);
        }
        st.remote = null;
        const args = arguments as unknown as unknown[];
        return onRemote(this, packet, opts, () => orig.apply(this, args));
      },
  );
}

/**
 * Counts the Redis adapter's broker traffic: publishes through its `pubClient` as
 * `broker_messages_total{broker="socketio_redis",direction="out"}`, and both clients'
 * errors as `broker_errors_total`. Incoming broadcasts are counted where they are delivered
 * (`direction="in"`, see `wrapRemote`). Clients shared by several namespaces' adapters are
 * hooked once per attachment.
 */
export function hookRedisAdapter(st: SioState, adapter: any, scope: Patches): void {
  if (!isRedisAdapter(adapter)) return;
  const { recorder } = st;
  recorder.series('brokerMessages', [SOCKETIO_REDIS, 'in']);
  recorder.series('brokerMessages', [SOCKETIO_REDIS, 'out']);
  const pub = adapter.pubClient;
  const sub = adapter.subClient;
  for (const client of pub === sub ? [pub] : [pub, sub]) {
    if (st.brokerClients.has(client)) continue;
    st.brokerClients.add(client);
    scope.defer(() => st.brokerClients.delete(client));
    hookClient(scope, recorder, client, SOCKETIO_REDIS, false);
    if (client === pub) hookPublish(scope, recorder, client, SOCKETIO_REDIS);
  }
}
