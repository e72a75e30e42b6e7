#!/usr/bin/env node
// `tidewatch-mixin publish [--url URL] [--folder-uid UID] [--message TEXT]
// [--datasource-uid UID] [--no-overwrite] FILE.json...` (token from GRAFANA_TOKEN).
// Exists before the build, like every bin here, and says so when dist/ is missing.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/index.js', import.meta.url);
const fail = (message) => {
  process.stderr.write(`tidewatch-mixin: ${String(message).replace(/\s*\n\s*/g, ' ')}\n`);
  process.exitCode = 1;
};
const [command, ...args] = process.argv.slice(2);
if (!existsSync(entry))
  fail('the package is not built (dist/index.js missing); run `npm run build`');
else if (command !== 'publish') {
  process.stderr.write(
    'usage: tidewatch-mixin publish [--url URL] [--folder-uid UID] [--message TEXT] [--datasource-uid UID] [--no-overwrite] FILE.json...\n',
  );
  process.exitCode = 2;
} else {
  const { runPublishCommand } = await import(entry.href);
  try {
    await runPublishCommand(args, {
      env: process.env,
      log: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (error) {
    fail(error instanceof Error ? error.message : error);
  }
}
