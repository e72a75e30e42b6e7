/** The one error type every source throws, so callers can count failures per source. */

/**
 * Bad input or a failed read from a source. The message is one line and starts with the
 * source's name, e.g. `file:data.csv: row 17: value "abc" is not a number` or
 * `prometheus:http://prom:9090: query returned 3 series; aggregate it, e.g. sum(...)`.
 */
export class SourceError extends Error {
  override readonly name: string = 'SourceError';
  /** The source's name, e.g. `file:data.csv`, `prometheus:http://...`, `scrape:http://...`. */
  readonly source: string;
  /** For file sources: the 1-based line of the file (the header is row 1). */
  readonly row: number | undefined;
  /** For HTTP sources: the last HTTP status received, if any. */
  readonly status: number | undefined;
  /** The message without the source and row prefix. */
  readonly detail: string;

  constructor(
    source: string,
    detail: string,
    extra: { row?: number; status?: number; cause?: unknown } = {},
  ) {
    super(
      `${source}: ${extra.row === undefined ? '' : `row ${extra.row}: `}${detail}`,
      extra.cause === undefined ? undefined : { cause: extra.cause },
    );
    this.source = source;
    this.row = extra.row;
    this.status = extra.status;
    this.detail = detail;
  }
}

/**
 * Several failures of one read, one per target (a scrape of many replicas): `failures` holds
 * each target's own {@link SourceError}, so callers count them per target; the message joins
 * theirs with `; `.
 */
export class SourceFailures extends SourceError {
  override readonly name = 'SourceFailures';
  readonly failures: readonly SourceError[];

  constructor(source: string, failures: readonly SourceError[]) {
    super(source, failures.map((f) => f.message).join('; '));
    this.failures = failures;
    // Each failure already names its target; a second prefix would only repeat it.
    this.message = failures.map((f) => f.message).join('; ');
  }
}

/** The per-target failures an error stands for: its `failures`, or the error itself. */
export function failuresOf(error: unknown, source: string): SourceError[] {
  if (error instanceof SourceFailures) return [...error.failures];
  if (error instanceof SourceError) return [error];
  return [new SourceError(source, (error as Error)?.message ?? String(error), { cause: error })];
}
