/**
 * The gRPC service the `grpc` transport speaks, defined in code (no .proto file): one
 * bidirectional-streaming method whose messages are raw bytes, and a tiny echo handler, so
 * a test server, the middleware's tests and the loadgen share one definition.
 */
import { createRequire } from 'node:module';
import type * as Grpc from '@grpc/grpc-js';

/** The method's full path, as it appears in HTTP/2 `:path` and in server interceptors. */
export const GRPC_ECHO_PATH = '/tidewatch.loadgen.Echo/Stream';

/** Messages are the bytes themselves: the serialised size is the payload size. */
const identity = (b: Buffer): Buffer => b;

/**
 * The service definition for `server.addService(grpcEchoService, { stream: grpcEchoHandler })`
 * and for clients (`makeBidiStreamRequest(GRPC_ECHO_PATH, ...)`): service
 * `tidewatch.loadgen.Echo`, method `Stream`, bidirectional streaming, `Buffer` in and out
 * (no protobuf encoding).
 */
export const grpcEchoService = {
  stream: {
    path: GRPC_ECHO_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
    originalName: 'Stream',
  },
} satisfies Grpc.ServiceDefinition;

let MetadataClass: typeof Grpc.Metadata | undefined;

/**
 * The echo implementation of {@link grpcEchoService}'s `stream`: sends response headers at
 * once (the loadgen counts a stream as open when they arrive), writes every message back
 * to its sender, and ends with status OK when the client ends its side.
 */
export function grpcEchoHandler(call: Grpc.ServerDuplexStream<Buffer, Buffer>): void {
  // Loaded on first use, so importing this package does not load grpc-js.
  MetadataClass ??= (createRequire(import.meta.url)('@grpc/grpc-js') as typeof Grpc).Metadata;
  call.sendMetadata(new MetadataClass());
  call.on('data', (message: Buffer) => call.write(message));
  call.on('end', () => call.end());
  // A cancelled or broken stream has nothing left to answer.
  call.on('error', () => {});
}
