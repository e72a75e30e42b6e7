import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { classifierFor } from '../internal/attach.js';
import { fail, noUnknownKeys, optFunction, optObject, optString } from '../internal/validate.js';
import type { ConnectionHandle } from '../manual.js';
import { internalsOf, type RealtimeMetrics, type RequestClassifier } from '../metrics.js';
import { HandshakeTracker } from './handshake.js';

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

/** What {@link instrumentUpgrade} returns. */
export interface UpgradeInstrumentation {
  /**
   * The connection handle of an upgraded socket, so your WebSocket layer can report
   * messages, pings and the precise close (`handle.close({ code, initiator })`). Without
   * it the close is recorded when the socket closes: `normal`, or `abnormal` on a socket
   * error.
   */
  connectionFor(socket: Duplex): ConnectionHandle | undefined;
  /** Stops tracking new upgrades (idempotent). */
  detach(): void;
}

/**
 * Instruments the `upgrade` requests of any `node:http`/`https` server whose WebSocket
 * layer is not `ws`: handshake latency and outcome from the request's arrival to the
 * `101 Switching Protocols` (success), a 4xx or a dropped socket (rejected), a 5xx (error),
 * or the client leaving first (aborted); then the connection until its socket closes.
 *
 * @throws {TidewatchConfigError} for a bad option.
 */
export function instrumentUpgrade(
  server: HttpServer,
  metrics: RealtimeMetrics,
  options: InstrumentUpgradeOptions = {},
): UpgradeInstrumentation {
  if (typeof server?.prependListener !== 'function') fail('server', 'an http.Server', server);
  const internals = internalsOf(metrics);
  const opts = optObject('options', options) ?? {};
  noUnknownKeys('', opts, ['endpoint', 'clientType', 'transport', 'filter']);
  if (
    opts.endpoint !== undefined &&
    typeof opts.endpoint !== 'string' &&
    typeof opts.endpoint !== 'function'
  ) {
    fail('endpoint', 'a string or a function (req) => string', opts.endpoint);
  }
  const endpointOpt = (opts.endpoint ?? internals.options.endpoint ?? 'default') as
    | string
    | RequestClassifier;
  const clientTypeOpt =
    optFunction<RequestClassifier>('clientType', opts.clientType) ?? internals.options.clientType;
  const transport = optString('transport', opts.transport, /^[a-z0-9_]{1,64}$/) ?? 'websocket';
  const filter = optFunction<(req: IncomingMessage) => boolean>('filter', opts.filter);
  const { recorder } = internals;

  const classify = classifierFor(recorder);
  const handles = new WeakMap<Duplex, ConnectionHandle>();
  const sockets = new WeakMap<object, Duplex>();
  const tracing = internals.tracing;
  const tracker = new HandshakeTracker((h, outcome, seconds) => {
    recorder.observe('handshakeDuration', [transport, h.endpoint, outcome], seconds);
    if (h.span) tracing?.end(h.span, outcome);
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
  }, true);

  const onUpgrade = (req: IncomingMessage, socket: Duplex) => {
    try {
      if (filter && !filter(req)) return;
      const endpoint = classify(endpointOpt, req, 'classifier.endpoint');
      const clientType = clientTypeOpt
        ? classify(clientTypeOpt, req, 'classifier.client_type')
        : 'unknown';
      const h = tracker.begin(socket, endpoint, clientType);
      if (tracing && h.span === undefined) h.span = tracing.start(req, transport, endpoint);
      sockets.set(h, socket);
    } catch (err) {
      recorder.error('http.upgrade', err);
    }
  };
  server.prependListener('upgrade', onUpgrade);
  const removeCollector = recorder.addCollector((r) => {
    r.series('handshakesInFlight', [transport]).value += tracker.pending.size;
  });
  let detached = false;
  const detach = () => {
    if (detached) return;
    detached = true;
    server.removeListener('upgrade', onUpgrade);
    removeCollector();
    internals.detachers.delete(detach);
  };
  internals.detachers.add(detach);
  return { connectionFor: (socket) => handles.get(socket), detach };
}
