/**
 * Kubernetes quantities, both ways: the generated HPA writes a threshold with
 * {@link formatQuantity}, and patch mode reads the live one back with {@link parseQuantity}.
 */

/**
 * A Kubernetes quantity for a threshold, to the milli-unit: `700`, `233333m`.
 * @param value - A finite number (load per replica).
 */
export function formatQuantity(value: number): string {
  const milli = Math.round(value * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Multipliers of the quantity suffixes (decimal SI and binary). */
const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * A Kubernetes quantity as a number (`"350"`, `"350500m"`, `"1.5k"`, `"2Ki"`, `"1e3"`); NaN
 * when it is not one.
 */
export function parseQuantity(text: string): number {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(
    text.trim(),
  );
  if (!m) return Number.NaN;
  const base = Number(m[1]);
  if (m[2] !== undefined) return base * 10 ** Number(m[2]);
  return base * (SUFFIX[m[3] ?? ''] as number);
}
