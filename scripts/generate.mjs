// Writes every generated, committed artifact. `--check` compares instead of writing and
// exits 1 listing stale files (CI runs it through `npm test`).
// The mixin's files come from the same function `tidewatch-mixin generate` runs for users
// (generateMixin of the default config), written by the same syncGenerated.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCatalogMarkdown } from '@tidewatch/middleware';
import { generateMixin, syncGenerated } from '@tidewatch/mixin';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

/** path (relative to the repo root) -> content */
const outputs = new Map([['docs/metrics.md', renderCatalogMarkdown()], ...generateMixin()]);

const { written, stale } = syncGenerated(outputs, root, { check });
for (const rel of written) console.log(`wrote ${rel}`);
if (stale.length > 0) {
  console.error(`generated files are stale: ${stale.join(', ')}\nrun: npm run generate`);
  process.exit(1);
}
if (check) console.log(`generated files are up to date (${outputs.size})`);
