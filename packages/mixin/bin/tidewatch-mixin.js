#!/usr/bin/env node
// `tidewatch-mixin generate | publish | help` (`--help` lists every command, `--version` prints
// the package's version). Exists before the build, like every bin here, and says so when dist/
// is missing instead of failing with ERR_MODULE_NOT_FOUND.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/index.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'tidewatch-mixin: the package is not built (dist/index.js missing); run `npm run build`\n',
  );
  process.exitCode = 1;
} else {
  const { runMixinCli } = await import(entry.href);
  // exitCode, not process.exit(): stdout must be flushed completely when piped.
  process.exitCode = await runMixinCli(process.argv);
}
