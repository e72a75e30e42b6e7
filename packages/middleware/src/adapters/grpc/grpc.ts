import { classifierResult } from '../../internal/classifier.js';
import { labelValue } from '../../internal/family.js';
import {
  type Instrumentation,
  type InstrumentationHandle,
  instrument,
  presetScrapeSeries,
} from '../../internal/instrumentation.js';
import {
  maxConnectionsOption,
  readOptions,
  slowConsumerOption,
  transportOption,
} from '../../internal/options.js';
import { collectGauges } from '../../internal/transport.js';
import { fail, optFunction, optSyncFunction } from '../../internal/validate.js';
import { internalsOf, type RealtimeMetrics } from '../../metrics.js';
import {
  type GrpcContext,
  type GrpcMethod,
  IN_CONNS,
  IN_PENDING,
  type TrackedCall,
  trackingInterceptor,
} from './call.js';
import { CallList } from './call-list.js';
import { measureCodecs } from './codecs.js';
import type { GrpcMetadataLike, GrpcServerInterceptor, GrpcServerLike } from './types.js';

/** Options shared by {@link instrumentGrpc} and {@link grpcServerInterceptor}. */
export interface GrpcOptions {
  /**
   * `endpoint` label: a fixed name, or a function of the method path
   * (`/package.Service/Method`) that must depend on the path alone (its result is cached per
   * path). Default: the method path. A throwing classifier counts
   * `instrumentation_errors_total{site="classifier.endpoint"}` once per path and gives `unknown`.
   */
  endpoint?: string | ((path: string) => string);
  /**
   * Allowlist of method paths reported as themselves; other paths are reported as `other`.
   * Default: every method (method paths are bounded by the service definitions; the series
   * cap still applies).
   */
  methods?: readonly string[];
  /**
   * `client_type` label from the call's request metadata, e.g.
   * `(md) => String(md.get('x-client')[0] ?? 'unknown')`. Default `unknown`. (The metrics-level
   * `clientType` classifier reads an HTTP request and does not apply to gRPC.)
   */
  clientType?: (metadata: GrpcMetadataLike, path: string) => string;
  /** A stream with more bytes than this queued on HTTP/2 counts as a slow consumer. Default 1 MiB. */
  slowConsumerBytes?: number;
  /** Capacity (open streams) for `capacity_utilization`. Default: unset (no series). */
  maxConnections?: number;
  /** `transport` label. Default `grpc`. */
  transport?: string;
}

/** Options of {@link grpcServerInterceptor}. */
export interface GrpcInterceptorOptions extends GrpcOptions {
  /**
   * Size in bytes of a message as the interceptor sees it (deserialized request, response
   * before serialization), or a negative number when unknown. Default: `byteLength` of a
   * `Buffer`/`Uint8Array` message, the UTF-8 length of a string, unknown otherwise (the
   * message still counts in `messages_total`, its bytes do not). `instrumentGrpc` measures
   * the serialized bytes instead and takes no such option.
   */
  messageBytes?: (message: unknown, direction: 'in' | 'out', path: string) => number;
}

/** A grpc-js server interceptor that also detaches (see {@link grpcServerInterceptor}). */
export interface DetachableGrpcInterceptor extends GrpcServerInterceptor {
  /** Stops counting: the interceptor passes every call through untouched from then on. */
  detach(): void;
}

const kAttached = Symbol.for('tidewatch.grpc.attached');
/** Paths whose endpoint is cached; past this (never with real services) it is recomputed. */
const MAX_CACHED_PATHS = 4096;

/**
 * Instruments a `@grpc/grpc-js` (>= 1.10) `Server`: its server-streaming and bidirectional
 * calls become connections (`transport="grpc"`, `endpoint` = method path). Call it before
 * `addService` or after: methods already added are measured too. Unary and client-streaming
 * calls are RPCs and are not counted (leave them to an RPC instrumentation).
 *
 * It puts a tidewatch interceptor first in the server's interceptor chain (next to the HTTP/2
 * stream, so it sees the statuses grpc-js sends itself: deadline, size limits), wraps each
 * streaming method's serializers to count serialized bytes, and wraps `tryShutdown` /
 * `forceShutdown` to tell shutdown closes apart. Attaching the same metrics twice returns the
 * first handle.
 *
 * @returns a handle that detaches everything when called (or via `.detach()`): the
 *   interceptor chain, `register`, the codecs and shutdown methods are restored; calls and
 *   methods from then on are not counted. Idempotent; counters keep their values.
 * @throws {TidewatchConfigError} for a bad option, a `server` that is not a grpc-js >= 1.10
 *   Server, or with code `TW_ERR_ALREADY_INSTRUMENTED` when other metrics instrument it.
 */
