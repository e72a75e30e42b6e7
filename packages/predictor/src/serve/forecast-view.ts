/**
 * How much of the history and forecast `/forecast` sends. By default a light answer: at most
 * 100 points per array, enough for a chart, a few KiB instead of hundreds at a short step
 * (21,600 history points at 1 s). `?points=N` asks for up to N (2..100,000), `?detail=full`
 * for every point. Downsampling keeps the shape a person reads a load chart for: per bucket
 * the lowest and the highest point (troughs and peaks survive; an average would shave the
 * peaks that drive scaling), a bucket with no data as one gap, and always the newest point
 * exactly. Every point sent is a real one (its own timestamp and value).
 */
import { type ForecastPoint, type Series, timeAt } from '@tidewatch/forecast';

/** One point of `/forecast`'s history (`null` = no data that step). */
export interface HistoryPointJson {
  timestamp: string;
  value: number | null;
}

/** One point of `/forecast`'s forecast. */
export interface ForecastPointJson {
  timestamp: string;
  p50: number;
  p90: number;
}

/** `light`: arrays downsampled to `points`; `full`: every point. */
export type ForecastDetail = 'light' | 'full';

/** Points per array of a light answer without `?points`. */
export const DEFAULT_VIEW_POINTS = 100;
/** Least `?points` (a chart needs two points for a line). */
export const MIN_VIEW_POINTS = 2;
/** Most `?points`; more is `detail=full`. */
export const MAX_VIEW_POINTS = 100_000;

/** What a `/forecast` request asked for. */
export interface ForecastView {
  /** History tail, minutes. */
  minutes: number;
  detail: ForecastDetail;
  /** Most points per array (`light`); `null` for `full`. */
  points: number | null;
}

/** `/forecast`'s `view`: how the arrays were shaped. */
export interface ViewJson {
  detail: ForecastDetail;
  /** Most points per array; `null` = every point (`detail=full`). */
  points: number | null;
  /** Points in the requested history window before shaping (`history` holds at most `points` of them). */
  historyPoints: number;
  /** Points of the forecast before shaping. */
  forecastPoints: number;
}

const KNOWN = ['history', 'points', 'detail'];
const HISTORY_ERROR = (got: unknown) =>
  `history must be an integer number of minutes from 1 to 10080, got ${shown(got)}`;
const POINTS_ERROR = (got: unknown) =>
  `points must be an integer from ${MIN_VIEW_POINTS} to ${MAX_VIEW_POINTS}, got ${shown(got)}`;

/** A query value for a message: quoted, and cut so a 1 MB parameter gives a short line. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}

/**
 * Parses `history` (minutes, 1..10080, once) and rejects any other parameter.
 * @returns The minutes (`fallback` when absent) or an error message for a 400.
 */
export function parseForecastQuery(
  query: Record<string, unknown>,
  fallback: number,
): { minutes: number } | { error: string } {
  for (const key of Object.keys(query))
    if (key !== 'history')
      return { error: `unknown query parameter ${shown(key)} (known: history)` };
  const raw = query.history;
  if (raw === undefined) return { minutes: fallback };
  if (Array.isArray(raw)) return { error: 'history must be given once' };
  if (typeof raw !== 'string' || !/^\d{1,5}$/.test(raw)) return { error: HISTORY_ERROR(raw) };
  const minutes = Number(raw);
  if (minutes < 1 || minutes > 10_080) return { error: HISTORY_ERROR(raw) };
  return { minutes };
}

/**
 * Parses `/forecast`'s whole query: `history` (see {@link parseForecastQuery}), `points`
 * (integer 2..100000, once, light only) and `detail` (`light` or `full`, once). Never throws,
 * whatever the parser made of the URL (strings, arrays, objects).
 * @returns The view, or an error message for a 400 naming the parameter.
 */
