import { defineConfig } from 'tsup';

export default defineConfig({
  // The worker is its own entry: `new Worker(new URL('./worker.js', import.meta.url))` loads it
  // from dist next to the module (or chunk) that spawns it.
  entry: {
    index: 'src/index.ts',
    worker: 'src/worker/entry.ts',
  },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  // import.meta.url in the CJS build (worker URL, the LSTM's createRequire) needs a shim.
  shims: true,
  external: ['brain.js', 'gpu.js'],
});
