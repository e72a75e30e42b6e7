// Constants shared by the grpc-echo driver, server and client. The service is defined in code
// (no .proto): one bidirectional method whose messages are raw bytes, so the serialized size
// is the payload size and no variant pays for protobuf work the others skip.
export const VARIANTS = ['baseline', 'tidewatch', 'prom-naive'];

const identity = (b) => b;

/** `tidewatch.bench.Echo/Stream`: a bidi stream that echoes every message. */
export const ECHO_SERVICE = {
  stream: {
    path: '/tidewatch.bench.Echo/Stream',
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
