import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { RequestLabels } from '../../internal/classifier.js';
import {
  type Instrumentation,
  type InstrumentationHandle,
  instrument,
} from '../../internal/instrumentation.js';
import {
  clientTypeOption,
  endpointOption,
  readOptions,
  transportOption,
} from '../../internal/options.js';
import { fail, optSyncFunction } from '../../internal/validate.js';
import type { ConnectionHandle } from '../../manual.js';
import { internalsOf, type RealtimeMetrics, type RequestClassifier } from '../../metrics.js';
import { ObservedHandshakes } from '../shared/handshake.js';

/** Options of {@link instrumentUpgrade}. */
export interface InstrumentUpgradeOptions {
  /** `endpoint` label: a name or a bounded classifier. Default: the metrics option, else `default`. */
  endpoint?: string | RequestClassifier;
  /** `client_type` classifier. Default: the metrics option, else `unknown`. */
  clientType?: RequestClassifier;
  /** `transport` label. Default `websocket`. */
  transport?: string;
  /** Which upgrade requests to track (e.g. by path). Default: all. */
  filter?: (req: IncomingMessage) => boolean;
}

/**
 * What {@link instrumentUpgrade} returns: an {@link InstrumentationHandle} (call it, or
 * `.detach()`, to stop tracking new upgrades; idempotent) with `connectionFor`.
 */
export interface UpgradeInstrumentation extends InstrumentationHandle {
  /**
   * The connection handle of an upgraded socket, so your WebSocket layer can report
   * messages, pings and the precise close (`handle.close({ code, initiator })`). Without
   * it the close is recorded when the socket closes: `normal`, or `abnormal` on a socket
   * error. Undefined for a socket that is not (or not yet) upgraded and tracked.
   */
  connectionFor(socket: Duplex): ConnectionHandle | undefined;
  /**
   * Stops tracking new upgrades (idempotent). Handshakes already in flight still end and
   * connections already open are still counted until they close.
   */
  detach(): void;
}

/**
 * Instruments the `upgrade` requests of any `node:http`/`https` server whose WebSocket
 * layer is not `ws`: handshake latency and outcome from the request's arrival to the
 * `101 Switching Protocols` (success), a 4xx or a dropped socket (rejected), a 5xx (error),
 * or the client leaving first (aborted); then the connection until its socket closes.
 *
 * Unlike `instrumentWs`, it may attach to one server several times (say, once per path
 * with `filter`); each attachment counts what it sees.
 *
 * @returns a handle: callable (or `.detach()`) to detach, and `.connectionFor(socket)`.
 * @throws {TidewatchConfigError} for a bad option.
 */
export function instrumentUpgrade(
  server: HttpServer,
  metrics: RealtimeMetrics,
  options: InstrumentUpgradeOptions = {},
): UpgradeInstrumentation {
  if (typeof server?.prependListener !== 'function') fail('server', 'an http.Server', server);
  const internals = internalsOf(metrics);
  const opts = readOptions(options, ['endpoint', 'clientType', 'transport', 'filter']);
  const endpoint = (endpointOption(opts.endpoint) ?? internals.options.endpoint ?? 'default') as
    | string
    | RequestClassifier;
  const clientType = clientTypeOption(opts.clientType, internals);
  const transport = transportOption(opts.transport, 'websocket');
  const filter = optSyncFunction<(req: IncomingMessage) => boolean>('filter', opts.filter);
  return instrument(metrics, internals, 'http', undefined, (inst) =>
    attach(inst, server, new RequestLabels(inst.recorder, endpoint, clientType), transport, filter),
  );
}

function attach(
  inst: Instrumentation,
  server: HttpServer,
  labels: RequestLabels,
  transport: string,
  filter: ((req: IncomingMessage) => boolean) | undefined,
): Pick<UpgradeInstrumentation, 'connectionFor'> {
  const { recorder, metrics } = inst;
  const handles = new WeakMap<Duplex, ConnectionHandle>();
  const sockets = new WeakMap<object, Duplex>();
  const tracker = new ObservedHandshakes(
    inst,
    transport,
    (h, outcome) => {
      if (outcome !== 'success') return;
      const socket = sockets.get(h);
      if (socket === undefined) return;
      const handle = metrics.connection({
        transport,
        endpoint: h.endpoint,
        clientType: h.clientType,
        bufferedAmount: () => (socket as Duplex & { writableLength: number }).writableLength,
      });
      handles.set(socket, handle);
      let peerEnded = false;
      socket.once('end', () => {
        peerEnded = !socket.writableEnded;
      });
      socket.once('close', (hadError: boolean) => {
        handle.close({
          reason: hadError ? 'abnormal' : 'normal',
          initiator: peerEnded ? 'client' : 'server',
        });
      });
    },
    true,
  );

  inst.patches.listen(
    server,
    'upgrade',
    (req: IncomingMessage, socket: Duplex) => {
      try {
        if (filter && !filter(req)) return;
        const h = tracker.start(req, socket, labels.endpoint(req), labels.clientType(req));
        sockets.set(h, socket);
      } catch (err) {
        recorder.error('http.upgrade', err);
      }
    },
    true,
  );
  inst.collect((r) => {
    r.series('handshakesInFlight', [transport]).value += tracker.pending.size;
  });
  return { connectionFor: (socket) => handles.get(socket) };
}
