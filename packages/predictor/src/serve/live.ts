/**
 * Live figures for the status page, from the expositions the embedded scraper already fetches
 * (no extra requests): connections, handshake rate and latency quantiles, message rates. Rates
 * and quantiles are over a sliding window of scrapes, the way `rate()` and
 * `histogram_quantile()` compute them in Prometheus, so the page agrees with the dashboards.
 * Only the `scrape` source has them: with a `prometheus` source `/forecast`'s `live` is null.
 */
import { CATALOG, type CloseReason, DEFAULT_PREFIX } from '@tidewatch/conventions';
import {
  type ParsedExposition,
  type PickedSample,
  parseExposition,
  pickFrom,
} from '@tidewatch/forecast';

/** `/forecast`'s `live` block. `null` figures are unknown (too few scrapes, or no handshakes). */
export interface LiveJson {
  /** When the newest scrape was taken. */
  at: string;
  /** Seconds between the oldest and newest scrape the rates use (0 with one scrape). */
  windowSeconds: number;
  /** Open connections, all states, summed over the scraped servers. */
  connections: number | null;
  handshakesPerSecond: number | null;
  /** Handshake latency quantiles over the window, milliseconds (bucket interpolation). */
  handshakeP50Ms: number | null;
  handshakeP99Ms: number | null;
  messagesInPerSecond: number | null;
  messagesOutPerSecond: number | null;
  /**
   * Closes per second with a reason in `abnormalReasons` (clients cut off: a lost pod, a proxy
   * cut; they reconnect within seconds), from `<prefix>connections_closed_total`. What the
   * nowcast reads as load coming back.
   */
  abnormalClosesPerSecond: number | null;
  /**
   * Why a figure is `null` although scrapes arrived: a sample it sums was rejected (negative or
   * not finite: the history rejects such values too, so the page never shows one). Absent when
   * nothing was rejected.
   */
  rejected?: string[];
}

/** The figures a sample can spoil. */
type Figure =
  | 'connections'
  | 'handshakes'
  | 'buckets'
  | 'messagesIn'
  | 'messagesOut'
  | 'abnormalCloses';

/** One scrape, reduced to what the figures need (cumulative values). */
interface Snapshot {
  atMs: number;
  connections: number | undefined;
  handshakes: number;
  /** Handshake duration buckets: upper bound (s) -> cumulative count, summed over labels. */
  buckets: Map<number, number>;
  messagesIn: number;
  messagesOut: number;
  abnormalCloses: number;
  /** Figures this scrape cannot give, and why (a rejected sample). */
  invalid: Map<Figure, string>;
}

/** See {@link createLiveStats}. */
export interface LiveStats {
  /** Folds one successful scrape of `url`; text that does not parse is ignored. */
  observe(url: string, text: string, atMs: number): void;
  /** The figures now, or `null` before the first scrape. */
  snapshot(): LiveJson | null;
}

/** Options of {@link createLiveStats}. */
export interface LiveStatsOptions {
  /** The middleware's metric prefix. Default `realtime_`. */
  prefix?: string;
  /** Width of the rate window, seconds. Default 30 (at least two scrapes are used). */
  windowSeconds?: number;
  /**
   * Close reasons counted as abnormal (the client will be back). Default
   * {@link ABNORMAL_CLOSE_REASONS}.
   */
  abnormalReasons?: readonly CloseReason[];
}

/**
 * Close reasons whose clients come back within seconds: the connection was cut, not ended
 * (`abnormal`, `error`, `ping_timeout`: a lost pod or a proxy cut; `server_shutdown`: a pod
 * drained by a rollout or a scale-down; `unavailable`: gRPC's server went away).
 */
export const ABNORMAL_CLOSE_REASONS: readonly CloseReason[] = [
  'abnormal',
  'error',
  'ping_timeout',
  'server_shutdown',
  'unavailable',
];

