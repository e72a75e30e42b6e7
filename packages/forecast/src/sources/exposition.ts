/**
 * Picking one metric out of a Prometheus text exposition. Parsing is done by
 * parse-prometheus-text-format; this module adds what it leaves out: validation (it happily
 * "parses" an HTML page), the `_count` of labelled histograms and summaries (it merges
 * all their label sets into one object and keeps `_count` only for unlabelled ones), and
 * duplicates: a family in two `# TYPE` blocks comes back as two families, and a series
 * repeated is kept twice (or, on adjacent lines, merged into its last value), so a sum over
 * them would silently count the load twice. Everything here is linear in the text's length.
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
const NAME_PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const TYPE_LINE = /^#\s*TYPE\s+(\S+)\s+(\S+)\s*$/;

/** Prometheus float text -> number (`+Inf`, `-Inf`, `NaN` included); `undefined` if garbage. */
export function parseFloatText(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  // One way to match each input (`\d+\.?\d*` had n ways to split n digits: quadratic).
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** A parsed exposition, to pick several metrics from one parse (see {@link pickFrom}). */
export interface ParsedExposition {
  readonly families: ReturnType<typeof parsePrometheusTextFormat>;
  /** Declared `# TYPE` of each family, lower case. */
  readonly declared: ReadonlyMap<string, string>;
  /**
   * `process_start_time_seconds` when exposed (once, or several times with one value) and
   * finite; `undefined` otherwise (a restart cannot be told then).
   */
  readonly startTimeSeconds: number | undefined;
  /**
   * What is exposed twice, by name (a family's, or a sample's for a repeated series): the
   * message `duplicate metric family NAME` or `duplicate series NAME{labels}`. The parser
   * would sum (or overwrite) them silently; {@link pickFrom} refuses to pick them.
   */
  readonly duplicates: ReadonlyMap<string, string>;
}

/**
 * Parses and validates a text exposition once. Linear in the text's length (no regex here
 * backtracks), and never throws: bad input is an `Error` returned.
 * @returns The parsed families, or an `Error` (returned, not thrown) saying why the text is
 *   unusable: not the text format, or a malformed line.
 */
export function parseExposition(text: string): ParsedExposition | Error {
  const declared = new Map<string, string>();
  const duplicates = new Map<string, string>();
  const seriesSeen = new Set<string>();
  const sampleNames = new Set<string>();
  const raw = text.split('\n');
  const lines: string[] = new Array(raw.length);
  for (const [i, line] of raw.entries()) {
    lines[i] = line;
    const t = line.trim();
    if (t === '') continue;
    if (t.startsWith('#')) {
      const m = TYPE_LINE.exec(t);
      if (!m) continue;
      const [, name, type] = m as unknown as [string, string, string];
      const lower = type.toLowerCase();
      const children = lower === 'histogram' || lower === 'summary' ? CHILD_SUFFIXES : NO_CHILDREN;
      if (declared.has(name) || children.some((suffix) => sampleNames.has(name + suffix)))
        noteOnce(duplicates, name, `duplicate metric family ${name}`);
      declared.set(name, lower);
      // The parser drops the labels of histogram/summary children, so declare those families
      // untyped: their _count, _sum and _bucket lines then parse as plain labelled families.
      if (children !== NO_CHILDREN) lines[i] = `# TYPE ${name} untyped`;
      continue;
    }
    // The parser drops lines without a name (JSON, say) without a word, so check the shape.
    if (!SAMPLE_START.test(t))
      return new Error(
        `not the Prometheus text format: line ${i + 1}: ${JSON.stringify(t.slice(0, 60))}`,
      );
    // The parser merges a repeated series into one sample (or keeps both, to be summed):
    // identify each series here, label order aside.
    const series = seriesOf(t);
    if (!series) continue; // malformed labels: the parser says so below
    sampleNames.add(series.name);
    if (seriesSeen.has(series.key))
      noteOnce(duplicates, series.name, `duplicate series ${shorten(t.slice(0, series.end))}`);
    else seriesSeen.add(series.key);
  }
  let families: ReturnType<typeof parsePrometheusTextFormat>;
  try {
    // The parser only emits a family when the next one starts or at an empty last line, so
    // without a final newline the last family would be silently lost.
    families = parsePrometheusTextFormat(`${lines.join('\n')}\n`);
  } catch (error) {
    return new Error(
      `not the Prometheus text format: ${String((error as Error)?.message).slice(0, 200)}`,
    );
  }
  const startTimes = new Set<number>();
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
      if (family.name === 'process_start_time_seconds') startTimes.add(v);
    }
  }
  const [start] = startTimes;
  const startTimeSeconds =
    startTimes.size === 1 && Number.isFinite(start) ? (start as number) : undefined;
  return { families, declared, startTimeSeconds, duplicates };
}

