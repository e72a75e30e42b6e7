import { defineConfig } from 'tsup';

const common = {
  sourcemap: true,
  target: 'node20',
  external: ['brain.js', 'gpu.js'],
} as const;

// tsup builds the configs of this array in parallel into the same dist/: only the first
// cleans, and it spares the CLI's files so it never deletes what the second just wrote.
export default defineConfig([
  {
    ...common,
    // The worker is its own entry: `new Worker(new URL('./worker.js', import.meta.url))` loads it
    // from dist next to the module (or chunk) that spawns it.
    entry: {
      index: 'src/index.ts',
      worker: 'src/worker/entry.ts',
    },
    format: ['esm', 'cjs'],
    dts: { entry: { index: 'src/index.ts' } },
    clean: ['!cli.js', '!cli.js.map'],
    splitting: true,
    // import.meta.url in the CJS build (worker URL, the LSTM's createRequire) needs a shim.
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
