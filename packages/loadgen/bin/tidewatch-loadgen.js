#!/usr/bin/env node
// The installed bin. It exists before the package is built (npm links bins at install time
// only when the target file exists, and dist/ is built after `npm ci`), and it says what to
// do when the build is missing instead of failing with ERR_MODULE_NOT_FOUND.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'tidewatch-loadgen: the package is not built (dist/cli.js missing); run `npm run build`\n',
  );
  process.exitCode = 1;
} else {
  await import(cli.href);
}
