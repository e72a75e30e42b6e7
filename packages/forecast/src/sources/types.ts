/**
 * The one interface every source implements (`file`, `prometheus`, `scrape`, and any kind a
 * sidecar registers): a name for messages and metrics, and `read()` for a time range.
 */
import type { Series } from '../series.js';

/** Options of {@link Source.read}. */
export interface ReadOptions {
  /** First instant wanted, unix ms (inclusive; rounded up to the source's step grid). */
  startMs?: number;
  /** Last instant wanted, unix ms (inclusive; rounded down to the step grid). */
  endMs?: number;
  /** Aborts the read (network requests included); the read rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Somewhere a load series comes from. A source with a past (a file, Prometheus) returns the
 * points of the requested range it has; a live source (a scrape) has only the present and
 * returns what it sees now, one point or none, whatever the range. A collector appends
 * whatever comes back, so it needs to know nothing else about the kind.
 */
export interface Source {
  /** `file:PATH`, `prometheus:URL` or `scrape:URL[,URL...]`; used in every error message. */
  readonly name: string;
  /**
   * Reads the series (missing points are `NaN`).
   * @throws SourceError naming the source for bad data or a failed read; `SourceFailures`
   *   when several targets failed (one error each); the signal's reason when aborted.
   */
  read(options?: ReadOptions): Promise<Series>;
}
