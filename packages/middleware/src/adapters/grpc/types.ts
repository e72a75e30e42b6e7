// The parts of @grpc/grpc-js (>= 1.10, with server interceptors, gRFC L112) the adapter
// touches, typed structurally so that nothing is imported from it: the app's own copy of
// grpc-js is the one instrumented, whatever its version within the peer range.

/** Call metadata as grpc-js' `Metadata` exposes it: `get(key)` gives every value of a key. */
export interface GrpcMetadataLike {
  get(key: string): Array<string | Buffer>;
}

/** A status as passed to `sendStatus`: `code` is a gRPC status code (0 = OK). */
export interface GrpcStatusLike {
  code: number;
  details?: string;
  metadata?: unknown;
}

/** What grpc-js passes to a server interceptor about the method being called. */
export interface GrpcMethodDefinitionLike {
  /** `/package.Service/Method`. */
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/** The listener a server call reports inbound events to (grpc-js `ServerListener`). */
export interface GrpcServerListenerLike {
  onReceiveMetadata(metadata: GrpcMetadataLike): void;
  onReceiveMessage(message: unknown): void;
  onReceiveHalfClose(): void;
  onCancel(): void;
}

/** grpc-js' `ServerInterceptingCallInterface`, the link of a server interceptor chain. */
export interface GrpcServerCallLike {
  start(listener: any): void;
  sendMetadata(metadata: any): void;
  sendMessage(message: any, callback: () => void): void;
  sendStatus(status: any): void;
  startRead(): void;
  getPeer(): string;
  /** A `Date`, or milliseconds since the epoch (`Infinity` without a deadline). */
  getDeadline(): unknown;
  getHost(): string;
  getAuthContext?(): unknown;
  getConnectionInfo?(): unknown;
  getMetricsRecorder?(): unknown;
}

/**
 * A grpc-js server interceptor: pass it in `new Server({ interceptors: [...] })`. Its return
 * type is `any` because grpc-js declares interceptors to return its `ServerInterceptingCall`
 * class, which a structural type cannot name; at runtime grpc-js only calls the interface's
 * methods on it.
 */
export type GrpcServerInterceptor = (
  methodDescriptor: GrpcMethodDefinitionLike,
  call: GrpcServerCallLike,
) => any;

/** A grpc-js method handler's serializer (`responseSerialize`) or deserializer. */
export type GrpcCodec = (this: unknown, value: any) => any;

/** The parts of a grpc-js 1.10+ `Server` that `instrumentGrpc` touches. */
export interface GrpcServerLike {
  register(
    name: string,
    handler: unknown,
    serialize: GrpcCodec,
    deserialize: GrpcCodec,
    type: string,
  ): boolean;
  addService(service: unknown, implementation: unknown): void;
  tryShutdown?(callback: (error?: Error) => void): void;
  forceShutdown?(): void;
}

/**
 * The HTTP/2 stream under grpc-js' base call (Node's `ServerHttp2Stream`), read when the
 * tidewatch call wraps the base call directly: it tells the status grpc-js sent itself
 * (deadline, size limits) and how many bytes wait to be written.
 */
export interface Http2StreamLike {
  readonly sentHeaders?: Record<string, unknown>;
  readonly sentTrailers?: Record<string, unknown>;
  readonly writableLength?: number;
  readonly closed?: boolean;
  once(event: 'close', listener: () => void): unknown;
  on?(event: 'close', listener: () => void): unknown;
}
