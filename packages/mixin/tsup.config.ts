import { defineConfig } from 'tsup';

export default defineConfig({
  // `deploy` is its own entry: the predictor re-exports it without loading the dashboard and
  // rule generators.
  entry: { index: 'src/index.ts', deploy: 'src/deploy/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  // import.meta.url in the CommonJS build (the CLI reads its package.json) needs a shim.
  shims: true,
  external: ['@tidewatch/conventions', 'grafana-dash-gen', '@prometheus-io/lezer-promql', 'yaml'],
});
