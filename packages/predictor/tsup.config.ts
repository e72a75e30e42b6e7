import { defineConfig } from 'tsup';

const common = {
  sourcemap: true,
  target: 'node20',
  // Only patch mode loads the Kubernetes client (an optional peer), on its first apply.
  external: ['@kubernetes/client-node'],
} as const;

// tsup builds the configs of this array in parallel into the same dist/: only the first
// cleans, and it spares the CLI's files so it never deletes what the second just wrote.
export default defineConfig([
  {
    ...common,
    // The forecast worker is its own entry: `new Worker(new URL('./forecaster-worker.js',
    // import.meta.url))` loads it from dist next to the module (or chunk) that starts it.
    entry: { index: 'src/index.ts', 'forecaster-worker': 'src/serve/forecaster-entry.ts' },
    format: ['esm', 'cjs'],
    dts: { entry: { index: 'src/index.ts' } },
    clean: ['!cli.js', '!cli.js.map'],
    splitting: true,
    // import.meta.url in the CJS build (the status page's asset paths) needs a shim.
    shims: true,
  },
  {
    ...common,
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    banner: { js: '#!/usr/bin/env node' },
    clean: false,
    // One self-contained file: no chunks the other config's clean could remove.
    splitting: false,
  },
]);
