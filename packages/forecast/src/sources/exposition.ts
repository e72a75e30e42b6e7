/**
 * Picking one metric out of a Prometheus text exposition. Parsing is done by
 * parse-prometheus-text-format; this module adds what it leaves out: validation (it happily
 * "parses" an HTML page) and the `_count` of labelled histograms and summaries (it merges
 * all their label sets into one object and keeps `_count` only for unlabelled ones).
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/** One sample of the picked metric. */
export interface PickedSample {
  /** All labels of the sample, as exposed. */
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** What {@link pickMetric} found. */
export interface PickedMetric {
  /** The family's declared type, lower case (`gauge`, `counter`, `histogram`, `summary`, `untyped`). */
  readonly type: string;
  /** The samples matching the label matchers (for histograms/summaries: their `_count`). */
  readonly samples: readonly PickedSample[];
  /** `process_start_time_seconds` when exposed, to detect restarts. */
  readonly startTimeSeconds: number | undefined;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE_START = /^[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{|\s)/;
const TYPE_LINE = /^#\s*TYPE\s+(\S+)\s+(\S+)\s*$/;

/** Prometheus float text -> number (`+Inf`, `-Inf`, `NaN` included); `undefined` if garbage. */
export function parseFloatText(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** A parsed exposition, to pick several metrics from one parse (see {@link pickFrom}). */
export interface ParsedExposition {
  readonly families: ReturnType<typeof parsePrometheusTextFormat>;
  /** Declared `# TYPE` of each family, lower case. */
  readonly declared: ReadonlyMap<string, string>;
  /** `process_start_time_seconds` when exposed. */
  readonly startTimeSeconds: number | undefined;
}

/**
 * Parses and validates a text exposition once.
 * @returns The parsed families, or an `Error` (returned, not thrown) saying why the text is
 *   unusable: not the text format, or a malformed line.
 */
export function parseExposition(text: string): ParsedExposition | Error {
  // The parser drops the labels of histogram/summary children, so declare those families
  // untyped: their _count, _sum and _bucket lines then parse as plain labelled families.
  const declared = new Map<string, string>();
  const raw = text.split('\n');
  // The parser drops lines without a name (JSON, say) without a word, so check the shape first.
  for (const [i, line] of raw.entries()) {
    const t = line.trim();
    if (t !== '' && !t.startsWith('#') && !SAMPLE_START.test(t))
      return new Error(
        `not the Prometheus text format: line ${i + 1}: ${JSON.stringify(t.slice(0, 60))}`,
      );
  }
  const lines = raw.map((line) => {
    const m = TYPE_LINE.exec(line.trim());
    if (!m) return line;
    const [, name, type] = m as unknown as [string, string, string];
    declared.set(name, type.toLowerCase());
    return /^(histogram|summary)$/i.test(type) ? `# TYPE ${name} untyped` : line;
  });
  let families: ReturnType<typeof parsePrometheusTextFormat>;
  try {
    // The parser only emits a family when the next one starts or at an empty last line, so
    // without a final newline the last family would be silently lost.
    families = parsePrometheusTextFormat(`${lines.join('\n')}\n`);
  } catch (error) {
    return new Error(`not the Prometheus text format: ${(error as Error).message.slice(0, 200)}`);
  }
  let startTimeSeconds: number | undefined;
  for (const family of families) {
    if (!METRIC_NAME.test(family.name))
      return new Error(
        `not the Prometheus text format: bad metric name "${family.name.slice(0, 80)}"`,
      );
    for (const sample of family.metrics) {
      const v = parseFloatText(sample.value);
      if (v === undefined)
        return new Error(
          `malformed sample of ${family.name}: value "${String(sample.value).slice(0, 40)}"`,
        );
      if (family.name === 'process_start_time_seconds') startTimeSeconds = v;
    }
  }
  return { families, declared, startTimeSeconds };
}

/**
 * The samples of `metric` in a parsed exposition whose labels include every `matchers` pair.
 * A histogram or summary name gives the samples of its `_count`; `<histogram>_bucket` its
 * buckets (with `le`).
 * @returns The picked samples, or an `Error` when the metric is absent.
 */
export function pickFrom(
  parsed: ParsedExposition,
  metric: string,
  matchers: Readonly<Record<string, string>> = {},
): PickedMetric | Error {
  if (!METRIC_NAME.test(metric)) return new Error(`invalid metric name "${metric}"`);
  const { families, declared, startTimeSeconds } = parsed;
  const type = declared.get(metric) ?? 'untyped';
  const wanted = type === 'histogram' || type === 'summary' ? `${metric}_count` : metric;
  // Untyped children interleave (_bucket, _sum, _count per label set), so one name can come
  // back as several families.
  const matching = families.filter((f) => f.name === wanted);
  if (matching.length === 0 && !declared.has(metric))
    return new Error(`metric ${metric} not found`);
  const samples: PickedSample[] = [];
  for (const sample of matching.flatMap((f) => f.metrics)) {
    const labels = sample.labels ?? {};
    if (Object.entries(matchers).every(([k, v]) => labels[k] === v))
      samples.push({ labels, value: parseFloatText(sample.value) as number });
  }
  return { type, samples, startTimeSeconds };
}

/**
 * Finds `metric` in `text` and returns the samples whose labels include every `matchers`
 * pair. A histogram or summary name gives the samples of its `_count`.
 * @returns The picked samples; an `Error` (returned, not thrown) describing why the text is
 *   unusable: not the text format, a malformed line, or the metric absent.
 */
export function pickMetric(
  text: string,
  metric: string,
  matchers: Readonly<Record<string, string>> = {},
): PickedMetric | Error {
  if (!METRIC_NAME.test(metric)) return new Error(`invalid metric name "${metric}"`);
  const parsed = parseExposition(text);
  return parsed instanceof Error ? parsed : pickFrom(parsed, metric, matchers);
}

/** A stable key for a label set (sorted), to follow one series across scrapes. */
export function labelKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
