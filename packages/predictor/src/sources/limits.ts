/**
 * The size limits the sidecar puts on what a source may fetch: the design makes every request
 * of the sidecar carry a deadline and a size limit it owns, so one runaway target (a debug
 * endpoint, an unbounded query) cannot take the sidecar's memory with it. The defaults are
 * `@tidewatch/forecast`'s (its sources/limits.ts says why 16 MiB and 110,000 points).
 */
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_POINTS,
  MAX_BODY_BYTES_LIMIT,
} from '@tidewatch/forecast';
import { int } from '../fields.js';

/** `source.maxBodyBytes`: cap on one response body, bytes. Default 16 MiB (16,777,216). */
export const maxBodyBytesField = () => int(1, MAX_BODY_BYTES_LIMIT).default(DEFAULT_MAX_BODY_BYTES);

/**
 * `source.maxPoints` (prometheus): cap on the points one read takes in. Default 110,000, ten
 * requests of Prometheus' 11,000. The collector asks for everything since the newest stored
 * point, up to `historyPoints`: a longer ring (28 days at a 15 s step is 161,280 points)
 * needs a larger one, which the prometheus kind's `check` demands.
 */
export const maxPointsField = () => int(1, 10_000_000).default(DEFAULT_MAX_POINTS);
