/**
 * Renders the alert annotation templates the way Prometheus 2.42 does, for the `exp_annotations`
 * of the generated promtool tests. Only the forms the alerts use are supported
 * (`{{ $labels.x }}`, `{{ $value }}` and `{{ $value | humanize }}`, `humanizePercentage`,
 * `humanizeDuration`); anything else throws, so an annotation cannot silently go untested.
 */

/** Go's `fmt.Sprintf("%.<prec>g", x)` (shortest of %e/%f, trailing zeros dropped). */
export function goG(x: number, prec = 4): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  if (x === 0) return '0';
  // JavaScript rounds an exact tie up, Go to even: 12345 at 4 digits is 1.234e+04 in Go.
  const wide = Math.abs(x).toExponential(20);
  const digits = wide.replace(/^(\d)\.(\d+)e.*$/, '$1$2');
  const tie = /^50*$/.test(digits.slice(prec)) && Number(digits[prec - 1]) % 2 === 0;
  const rounded = tie
    ? Math.sign(x) * Number(`${digits.slice(0, prec)}e${Number(wide.split('e')[1]) - prec + 1}`)
    : x;
  return formatG(rounded, prec);
}

/** `%.<prec>g` for a value already rounded as Go would (no ties left). */
function formatG(x: number, prec: number): string {
  const [mantissa = '', expText = '0'] = x.toExponential(prec - 1).split('e');
  const exp = Number(expText);
  const trim = (s: string) => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (exp < -4 || exp >= prec) {
    const sign = exp < 0 ? '-' : '+';
    return `${trim(mantissa)}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return trim(x.toFixed(Math.max(0, prec - 1 - exp)));
}

/** Prometheus' `humanize`: SI prefixes, 4 significant digits. */
export function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return goG(v);
  let x = v;
  let prefix = '';
  if (Math.abs(x) >= 1) {
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(x) < 1000) break;
      prefix = p;
      x /= 1000;
    }
  } else {
    for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
      if (Math.abs(x) >= 1) break;
      prefix = p;
      x *= 1000;
    }
  }
  return `${goG(x)}${prefix}`;
}

/** Prometheus' `humanizePercentage`: a ratio as `12.34%`. */
export function humanizePercentage(v: number): string {
  return `${goG(v * 100)}%`;
}

/** Prometheus' `humanizeDuration`, for values below one minute (the ones the alerts show). */
export function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return goG(v);
  if (v === 0) return '0s';
  if (Math.abs(v) >= 60)
    throw new RangeError(`humanizeDuration: ${v} s is outside the ported range`);
  if (Math.abs(v) >= 1) return `${goG(v)}s`;
  let x = v;
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(x) >= 1) break;
    prefix = p;
    x *= 1000;
  }
  return `${goG(x)}${prefix}s`;
}

/** Go's default formatting of a float64 (`{{ $value }}`): shortest representation. */
export function goFloat(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return String(v);
  const s = String(v);
  // JavaScript writes 1e-7 and 1e+21; Go writes 1e-07 and 1e+21.
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

const FILTERS: Readonly<Record<string, (v: number) => string>> = {
  humanize,
  humanizeDuration,
  humanizePercentage,
};

/**
 * Renders an annotation template with an alert's labels and value.
 * @throws Error for a template construct this renderer does not know, or a missing label.
 */
export function renderTemplate(
  template: string,
  labels: Readonly<Record<string, string>>,
  value: number,
): string {
  return template.replace(/\{\{\s*(.*?)\s*\}\}/g, (_, inner: string) => {
    const label = /^\$labels\.(\w+)$/.exec(inner);
    if (label) {
      const v = labels[label[1] as string];
      if (v === undefined)
        throw new Error(`template uses $labels.${label[1]}, which the alert has not`);
      return v;
    }
    if (inner === '$value') return goFloat(value);
    const piped = /^\$value \| (\w+)$/.exec(inner);
    const fn = piped ? FILTERS[piped[1] as string] : undefined;
    if (!fn) throw new Error(`renderTemplate: unsupported template {{ ${inner} }}`);
    return fn(value);
  });
}
