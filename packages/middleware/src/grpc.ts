/**
 * `@tidewatch/middleware/grpc`: instrumentation for `@grpc/grpc-js` (>= 1.10) servers.
 * Server-streaming and bidirectional calls are realtime connections (`transport="grpc"`,
 * `endpoint` = the method path); unary and client-streaming calls are RPCs, left to RPC
 * instrumentations. Use {@link instrumentGrpc} on a `Server`, or
 * {@link grpcServerInterceptor} in its `interceptors` option.
 * @packageDocumentation
 */
export type {
  DetachableGrpcInterceptor,
  GrpcInterceptorOptions,
  GrpcOptions,
} from './adapters/grpc/grpc.js';
export { grpcServerInterceptor, instrumentGrpc } from './adapters/grpc/grpc.js';
export { GrpcStatus } from './adapters/grpc/status.js';
export type {
  GrpcMetadataLike,
  GrpcMethodDefinitionLike,
  GrpcServerCallLike,
  GrpcServerInterceptor,
  GrpcServerLike,
  GrpcStatusLike,
} from './adapters/grpc/types.js';
export type { InstrumentationHandle } from './internal/instrumentation.js';
