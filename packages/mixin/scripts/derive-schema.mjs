#!/usr/bin/env node
// Derives packages/mixin/schema/dashboard.schema.json from the TypeScript types of
// @grafana/schema (the dashboard model Grafana's frontend is typed with), with
// ts-json-schema-generator, as the dash/alert anchors recipe says:
//   --type Dashboard --no-type-check --additional-properties
// Additional properties stay allowed: without them even Grafana's own foundation-sdk output
// fails (plugin-specific panel options and target fields are not in the core types).
//
//   node scripts/derive-schema.mjs           write the schema (then biome-format it)
//   node scripts/derive-schema.mjs --check   exit 1 when the committed schema is stale
//   node scripts/derive-schema.mjs --stdout  print it (the unit test compares this)
// The comparison is on the parsed JSON: the file's whitespace belongs to the repository's
// formatter (biome), which `biome ci` enforces on it.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { createGenerator } from 'ts-json-schema-generator';

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, '..', 'schema', 'dashboard.schema.json');
const require = createRequire(import.meta.url);

/** The schema text (2-space JSON with a trailing newline), derived afresh. */
export function deriveDashboardSchema() {
  const pkgFile = require.resolve('@grafana/schema/package.json');
  const { version } = JSON.parse(readFileSync(pkgFile, 'utf8'));
  const path = join(dirname(pkgFile), 'dist/types/raw/dashboard/x/types.gen.d.ts');
  const schema = createGenerator({
    additionalProperties: true,
    path,
    skipTypeCheck: true,
    type: 'Dashboard',
  }).createSchema('Dashboard');
  const out = {
    $comment: `Derived from @grafana/schema ${version} (dist/types/raw/dashboard/x/types.gen.d.ts, type Dashboard) by packages/mixin/scripts/derive-schema.mjs with ts-json-schema-generator. Do not edit.`,
    ...schema,
  };
  // Keys sorted, as the ts-json-schema-generator CLI writes them (so the file equals the
  // CLI recipe's output plus the $comment) and independent of the generator's traversal order.
  return `${JSON.stringify(sortKeys(out), null, 2)}\n`;
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys(value[k])]),
    );
  return value;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = deriveDashboardSchema();
  if (process.argv.includes('--stdout')) process.stdout.write(text);
  else if (process.argv.includes('--check')) {
    let current = null;
    try {
      current = JSON.parse(readFileSync(target, 'utf8'));
    } catch {}
    if (!isDeepStrictEqual(current, JSON.parse(text))) {
      console.error(`${target} is stale: run node packages/mixin/scripts/derive-schema.mjs`);
      process.exit(1);
    }
    console.log('dashboard schema is up to date');
  } else {
    writeFileSync(target, text);
    console.log(`wrote ${target}`);
    formatWithBiome(target);
  }
}

/** Formats the written file as `biome ci` expects; a missing biome only costs a warning. */
function formatWithBiome(file) {
  let bin;
  try {
    bin = require.resolve('@biomejs/biome/bin/biome');
  } catch {
    console.warn('biome not found: format the schema before committing (npm run format)');
    return;
  }
  const r = spawnSync(process.execPath, [bin, 'format', '--write', file], { encoding: 'utf8' });
  if (r.status !== 0) console.warn(`biome format failed (${r.status}): ${r.stderr || r.stdout}`);
}