export function instrumentGrpc(
  server: GrpcServerLike,
  metrics: RealtimeMetrics,
  options: GrpcOptions = {},
): InstrumentationHandle {
  if (typeof server?.register !== 'function' || typeof server?.addService !== 'function') {
    fail('server', 'a @grpc/grpc-js Server', server);
  }
  if (!Array.isArray((server as { interceptors?: unknown }).interceptors)) {
    fail('server', 'a @grpc/grpc-js >= 1.10 Server (one with server interceptors)', server);
  }
  const internals = internalsOf(metrics);
  const opts = parseOptions(options, false);
  return instrument(
    metrics,
    internals,
    'grpc',
    { target: server, key: kAttached, option: 'server' },
    (inst) => {
      const ctx = attachContext(inst, opts);
      const holder = server as unknown as { interceptors: GrpcServerInterceptor[] };
      const interceptor = trackingInterceptor(ctx);
      // grpc-js reads `this.interceptors` afresh for every call ([...credentials', ...these]),
      // and the first one wraps its base call: that is where the HTTP/2 stream is in reach.
      const mine = [interceptor, ...holder.interceptors];
      holder.interceptors = mine;
      inst.onDetach(() => {
        if (holder.interceptors === mine)
          holder.interceptors = mine.filter((i) => i !== interceptor);
      });
      measureCodecs(inst, ctx, server);
      const shutdownWrapper =
        (state: 'graceful' | 'forced') => (original: (...args: any[]) => unknown) =>
          function (this: unknown) {
            if (inst.active && ctx.shutdown !== 'forced') ctx.shutdown = state;
            return original.apply(this, arguments as unknown as unknown[]);
          };
      inst.patches.wrap(server, 'tryShutdown', shutdownWrapper('graceful'));
      inst.patches.wrap(server, 'forceShutdown', shutdownWrapper('forced'));
      return undefined;
    },
  );
}

/**
 * A grpc-js server interceptor (gRFC L112) for servers built with
 * `new Server({ interceptors: [grpcServerInterceptor(metrics), ...] })`: the same accounting
 * as {@link instrumentGrpc}, with two differences. Bytes are what the interceptor sees
 * (see {@link GrpcInterceptorOptions.messageBytes}), not the serialized size; and it has no
 * server to watch, so closes by `forceShutdown` read as client cancels. Put it first in
 * `interceptors`: there it wraps grpc-js' base call and reads the statuses grpc-js sends
 * itself (deadline, size limits); elsewhere it infers them (a call reset within 250 ms of its
 * deadline is `deadline_exceeded`, otherwise `cancelled`).
 *
 * @returns the interceptor, with `detach()`; `metrics.close()` detaches it too.
 * @throws {TidewatchConfigError} for a bad option.
 */
export function grpcServerInterceptor(
  metrics: RealtimeMetrics,
  options: GrpcInterceptorOptions = {},
): DetachableGrpcInterceptor {
  const internals = internalsOf(metrics);
  const opts = parseOptions(options, true);
  const handle = instrument(metrics, internals, 'grpc', undefined, (inst) => ({
    interceptor: trackingInterceptor(attachContext(inst, opts)),
  }));
  const { interceptor } = handle;
  const detachable = ((methodDescriptor, call) =>
    interceptor(methodDescriptor, call)) as DetachableGrpcInterceptor;
  detachable.detach = handle.detach;
  return detachable;
}

type ParsedOptions = ReturnType<typeof parseOptions>;

/** Validates the options (throws naming the option) and applies defaults. */
function parseOptions(options: unknown, interceptor: boolean) {
  const known = [
    'endpoint',
    'methods',
    'clientType',
    'slowConsumerBytes',
    'maxConnections',
    'transport',
  ];
  if (interceptor) known.push('messageBytes');
  const opts = readOptions(options, known);
  const endpoint = opts.endpoint;
  if (
    (endpoint !== undefined && typeof endpoint !== 'string' && typeof endpoint !== 'function') ||
    endpoint === ''
  ) {
    fail('endpoint', 'a non-empty string or a function (path) => string', endpoint);
  }
  if (typeof endpoint === 'function') optSyncFunction('endpoint', endpoint);
  return {
    interceptor,
    endpoint: endpoint as string | ((path: string) => string) | undefined,
    methods: methodsOption(opts.methods),
    clientType: optSyncFunction<(md: GrpcMetadataLike, path: string) => string>(
      'clientType',
      opts.clientType,
    ),
    slowConsumerBytes: slowConsumerOption(opts.slowConsumerBytes),
    maxConnections: maxConnectionsOption(opts.maxConnections),
    transport: transportOption(opts.transport, 'grpc'),
    messageBytes: optFunction<NonNullable<GrpcInterceptorOptions['messageBytes']>>(
      'messageBytes',
      opts.messageBytes,
    ),
  };
}

