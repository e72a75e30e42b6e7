import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { grpcServerInterceptor, instrumentGrpc } from '../../src/grpc.js';
import { createRealtimeMetrics, type RealtimeMetrics } from '../../src/index.js';

let metrics: RealtimeMetrics;
afterEach(() => metrics?.close());

/** The smallest thing that passes for a grpc-js 1.10+ Server. */
const fakeServer = () => ({
  interceptors: [] as unknown[],
  register: () => true,
  addService: () => {},
});

const configError = (option: string) =>
  expect.objectContaining({ name: 'TidewatchConfigError', option });

describe('gRPC adapter options', () => {
  it.each([
    [{ endpoint: '' }, 'endpoint'],
    [{ endpoint: 3 }, 'endpoint'],
    [{ endpoint: async () => 'x' }, 'endpoint'],
    [{ methods: '/a.B/C' }, 'methods'],
    [{ methods: ['/a.B/C', 'nope'] }, 'methods[1]'],
    [{ clientType: 'x' }, 'clientType'],
    [{ maxConnections: 0 }, 'maxConnections'],
    [{ slowConsumerBytes: -1 }, 'slowConsumerBytes'],
    [{ transport: 'gRPC!' }, 'transport'],
    [{ endpiont: 'x' }, 'endpiont'],
    [{ messageBytes: () => 1 }, 'messageBytes'],
  ])('instrumentGrpc(%o) throws naming %s', (options, option) => {
    metrics = createRealtimeMetrics({ registry: new Registry() });
    expect(() => instrumentGrpc(fakeServer(), metrics, options as never)).toThrow(
      configError(option),
    );
  });

  it('the interceptor takes messageBytes, and checks it', () => {
    metrics = createRealtimeMetrics({ registry: new Registry() });
    expect(typeof grpcServerInterceptor(metrics, { messageBytes: () => 1 })).toBe('function');
    expect(() => grpcServerInterceptor(metrics, { messageBytes: 1 } as never)).toThrow(
      configError('messageBytes'),
    );
  });

  it('refuses what is not a grpc-js >= 1.10 Server', () => {
    metrics = createRealtimeMetrics({ registry: new Registry() });
    expect(() => instrumentGrpc({} as never, metrics)).toThrow(configError('server'));
    const old = { register: () => true, addService: () => {} };
    expect(() => instrumentGrpc(old as never, metrics)).toThrow(/>= 1\.10/);
  });

  it('an interceptor passes unary and client-streaming calls through as they are', () => {
    metrics = createRealtimeMetrics({ registry: new Registry() });
    const interceptor = grpcServerInterceptor(metrics);
    const call = { start() {} } as never;
    const unary = { path: '/a.B/Get', requestStream: false, responseStream: false };
    const upload = { path: '/a.B/Up', requestStream: true, responseStream: false };
    expect(interceptor(unary, call)).toBe(call);
    expect(interceptor(upload, call)).toBe(call);
    const watch = { path: '/a.B/Watch', requestStream: false, responseStream: true };
    expect(interceptor(watch, call)).not.toBe(call);
    interceptor.detach();
    expect(interceptor(watch, call)).toBe(call);
  });
});
