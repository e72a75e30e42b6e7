/** The interface shared by the `file`, `prometheus` and `scrape` sources. */
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

/** Somewhere a load series comes from. */
export interface Source {
  /** `file:PATH`, `prometheus:URL` or `scrape:URL[,URL...]`; used in every error message. */
  readonly name: string;
  /**
   * Reads the series (missing points are `NaN`).
   * @throws SourceError naming the source for bad data or a failed read.
   */
  read(options?: ReadOptions): Promise<Series>;
}
