/**
 * How much one read of an HTTP source may take in: the defaults of `maxBodyBytes` (scrape and
 * prometheus sources) and `maxPoints` (prometheus source). A target that answers more is a
 * failure of that target, counted like any other, not a reason to take the process down.
 */

/**
 * Default cap on one HTTP response body, bytes (16 MiB = 16,777,216), decompressed.
 *
 * - `/metrics`: a realtime server instrumented by `@tidewatch/middleware` caps the series of
 *   every metric (open-ended labels fold into `__overflow__`), so its largest realistic
 *   exposition, process metrics included, is a few MB; 16 MiB leaves room for a fat exporter
 *   and refuses an endless or runaway body after a fraction of a second of reading.
 * - Prometheus itself scrapes with `body_size_limit: 0` (no limit) by default; its operators
 *   set one (`enforcedBodySizeLimit`, with the `PrometheusScrapeBodySizeLimitHit` alert) for
 *   the same reason: one bad target must not exhaust the scraper's memory.
 * - `query_range`: a 28-day range at a 1-minute step for one series (40,320 points) is about
 *   0.9 MB of JSON, and the prometheus source asks for at most 11,000 points per request.
 */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Largest `maxBodyBytes` accepted, bytes (256 MiB): the body becomes one JavaScript string,
 * and V8 refuses strings of about 512 M characters.
 */
export const MAX_BODY_BYTES_LIMIT = 256 * 1024 * 1024;

/**
 * Default cap on the points one prometheus `read()` takes in, across every series and every
 * request of the read (110,000 = 10 x Prometheus' 11,000 points per series and query). A
 * well-behaved Prometheus never sends more points than the range asked for; an answer of
 * millions (a proxy or impostor, a query gone wrong) is refused while it streams in, not
 * after it has been parsed. A read of a longer range (say 28 days at a 15 s step: 161,280
 * points) needs a larger `maxPoints`.
 */
export const DEFAULT_MAX_POINTS = 110_000;