const CHILD_SUFFIXES = ['', '_count', '_sum', '_bucket'];
const NO_CHILDREN = [''];

function noteOnce(notes: Map<string, string>, name: string, message: string): void {
  if (!notes.has(name)) notes.set(name, message);
}

/** A sample line's identity: its name and labels in a canonical order. */
interface SeriesId {
  readonly name: string;
  /** Equal for equal series, whatever the order of the labels. */
  readonly key: string;
  /** Where the name and labels end in the line: `line.slice(0, end)` shows the series. */
  readonly end: number;
}

const isBlank = (c: string | undefined) => c === ' ' || c === '\t';

/**
 * Reads the name and labels of a sample line (trimmed) in one linear pass, or `undefined`
 * when the labels are malformed. Escapes (`\\`, `\"`, `\n`) are decoded as the parser does.
 */
function seriesOf(line: string): SeriesId | undefined {
  const name = (NAME_PREFIX.exec(line) as RegExpExecArray)[0];
  let i = name.length;
  let end = i;
  while (isBlank(line[i])) i++;
  const labels: Array<[string, string]> = [];
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (isBlank(line[i])) i++;
      if (line[i] === '}') break;
      const from = i;
      while (i < line.length && line[i] !== '=' && !isBlank(line[i])) i++;
      const label = line.slice(from, i);
      while (isBlank(line[i])) i++;
      if (line[i] !== '=') return undefined;
      i++;
      while (isBlank(line[i])) i++;
      if (line[i] !== '"') return undefined;
      i++;
      let value = '';
      let run = i;
      while (i < line.length && line[i] !== '"') {
        if (line[i] !== '\\') {
          i++;
          continue;
        }
        const next = line[i + 1];
        value += line.slice(run, i);
        value += next === 'n' ? '\n' : next === '\\' || next === '"' ? next : `\\${next ?? ''}`;
        i += 2;
        run = i;
      }
      if (i >= line.length) return undefined; // unterminated value
      value += line.slice(run, i);
      i++;
      labels.push([label, value]);
      while (isBlank(line[i])) i++;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') return undefined;
    }
    end = i + 1;
  }
  return { name, key: `${name}${labelKey(Object.fromEntries(labels))}`, end };
}

/** A piece of input for a message: at most 200 characters. */
function shorten(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

/**
 * The samples of `metric` in a parsed exposition whose labels include every `matchers` pair.
 * A histogram or summary name gives the samples of its `_count`; `<histogram>_bucket` its
 * buckets (with `le`).
 * @returns The picked samples, or an `Error` when the metric is absent or exposed twice
 *   (`duplicate metric family NAME`, `duplicate series NAME{labels}`: a sum over them would
 *   count the load twice).
 */
export function pickFrom(
  parsed: ParsedExposition,
  metric: string,
  matchers: Readonly<Record<string, string>> = {},
): PickedMetric | Error {
  if (!METRIC_NAME.test(metric)) return new Error(`invalid metric name "${metric}"`);
  const { families, declared, startTimeSeconds, duplicates } = parsed;
  const type = declared.get(metric) ?? 'untyped';
  const wanted = type === 'histogram' || type === 'summary' ? `${metric}_count` : metric;
  const duplicate = duplicates.get(metric) ?? duplicates.get(wanted);
  if (duplicate !== undefined) return new Error(duplicate);
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
 *   unusable: not the text format, a malformed line, the metric absent or exposed twice.
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
