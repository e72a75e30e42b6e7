import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', ws: 'src/ws.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  external: ['prom-client', '@opentelemetry/api', 'ws'],
});
