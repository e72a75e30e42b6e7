import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    ws: 'src/ws.ts',
    'socket.io': 'src/socket.io.ts',
    express: 'src/express.ts',
    http: 'src/http.ts',
    cluster: 'src/cluster.ts',
    mqtt: 'src/mqtt.ts',
    grpc: 'src/grpc.ts',
    broker: 'src/broker.ts',
    register: 'src/register/index.ts',
    otel: 'src/otel.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  // import.meta.url in the CommonJS build of the register entry (it locates its loader hook).
  shims: true,
  external: [
    '@tidewatch/conventions',
    'prom-client',
    '@opentelemetry/api',
    'ws',
    'socket.io',
    'express',
    'aedes',
    '@grpc/grpc-js',
  ],
});
