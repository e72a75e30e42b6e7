/**
 * docs/sidecar.md documents the signals the generated dashboards and alerts query; its table
 * must list what the sidecar serves, which is the conventions' signal catalogue.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SIGNAL_KEYS, SIGNALS, signalLabelNames } from '@tidewatch/conventions';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** The signal rows of a Markdown table: `| \`tidewatch_x\` | label, label | ... |`. */
function signalRows(markdown: string): Array<[name: string, labels: string[]]> {
  return [...markdown.matchAll(/^\| `(tidewatch_[a-z0-9_]+)` \|([^|]*)\|/gm)].map((m) => [
    m[1] as string,
    (m[2] as string)
      .split(',')
      .map((l) => l.trim())
      .filter((l) => l !== ''),
  ]);
}

describe('docs/sidecar.md signal table', () => {
  const rows = signalRows(readFileSync(join(root, 'docs', 'sidecar.md'), 'utf8'));

  it('lists exactly the catalogue signals, once each, with exactly their labels', () => {
    expect(rows.map(([name]) => name).sort()).toEqual(
      SIGNAL_KEYS.map((key) => SIGNALS[key].name).sort(),
    );
    expect(Object.fromEntries(rows)).toEqual(
      Object.fromEntries(SIGNAL_KEYS.map((key) => [SIGNALS[key].name, signalLabelNames(key)])),
    );
  });

  it('reads a row with labels, one without, and ignores other tables', () => {
    expect(
      signalRows(
        [
          '| `tidewatch_forecast` | metric, horizon, quantile | p50 and p90 |',
          '| `tidewatch_forecast_age_seconds` | | absent before the first forecast |',
          '| `patch.triggerName` | `actual-load` / `tidewatch_actual_load` | ... |',
        ].join('\n'),
      ),
    ).toEqual([
      ['tidewatch_forecast', ['metric', 'horizon', 'quantile']],
      ['tidewatch_forecast_age_seconds', []],
    ]);
  });
});
