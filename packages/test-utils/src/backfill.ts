import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promtool } from './promtool.js';

/**
 * Writes `text` (the OpenMetrics text format; `# EOF` is appended when missing) to
 * `dir/backfill.om` and turns it into TSDB blocks under `dataDir` with
 * `promtool tsdb create-blocks-from openmetrics`, so a Prometheus started on `dataDir` serves it.
 *
 * @param text - `# TYPE name gauge` and `name{labels} value unix_seconds` lines.
 * @param dir - A scratch dir for the input file.
 * @param dataDir - The TSDB directory (created if needed).
 * @throws Error with promtool's output when it fails (bad syntax, unordered samples, ...).
 */
export async function backfillOpenMetrics(
  text: string,
  dir: string,
  dataDir: string,
): Promise<void> {
  const file = join(dir, 'backfill.om');
  await writeFile(file, /# EOF\s*$/.test(text) ? text : `${text.replace(/\n?$/, '\n')}# EOF\n`);
  const result = await promtool(['tsdb', 'create-blocks-from', 'openmetrics', file, dataDir], {
    timeoutMs: 120_000,
  });
  if (result.code !== 0) {
    const output = (result.stderr || result.stdout).trimEnd().split('\n').slice(-20).join('\n    ');
    throw new Error(
      `promtool could not turn the OpenMetrics text into blocks (exit ${result.code}):\n    ${output}`,
    );
  }
}
