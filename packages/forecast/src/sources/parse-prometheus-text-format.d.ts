// Types for parse-prometheus-text-format 1.1.1, which ships none (read from its dist source).
declare module 'parse-prometheus-text-format' {
  /** One sample (or, for histograms/summaries without labels, the merged family). */
  export interface ParsedMetric {
    value?: string;
    labels?: Record<string, string>;
    timestamp_ms?: string;
    count?: string;
    sum?: string;
    buckets?: Record<string, string>;
    quantiles?: Record<string, string>;
  }
  export interface ParsedFamily {
    name: string;
    help: string;
    /** Upper case: `COUNTER`, `GAUGE`, `HISTOGRAM`, `SUMMARY`, `UNTYPED`. */
    type: string;
    metrics: ParsedMetric[];
  }
  /** @throws InvalidLineError for some malformed lines (not all: garbage often parses). */
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
