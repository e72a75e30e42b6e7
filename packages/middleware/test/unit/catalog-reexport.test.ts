import * as conventions from '@tidewatch/conventions';
import { describe, expect, it } from 'vitest';
import * as middleware from '../../src/index.js';

describe('the catalogue moved to @tidewatch/conventions', () => {
  it('the old imports from @tidewatch/middleware still give the same objects', () => {
    expect(middleware.CATALOG).toBe(conventions.CATALOG);
    expect(middleware.METRIC_KEYS).toBe(conventions.METRIC_KEYS);
    expect(middleware.CLOSE_REASONS).toBe(conventions.CLOSE_REASONS);
    expect(middleware.HANDSHAKE_OUTCOMES).toBe(conventions.HANDSHAKE_OUTCOMES);
    expect(middleware.TRANSPORTS).toBe(conventions.TRANSPORTS);
    expect(middleware.OVERFLOW_VALUE).toBe(conventions.OVERFLOW_VALUE);
  });
});