export function parseForecastView(
  query: Record<string, unknown>,
  fallbackMinutes: number,
): ForecastView | { error: string } {
  for (const key of Object.keys(query))
    if (!KNOWN.includes(key))
      return { error: `unknown query parameter ${shown(key)} (known: ${KNOWN.join(', ')})` };
  const history = parseForecastQuery(
    query.history === undefined ? {} : { history: query.history },
    fallbackMinutes,
  );
  if ('error' in history) return history;
  const rawDetail = query.detail;
  if (Array.isArray(rawDetail)) return { error: 'detail must be given once' };
  if (rawDetail !== undefined && rawDetail !== 'light' && rawDetail !== 'full')
    return { error: `detail must be "light" or "full", got ${shown(rawDetail)}` };
  const detail: ForecastDetail = rawDetail ?? 'light';
  const rawPoints = query.points;
  if (rawPoints === undefined)
    return {
      minutes: history.minutes,
      detail,
      points: detail === 'full' ? null : DEFAULT_VIEW_POINTS,
    };
  if (Array.isArray(rawPoints)) return { error: 'points must be given once' };
  if (typeof rawPoints !== 'string' || !/^\d{1,6}$/.test(rawPoints))
    return { error: POINTS_ERROR(rawPoints) };
  const points = Number(rawPoints);
  if (points < MIN_VIEW_POINTS || points > MAX_VIEW_POINTS)
    return { error: POINTS_ERROR(rawPoints) };
  if (detail === 'full')
    return { error: 'points cannot be combined with detail=full (full sends every point)' };
  return { minutes: history.minutes, detail, points };
}

/**
 * The indices a chart of `length` points keeps at most `max` of: all of them when they fit;
 * otherwise per bucket the index of the lowest `low` and of the highest `high` (in time
 * order; one index when they coincide; the bucket's first index when it holds no finite
 * value, so a gap stays a gap), the last index always. Below 5 points, evenly spaced indices
 * from the first to the last.
 * @returns Ascending indices, at most `max`, the last one `length - 1`.
 */
export function downsampleIndices(
  length: number,
  max: number,
  low: (i: number) => number,
  high: (i: number) => number,
): number[] {
  if (length <= max) return Array.from({ length }, (_, i) => i);
  if (max < 5) {
    const out: number[] = [];
    for (let k = 0; k < max; k++) out.push(Math.round((k * (length - 1)) / (max - 1)));
    return out;
  }
  const body = length - 1;
  const buckets = Math.floor((max - 1) / 2);
  const out: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * body) / buckets);
    const to = Math.floor(((b + 1) * body) / buckets);
    let lo = -1;
    let hi = -1;
    for (let i = from; i < to; i++) {
      const l = low(i);
      const h = high(i);
      if (Number.isFinite(l) && (lo < 0 || l < low(lo))) lo = i;
      if (Number.isFinite(h) && (hi < 0 || h > high(hi))) hi = i;
    }
    if (lo < 0 && hi < 0) out.push(from);
    else if (lo < 0 || hi < 0 || lo === hi) out.push(Math.max(lo, hi));
    else out.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  out.push(length - 1);
  return out;
}

/**
 * The history from `fromMs` on, shaped by `points` (`null` = every point).
 * @returns The points sent and how many the window held.
 */
export function historyView(
  series: Series | undefined,
  fromMs: number,
  points: number | null,
): { points: HistoryPointJson[]; total: number } {
  if (!series) return { points: [], total: 0 };
  const first = Math.max(0, Math.ceil((fromMs - series.startMs) / series.stepMs));
  const total = Math.max(0, series.values.length - first);
  const value = (i: number) => series.values[first + i] as number;
  const picked =
    points === null
      ? Array.from({ length: total }, (_, i) => i)
      : downsampleIndices(total, points, value, value);
  return {
    points: picked.map((i) => {
      const v = value(i);
      return {
        timestamp: new Date(timeAt(series, first + i)).toISOString(),
        value: Number.isFinite(v) ? v : null,
      };
    }),
    total,
  };
}

/**
 * The forecast shaped by `points` (`null` = every point): buckets keep the lowest p50 and the
 * highest p90, so the band's extent survives.
 */
export function forecastView(
  forecast: readonly ForecastPoint[],
  points: number | null,
): { points: ForecastPointJson[]; total: number } {
  const picked =
    points === null
      ? forecast.map((_, i) => i)
      : downsampleIndices(
          forecast.length,
          points,
          (i) => (forecast[i] as ForecastPoint).p50,
          (i) => (forecast[i] as ForecastPoint).p90,
        );
  return {
    points: picked.map((i) => {
      const p = forecast[i] as ForecastPoint;
      return { timestamp: p.timestamp, p50: p.p50, p90: p.p90 };
    }),
    total: forecast.length,
  };
}
