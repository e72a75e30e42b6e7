import { type HistogramSeries, observe, type ValueSeries } from '../../internal/family.js';
import type { Instrumentation } from '../../internal/instrumentation.js';
import type { GrpcContext } from './call.js';
import type { GrpcCodec, GrpcServerLike } from './types.js';

// instrumentGrpc measures serialized bytes where they exist: in the method's own serializer
// (the response, before grpc-js frames it) and deserializer (the request, after it is
// unframed and decompressed). grpc-js calls them as `handler.serialize(value)`, with no call in
// sight, so the bytes go to the method's endpoint; this is exact because the endpoint is a
// function of the method path alone.

/** A method handler entry in grpc-js' `server.handlers` map. */
interface HandlerEntry {
  serialize: GrpcCodec;
  deserialize: GrpcCodec;
  type: string;
  path: string;
}

const STREAMING = new Set(['serverStream', 'bidi']);

function byteLength(v: unknown): number {
  if (v instanceof Uint8Array) return v.byteLength;
  return typeof v === 'string' ? Buffer.byteLength(v) : -1;
}

/**
 * Wraps a serializer (`out`) or deserializer (`in`) of a streaming method so that each call
 * adds the serialized size to the method's `message_bytes_total` and `message_size_bytes`.
 * The original runs outside the bookkeeping, so its errors reach grpc-js unchanged.
 */
function measuring(ctx: GrpcContext, path: string, dir: 'in' | 'out', codec: GrpcCodec): GrpcCodec {
  let bytes: ValueSeries | undefined;
  let size: HistogramSeries | undefined;
  const record = (n: number) => {
    if (n < 0 || !ctx.inst.active) return;
    try {
      if (bytes === undefined) {
        bytes = ctx.recorder.series('messageBytes', [ctx.transport, ctx.endpointOf(path), dir]);
        size = ctx.recorder.series('messageSize', [ctx.transport, dir]);
      }
      bytes.value += n;
      observe(size!, n);
      const r = ctx.recorder;
      if (r.otelPerMessage) r.family('messageSize').otel?.record(n, size!.attrs);
    } catch (err) {
      ctx.recorder.error(`grpc.${dir === 'in' ? 'deserialize' : 'serialize'}`, err);
    }
  };
  if (dir === 'out') {
    return function tidewatchSerialize(this: unknown, value: unknown) {
      const buf = codec.call(this, value);
      record(byteLength(buf));
      return buf;
    };
  }
  return function tidewatchDeserialize(this: unknown, buf: unknown) {
    record(byteLength(buf));
    return codec.call(this, buf);
  };
}

/**
 * Counts the serialized bytes of every server-streaming and bidirectional method: those
 * registered later (through a wrapped `server.register`, which `addService` calls) and those
 * already in grpc-js' handler map. Detach puts the original codecs back where the map still
 * holds ours; where it cannot, ours pass straight through.
 */
export function measureCodecs(inst: Instrumentation, ctx: GrpcContext, server: GrpcServerLike) {
  const handlers = (server as { handlers?: unknown }).handlers;
  const map = handlers instanceof Map ? (handlers as Map<string, HandlerEntry>) : undefined;
  const swapped: Array<{
    path: string;
    ser: GrpcCodec;
    de: GrpcCodec;
    oSer: GrpcCodec;
    oDe: GrpcCodec;
  }> = [];
  const wrapPair = (path: string, ser: GrpcCodec, de: GrpcCodec) => {
    const pair = {
      path,
      ser: measuring(ctx, path, 'out', ser),
      de: measuring(ctx, path, 'in', de),
      oSer: ser,
      oDe: de,
    };
    swapped.push(pair);
    return pair;
  };

  for (const entry of map?.values() ?? []) {
    inst.guard('grpc.attach', () => {
      if (!STREAMING.has(entry.type) || typeof entry.serialize !== 'function') return;
      const p = wrapPair(entry.path, entry.serialize, entry.deserialize);
      entry.serialize = p.ser;
      entry.deserialize = p.de;
    });
  }

  inst.patches.wrap(
    server,
    'register',
    (original) =>
      function register(
        this: unknown,
        name: string,
        handler: unknown,
        serialize: GrpcCodec,
        deserialize: GrpcCodec,
        type: string,
      ) {
        if (
          inst.active &&
          STREAMING.has(type) &&
          typeof serialize === 'function' &&
          typeof deserialize === 'function' &&
          !map?.has(name)
        ) {
          try {
            const p = wrapPair(name, serialize, deserialize);
            serialize = p.ser;
            deserialize = p.de;
          } catch (err) {
            ctx.recorder.error('grpc.register', err);
          }
        }
        return original.call(this, name, handler, serialize, deserialize, type);
      },
  );

  inst.onDetach(() => {
    for (const p of swapped) {
      const entry = map?.get(p.path);
      if (entry?.serialize === p.ser) entry.serialize = p.oSer;
      if (entry?.deserialize === p.de) entry.deserialize = p.oDe;
    }
    swapped.length = 0;
  });
}
