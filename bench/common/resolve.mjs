// Module resolution pinned to the repository root.
//
// bench/ is itself a workspace package (@tidewatch/bench) so that socket.io-prometheus can
// have the prom-client 14 it declares as a peer, nested in bench/node_modules. A bare
// `import('prom-client')` from any file under bench/ therefore finds prom-client 14.2.0 first,
// not the 15.x the rest of the repository (and @tidewatch/middleware) uses. Everything that
// must be the repository's copy goes through importFromRoot(); only the socket.io-prometheus
// variant resolves prom-client from the plugin's own location (see bench/sio-echo/server.mjs).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const rootRequire = createRequire(path.join(ROOT, 'package.json'));

/** import() of a CommonJS package (prom-client) as resolved from the repository root. */
export function importFromRoot(spec) {
  return import(pathToFileURL(rootRequire.resolve(spec)).href);
}

/** Version of `pkg` installed under `<dir>/node_modules` (dir relative to the root). */
export function installedVersion(pkg, dir = '.') {
  try {
    const file = path.join(ROOT, dir, 'node_modules', pkg, 'package.json');
    return JSON.parse(fs.readFileSync(file, 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

/**
 * Imports @tidewatch/middleware and one of its subpath entries (`ws`, `socket.io`, ...) for a
 * tidewatch variant: from the private copy of dist a driver passes as --tidewatch-dist (see
 * snapshotTidewatchDist in driver.mjs), else from the built package.
 * @returns [the main entry, the subpath entry]
 */
export async function importMiddleware(args, subpath) {
  const dir = args['tidewatch-dist'];
  const load = (file, spec) => import(dir ? pathToFileURL(`${dir}/${file}.js`).href : spec);
  try {
    return [
      await load('index', '@tidewatch/middleware'),
      await load(subpath, `@tidewatch/middleware/${subpath}`),
    ];
  } catch (err) {
    throw new Error(
      `the tidewatch variant needs the built package (packages/middleware/dist); run ` +
        `\`npx turbo run build\` first. Import failed: ${err?.message ?? err}`,
    );
  }
}
