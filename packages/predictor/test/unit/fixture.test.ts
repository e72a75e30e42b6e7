import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The derivation script is plain ESM (it runs without a build); vitest imports it directly.
// @ts-expect-error no declaration file for the .mjs script
import { deriveFlights } from '../../scripts/derive-flights.mjs';

describe('flights fixture', () => {
  it('is exactly what scripts/derive-flights.mjs derives from vega-datasets flights-3m.parquet', async () => {
    const derived = (await deriveFlights()) as Record<string, string>;
    expect(Object.keys(derived).sort()).toEqual([
      'flights-2001-hourly.csv',
      'flights-2001-minutely.csv',
    ]);
    for (const [name, content] of Object.entries(derived)) {
      const shipped = readFileSync(
        fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url)),
        'utf8',
      );
      expect(
        shipped === content,
        `${name} differs from its derivation: run node packages/predictor/scripts/derive-flights.mjs`,
      ).toBe(true);
    }
    // 3,000,000 departures, all counted once in each resolution.
    for (const content of Object.values(derived)) {
      const total = content
        .trim()
        .split('\n')
        .slice(1)
        .reduce((s, l) => s + Number(l.split(',')[1]), 0);
      expect(total).toBe(3_000_000);
    }
  });
});
