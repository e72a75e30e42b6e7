import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: ['!cli.js', '!cli.js.map'],
    target: 'node20',
    splitting: true,
    // flightsFixturePath() uses import.meta.url; the CommonJS build needs it shimmed.
    shims: true,
  },
  {
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    clean: false,
    splitting: false,
  },
]);