/** Creates the live figures keeper. Nothing runs on its own: the scraper feeds it. */
export function createLiveStats(options: LiveStatsOptions = {}): LiveStats {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  // The middleware's names, from its catalogue (suffixes after the prefix).
  const CONNECTIONS = CATALOG.connections.name;
  const HANDSHAKES = CATALOG.handshakeDuration.name;
  const MESSAGES = CATALOG.messages.name;
  const CLOSED = CATALOG.connectionsClosed.name;
  const abnormalReasons = options.abnormalReasons ?? ABNORMAL_CLOSE_REASONS;
  const windowMs = (options.windowSeconds ?? 30) * 1000;
  const rings = new Map<string, Snapshot[]>();

  function reduce(url: string, parsed: ParsedExposition, atMs: number): Snapshot {
    const invalid = new Map<Figure, string>();
    /** The first sample the history would reject (negative or not finite), as a reason. */
    const rejected = (figure: Figure, name: string, samples: readonly PickedSample[]): boolean => {
      const bad = samples.find((s) => !Number.isFinite(s.value) || s.value < 0);
      if (bad && !invalid.has(figure))
        invalid.set(
          figure,
          `${url}: ${name}${labelText(bad.labels)} is ${bad.value}, not a finite number >= 0`,
        );
      return bad !== undefined;
    };
    const sum = (figure: Figure, metric: string, matchers: Record<string, string> = {}) => {
      const picked = pickFrom(parsed, prefix + metric, matchers);
      if (picked instanceof Error) return undefined;
      if (rejected(figure, prefix + metric, picked.samples)) return undefined;
      return picked.samples.reduce((a, s) => a + s.value, 0);
    };
    const buckets = new Map<number, number>();
    const picked = pickFrom(parsed, `${prefix}${HANDSHAKES}_bucket`);
    if (
      !(picked instanceof Error) &&
      !rejected('buckets', `${prefix}${HANDSHAKES}_bucket`, picked.samples)
    )
      for (const s of picked.samples) {
        const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
        if (!Number.isNaN(le)) buckets.set(le, (buckets.get(le) ?? 0) + s.value);
      }
    return {
      atMs,
      connections: sum('connections', CONNECTIONS),
      handshakes: sum('handshakes', HANDSHAKES) ?? 0,
      buckets,
      messagesIn: sum('messagesIn', MESSAGES, { direction: 'in' }) ?? 0,
      messagesOut: sum('messagesOut', MESSAGES, { direction: 'out' }) ?? 0,
      abnormalCloses: abnormalReasons.reduce(
        (a, reason) => a + (sum('abnormalCloses', CLOSED, { reason }) ?? 0),
        0,
      ),
      invalid,
    };
  }

  return {
    observe(url, text, atMs) {
      const parsed = parseExposition(text);
      if (parsed instanceof Error) return;
      const snap = reduce(url, parsed, atMs);
      let ring = rings.get(url);
      if (!ring) {
        ring = [];
        rings.set(url, ring);
      }
      const first = ring[0];
      // A counter went down: the server restarted; rates restart from this scrape.
      if (
        first &&
        (snap.handshakes < first.handshakes ||
          snap.messagesIn < first.messagesIn ||
          snap.messagesOut < first.messagesOut ||
          snap.abnormalCloses < first.abnormalCloses)
      )
        ring.length = 0;
      ring.push(snap);
      // Keep the window, but always two scrapes: slow scrapes still give a rate.
      while (ring.length > 2 && atMs - (ring[1] as Snapshot).atMs >= windowMs) ring.shift();
    },
    snapshot() {
      if (rings.size === 0) return null;
      let newestMs = 0;
      let windowSeconds = Number.POSITIVE_INFINITY;
      let connections: number | null = 0;
      let handshakes = 0;
      let messagesIn = 0;
      let messagesOut = 0;
      let abnormalCloses = 0;
      let rated = true;
      const buckets = new Map<number, number>();
      // A figure is null when a sample it uses was rejected: the newest scrape for the
      // connections, either end of the window for a rate.
      const spoiled = new Map<Figure, string>();
      for (const ring of rings.values()) {
        const a = ring[0] as Snapshot;
        const b = ring[ring.length - 1] as Snapshot;
        for (const [figure, why] of b.invalid) if (!spoiled.has(figure)) spoiled.set(figure, why);
        for (const [figure, why] of a.invalid)
          if (figure !== 'connections' && !spoiled.has(figure)) spoiled.set(figure, why);
        newestMs = Math.max(newestMs, b.atMs);
        connections =
          connections === null || b.connections === undefined ? null : connections + b.connections;
        const dt = (b.atMs - a.atMs) / 1000;
        windowSeconds = Math.min(windowSeconds, dt);
        if (dt <= 0) {
          rated = false;
          continue;
        }
        handshakes += (b.handshakes - a.handshakes) / dt;
        messagesIn += (b.messagesIn - a.messagesIn) / dt;
        messagesOut += (b.messagesOut - a.messagesOut) / dt;
        abnormalCloses += (b.abnormalCloses - a.abnormalCloses) / dt;
        for (const [le, n] of b.buckets)
          buckets.set(le, (buckets.get(le) ?? 0) + n - (a.buckets.get(le) ?? 0));
      }
      const rate = (figure: Figure, v: number) => (rated && !spoiled.has(figure) ? v : null);
      const quantiles = rated && !spoiled.has('buckets');
      const rejected = [...new Set(spoiled.values())];
      return {
        at: new Date(newestMs).toISOString(),
        windowSeconds: Number.isFinite(windowSeconds) ? windowSeconds : 0,
        connections: spoiled.has('connections') ? null : connections,
        handshakesPerSecond: rate('handshakes', handshakes),
        handshakeP50Ms: quantiles ? toMs(quantile(0.5, buckets)) : null,
        handshakeP99Ms: quantiles ? toMs(quantile(0.99, buckets)) : null,
        messagesInPerSecond: rate('messagesIn', messagesIn),
        messagesOutPerSecond: rate('messagesOut', messagesOut),
        abnormalClosesPerSecond: rate('abnormalCloses', abnormalCloses),
        ...(rejected.length > 0 ? { rejected } : {}),
      };
    },
  };
}

const toMs = (seconds: number | null) => (seconds === null ? null : seconds * 1000);

/** `{a="1",b="2"}`, or nothing for no labels: how a sample is named in a reason. */
function labelText(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return pairs.length > 0 ? `{${pairs.join(',')}}` : '';
}

/**
 * `histogram_quantile` over bucket increases (upper bound -> cumulative count): linear
 * interpolation inside the bucket holding the rank, the lower bound of the first bucket 0, and
 * the highest finite bound when the rank falls in `+Inf`.
 * @returns Seconds, or `null` when the window saw no observation.
 */
export function quantile(q: number, buckets: ReadonlyMap<number, number>): number | null {
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (!(total > 0)) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return prevLe;
      if (count === prevCount) return le;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}
