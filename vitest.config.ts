import { defineConfig } from 'vitest/config';

// One project per package and kind: unit tests run in threads; integration tests start
// real servers (and Prometheus), so they run in forks with longer timeouts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'conventions-unit',
          root: 'packages/conventions',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'middleware-unit',
          root: 'packages/middleware',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'middleware-integration',
          root: 'packages/middleware',
          include: ['test/integration/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'forecast-unit',
          root: 'packages/forecast',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'forecast-integration',
          root: 'packages/forecast',
          include: ['test/integration/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'predictor-unit',
          root: 'packages/predictor',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'predictor-integration',
          root: 'packages/predictor',
          include: ['test/integration/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Hostile sources, kill -9, broken data dirs: real sidecar processes, minutes per file.
        test: {
          name: 'predictor-chaos',
          root: 'packages/predictor',
          include: ['test/chaos/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 180_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'mixin-unit',
          root: 'packages/mixin',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'mixin-integration',
          root: 'packages/mixin',
          include: ['test/integration/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'loadgen-unit',
          root: 'packages/loadgen',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'loadgen-integration',
          root: 'packages/loadgen',
          include: ['test/integration/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Cross-package end-to-end tests: real servers, real Prometheus, real Chromium.
        test: {
          name: 'e2e',
          root: 'test',
          include: ['**/*.test.ts'],
          pool: 'forks',
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'test-utils',
          root: 'packages/test-utils',
          include: ['test/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
