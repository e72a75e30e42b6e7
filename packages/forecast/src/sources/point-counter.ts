/**
 * Counting the points of a Prometheus `query_range` answer while its bytes arrive, so an
 * answer of millions of points is refused after a few megabytes instead of after being
 * buffered and parsed whole.
 *
 * A matrix answer is `{"data":{"result":[{"metric":{...},"values":[[t,"v"],...]}]}}` (native
 * histograms: `"histograms":[[t,{...}],...]`): every point is an array opened at array depth 3
 * (`result` is depth 1, `values` depth 2). Strings are skipped, escapes included, so a `[` in
 * a label value does not count. JSON's structure is ASCII and UTF-8 never uses an ASCII byte
 * inside a multi-byte character, so the bytes are scanned without decoding them.
 */

/** A running count over the chunks of one answer. */
export interface PointCounter {
  /** Scans the next chunk; returns the points counted so far. */
  feed(chunk: Uint8Array): number;
  /** The points counted so far. */
  readonly points: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
/** Array depth of a point in a matrix answer. */
const POINT_DEPTH = 3;

/**
 * Creates a counter for one answer (state carries over chunk boundaries).
 * @param depth - Array depth a point opens at: 3 (the default) for a matrix answer's points,
 *   2 for an instant query's vector samples (`"result":[{"metric":{...},"value":[t,"v"]}]`).
 */
export function createPointCounter(depth = POINT_DEPTH): PointCounter {
  let points = 0;
  let level = 0;
  let inString = false;
  let escaped = false;
  return {
    feed(chunk) {
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i];
        if (inString) {
          if (escaped) escaped = false;
          else if (byte === BACKSLASH) escaped = true;
          else if (byte === QUOTE) inString = false;
        } else if (byte === QUOTE) inString = true;
        else if (byte === OPEN) {
          if (++level === depth) points++;
        } else if (byte === CLOSE) level--;
      }
      return points;
    },
    get points() {
      return points;
    },
  };
}