function methodsOption(value: unknown): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) fail('methods', 'an array of method paths', value);
  value.forEach((p, i) => {
    if (typeof p !== 'string' || !/^\/[^/]+\/[^/]+$/.test(p)) {
      fail(`methods[${i}]`, 'a method path like "/package.Service/Method"', p);
    }
  });
  return new Set(value as string[]);
}

/** Default message size in the interceptor: binary and string messages only. */
function defaultBytes(message: unknown): number {
  if (message instanceof Uint8Array) return message.byteLength;
  return typeof message === 'string' ? Buffer.byteLength(message) : -1;
}

/** The per-attachment context, its scrape collector and its detach step. */
function attachContext(inst: Instrumentation, opts: ParsedOptions): GrpcContext {
  const { recorder, clock } = inst;
  const { transport, methods, endpoint, clientType, messageBytes } = opts;
  // One record per method path, shared by its calls (a call holds the record, not the path
  // and its label). Cached either way, failures included: the classifier is a function of the
  // path, so a failing path is reported once, not once per call and per serializer.
  const byPath = new Map<string, GrpcMethod>();
  const classify = (path: string): string => {
    if (methods !== undefined && !methods.has(path)) return 'other';
    if (typeof endpoint === 'string') return endpoint;
    if (endpoint === undefined) return labelValue(path);
    try {
      return classifierResult(recorder, endpoint(path), 'classifier.endpoint');
    } catch (err) {
      recorder.error('classifier.endpoint', err);
      return 'unknown';
    }
  };
  const methodOf = (path: string): GrpcMethod => {
    const cached = byPath.get(path);
    if (cached !== undefined) return cached;
    const m: GrpcMethod = { ctx, path, endpoint: classify(path) };
    if (byPath.size < MAX_CACHED_PATHS) byPath.set(path, m);
    return m;
  };
  const ctx: GrpcContext = {
    inst,
    recorder,
    clock,
    transport,
    closeCodes: undefined,
    groups: new Map(),
    conns: new CallList<TrackedCall>(IN_CONNS),
    pending: new CallList<TrackedCall>(IN_PENDING),
    shutdown: 'none',
    endpointOf: (path) => methodOf(path).endpoint,
    methodOf,
    clientTypeOf(metadata, path) {
      if (clientType === undefined || metadata === undefined) return 'unknown';
      try {
        return classifierResult(recorder, clientType(metadata, path), 'classifier.client_type');
      } catch (err) {
        recorder.error('classifier.client_type', err);
        return 'unknown';
      }
    },
    measure: opts.interceptor ? measurer() : undefined,
  };
  function measurer() {
    if (messageBytes === undefined) return (m: unknown) => defaultBytes(m);
    return (m: unknown, dir: 'in' | 'out', path: string) => {
      try {
        const n = messageBytes(m, dir, path);
        return typeof n === 'number' && Number.isFinite(n) ? n : -1;
      } catch (err) {
        recorder.error('grpc.message_bytes', err);
        return -1;
      }
    };
  }
  inst.useClock();
  inst.collect((r) => {
    const idleAfter = inst.internals.options.idleAfterMs;
    collectGauges(
      r,
      transport,
      ctx.conns,
      clock.tick(),
      idleAfter,
      opts.slowConsumerBytes,
      sendBuffer,
    );
    r.series('handshakesInFlight', [transport]).value += ctx.pending.size;
    if (opts.maxConnections !== undefined)
      r.capacity(transport, ctx.conns.size, opts.maxConnections);
  });
  presetScrapeSeries(recorder, transport);
  inst.onDetach(() => {
    for (const c of ctx.pending) c.release();
    for (const c of ctx.conns) c.release();
    ctx.pending.clear();
    ctx.conns.clear();
  });
  return ctx;
}

function sendBuffer(c: TrackedCall): number {
  return c.sendBuffer();
}
