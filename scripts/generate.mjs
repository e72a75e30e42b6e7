// Writes every generated, committed artifact. `--check` compares instead of writing and
// exits 1 listing stale files (CI runs it through `npm test`).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCatalogMarkdown } from '@tidewatch/middleware';
import {
  DEFAULT_CONFIG,
  generateDashboards,
  generateDeployFiles,
  generateRules,
} from '@tidewatch/mixin';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

/** path (relative to the repo root) -> content */
const outputs = new Map([
  ['docs/metrics.md', renderCatalogMarkdown()],
  ...generateDashboards(DEFAULT_CONFIG),
  ...generateRules(DEFAULT_CONFIG),
  ...generateDeployFiles(),
]);

const stale = [];
for (const [rel, content] of outputs) {
  const file = join(root, rel);
  let current = null;
  try {
    current = readFileSync(file, 'utf8');
  } catch {}
  if (current === content) continue;
  if (check) stale.push(rel);
  else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    console.log(`wrote ${rel}`);
  }
}
if (stale.length > 0) {
  console.error(`generated files are stale: ${stale.join(', ')}\nrun: npm run generate`);
  process.exit(1);
}
if (check) console.log(`generated files are up to date (${outputs.size})`);
