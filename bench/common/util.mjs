// Helpers shared by every benchmark's driver, servers and clients. Kept dependency-free so
// that every process pays the same (tiny) import cost regardless of variant.

/**
 * Parses `--key value`, `--key=value` and bare `--flag` into an object. Numbers stay strings
 * here; callers convert, so a typo like `--rounds x` fails loudly in `num()`.
 */
export function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    if (eq !== -1) {
      out[a.slice(2, eq)] = a.slice(eq + 1);
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      out[a.slice(2)] = argv[++i];
    } else {
      out[a.slice(2)] = true;
    }
  }
  return out;
}

export function num(args, key, def, { min = 0, integer = false } = {}) {
  const raw = args[key];
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new Error(
      `--${key} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${raw}`,
    );
  }
  return n;
}

export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export function minMax(xs) {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return [Number.NaN, Number.NaN];
  return [Math.min(...v), Math.max(...v)];
}

/**
 * Sum of the samples of one Prometheus text-format metric whose label set contains `needle`
 * (e.g. `direction="in"`; '' matches every sample). A regex-free scan of the exposition is
 * enough here because we control or know every metric name and the values are plain
 * numbers; it also reads exactly the text a real scraper would, rather than a client
 * library's internal objects. NaN when no sample matched.
 */
export function sumPromText(text, name, needle = '') {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!(line.startsWith(`${name}{`) || line.startsWith(`${name} `))) continue;
    if (needle && !line.includes(needle)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) {
      sum += value;
      found = true;
    }
  }
  return found ? sum : Number.NaN;
}

/** Nearest-rank percentile of an ascending-sorted array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, idx)];
}

/**
 * Calls `probe` every `intervalMs` until `predicate` accepts its value or `timeoutMs` has
 * passed, and resolves with the last value either way: the caller checks it and reports what
 * it saw (e.g. a server's open sockets after the clients closed theirs).
 */
export async function pollFor(probe, predicate, { timeoutMs, intervalMs = 100 }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (predicate(value) || Date.now() >= deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
