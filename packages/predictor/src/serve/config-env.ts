/**
 * `TIDEWATCH_*` variables the sidecar does not know. A typo in a variable name must not
 * leave a setting at its default without a word (`TIDEWATCH_SCRAPE_URL` instead of
 * `TIDEWATCH_SCRAPE_URLS`), but an unknown variable cannot be an error either: a pod's
 * environment is shared with other tidewatch components and outlives upgrades. So each is
 * reported once as a warning, with the closest known name.
 */

/** Names other tidewatch components read; the sidecar ignores them without a warning. */
const OTHER_COMPONENTS: readonly RegExp[] = [
  // @tidewatch/middleware's zero-code `register` entry (TIDEWATCH_METRICS_PORT, ...): an
  // app and its sidecar often share one env file.
  /^TIDEWATCH_METRICS_/,
  // Test tooling: where Prometheus, promtool and Chromium are found; screenshot updates.
  /^TIDEWATCH_[A-Z0-9_]+_BIN$/,
  /^TIDEWATCH_WRITE_SCREENSHOTS?$/,
];

/**
 * One warning per variable whose name starts with `TIDEWATCH_` (in any case) that is neither
 * in `known` nor read by another component:
 * `unknown variable TIDEWATCH_SCRAPE_URL ignored; did you mean TIDEWATCH_SCRAPE_URLS?`.
 * Set and empty counts as set: the name is what is wrong.
 */
export function unknownVariableWarnings(
  env: Readonly<Record<string, string | undefined>>,
  known: readonly string[],
): string[] {
  const names = new Set(known);
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || names.has(name)) continue;
    const upper = name.toUpperCase();
    if (!upper.startsWith('TIDEWATCH_') || OTHER_COMPONENTS.some((re) => re.test(name))) continue;
    const guess = closestName(upper, known);
    out.push(`unknown variable ${name} ignored${guess ? `; did you mean ${guess}?` : ''}`);
  }
  return out;
}

/**
 * The candidate closest to `name` by edit distance (ties: the first), if it is close enough
 * to be a likely typo: at most 2 edits, or a third of the length for long names. Names that
 * differ by whole `_` words at either end also count, since no small distance finds a word
 * left out or added: `TIDEWATCH_BEARER_TOKEN` for `TIDEWATCH_SOURCE_BEARER_TOKEN`,
 * `TIDEWATCH_SHUTDOWN_TIMEOUT` for `..._SECONDS`, `TIDEWATCH_CONFIG_FILE` for `TIDEWATCH_CONFIG`.
 * @param name - compared as given (the caller chooses the case).
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const tail = name.replace(/^TIDEWATCH_/, '');
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    const close =
      distance <= Math.max(2, Math.floor(tail.length / 3)) ||
      (tail.length >= 4 && candidate.endsWith(`_${tail}`)) ||
      candidate.startsWith(`${name}_`) ||
      name.startsWith(`${candidate}_`);
    if (close && (best === undefined || distance < best.distance))
      best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance (insert, delete, substitute one character). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min(substitute, (previous[j] as number) + 1, (row[j - 1] as number) + 1));
    }
    previous = row;
  }
  return previous[b.length] as number;
}
