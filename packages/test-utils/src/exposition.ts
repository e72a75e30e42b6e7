/**
 * Reading samples out of a Prometheus text exposition (a `/metrics` body), the small way tests
 * need: no types, no help, exact sample keys as they are written.
 */

/**
 * Every sample of a text exposition, keyed as written: `name{labels}` (or `name`) -> value.
 *
 * @param text - A `/metrics` body.
 * @returns The samples; comments and blank lines are skipped.
 */
export function parseSamples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/**
 * The sum of the samples of metric `name` whose labels include every pair of `labels`.
 *
 * @param text - A `/metrics` body.
 * @param name - The sample name, e.g. a histogram's `..._count`.
 * @param labels - Label values the sample must carry (others may be present).
 * @returns The sum; 0 when no sample matches.
 */
export function sumSamples(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' '))
      continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
