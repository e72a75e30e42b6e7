/**
 * Setup the source integration tests share: cleanups run after each test, a hostile target
 * (./hostile-server.ts) stopped after its test, and the `SourceError` a read fails with.
 */
import { afterEach, expect } from 'vitest';
import { SourceError } from '../../src/sources/errors.js';
import { type HostileTarget, startHostileTarget } from './hostile-server.js';

/** Defers cleanups (stopping a target, a scraper) to the end of the current test. */
export type Defer = (...cleanups: Array<() => unknown>) => void;

/**
 * Registers an `afterEach` that runs, newest first, the cleanups deferred during the test
 * (call it once, at the top of a test file).
 */
export function cleanupAfterEach(): Defer {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return (...more) => {
    cleanups.push(...more);
  };
}

/** Starts a hostile target (answering `ok`), stopped by `defer` after the test. */
export async function hostileTarget(defer: Defer): Promise<HostileTarget> {
  const t = await startHostileTarget();
  defer(t.close);
  return t;
}

/** The error `read` rejects with, asserted to be a {@link SourceError}. */
export async function sourceFailure(read: Promise<unknown>): Promise<SourceError> {
  const error = await read.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceError);
  return error as SourceError;
}
