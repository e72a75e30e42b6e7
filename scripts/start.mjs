#!/usr/bin/env node
// `npm start`: make the demo runnable, then run it in this same process.
//
// The full build (`npm run build`: tsup with type declarations, both module formats, every
// package) takes half a minute on two cores; the demo needs none of the declarations and only
// the ESM half of the packages it imports. So this builds, with esbuild in one process and in
// parallel, the ESM entries of each package the demo depends on (read from the packages' own
// tsup.config.ts, so entries, banners and splitting stay as tsup has them), and only the
// packages whose dist/ is older than their sources. A fresh clone builds in 1-3 s on two cores;
// a second start builds nothing.
//
// What this writes is a partial dist/ (no .d.ts, no .cjs). It does not fool turbo: turbo keys
// its cache on the inputs (src/**, tsup.config.ts, package.json), never on dist/, so the next
// `turbo run build` (also the first step of `npm test`) either runs tsup, which cleans dist/
// first, or restores the complete outputs from its cache over these files.
//
// Arguments are the demo's: `npm start -- --port 8080` (see `npm start -- --help`).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEMO = path.join(ROOT, 'examples', 'chat-server');
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

/** The workspace packages the demo imports, directly or through each other: name -> dir. */
function demoPackages() {
  const byName = new Map();
  const packagesDir = path.join(ROOT, 'packages');
  for (const entry of fs.readdirSync(packagesDir)) {
    const file = path.join(packagesDir, entry, 'package.json');
    if (fs.existsSync(file)) byName.set(readJson(file).name, path.join(packagesDir, entry));
  }
  const needed = new Map();
  const queue = [DEMO];
  while (queue.length > 0) {
    const pkg = readJson(path.join(queue.shift(), 'package.json'));
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) {
      const dir = byName.get(dep);
      if (dir && !needed.has(dep)) {
        needed.set(dep, dir);
        queue.push(dir);
      }
    }
  }
  return needed;
}

/** The newest modification time (ms) of a package's build inputs, as turbo.json lists them. */
function newestInput(dir) {
  let newest = 0;
  const visit = (p) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) visit(path.join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  visit(path.join(dir, 'src'));
  for (const f of fs.readdirSync(dir))
    if (/^(tsconfig.*\.json|tsup\.config\.ts|package\.json)$/.test(f)) visit(path.join(dir, f));
  return newest;
}

/** The oldest modification time (ms) of the given dist files, or -1 when one is missing. */
function oldestOutput(dir, files) {
  let oldest = Number.POSITIVE_INFINITY;
  for (const f of files) {
    const p = path.join(dir, 'dist', f);
    if (!fs.existsSync(p)) return -1;
    oldest = Math.min(oldest, fs.statSync(p).mtimeMs);
  }
  return oldest;
}

/** A package's tsup.config.ts, evaluated (it imports nothing but tsup's identity `defineConfig`). */
async function tsupConfigs(esbuild, dir) {
  const stub = {
    name: 'tsup-stub',
    setup(b) {
      b.onResolve({ filter: /^tsup$/ }, () => ({ path: 'tsup', namespace: 'tsup-stub' }));
      b.onLoad({ filter: /.*/, namespace: 'tsup-stub' }, () => ({
        contents: 'export const defineConfig = (c) => c;',
        loader: 'js',
      }));
    },
  };
  const out = await esbuild.build({
    entryPoints: [path.join(dir, 'tsup.config.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    plugins: [stub],
    logLevel: 'silent',
  });
  const code = Buffer.from(out.outputFiles[0].contents).toString('base64');
  let config = (await import(`data:text/javascript;base64,${code}`)).default;
  if (typeof config === 'function') config = await config({});
  return Array.isArray(config) ? config : [config];
}

/**
 * The ESM builds of a package's tsup configs, as esbuild options, and the files they write.
 * @param {string} esmShims - tsup's shim of `__dirname`/`__filename`, injected where `shims` is on.
 */
function esmBuilds(dir, configs, esmShims) {
  const builds = [];
  const files = [];
  for (const c of configs) {
    const formats = [c.format ?? 'cjs'].flat();
    if (!formats.includes('esm')) continue;
    const entries = Array.isArray(c.entry)
      ? Object.fromEntries(c.entry.map((e) => [path.basename(e).replace(/\.[cm]?[jt]sx?$/, ''), e]))
      : c.entry;
    for (const name of Object.keys(entries)) files.push(`${name}.js`);
    builds.push({
      absWorkingDir: dir,
      entryPoints: Object.fromEntries(
        Object.entries(entries).map(([name, file]) => [name, path.resolve(dir, file)]),
      ),
      outdir: path.join(dir, 'dist'),
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: c.target ?? 'node20',
      splitting: c.splitting ?? true,
      chunkNames: 'chunk-[hash]',
      sourcemap: c.sourcemap ?? false,
      // tsup leaves dependencies and peers to the resolver; nothing the demo builds is bundled
      // from node_modules.
      packages: 'external',
      ...(c.banner?.js ? { banner: { js: c.banner.js } } : {}),
      ...(c.shims ? { inject: [esmShims] } : {}),
      logLevel: 'error',
    });
  }
  return { builds, files };
}

async function buildForDemo() {
  const started = performance.now();
  // esbuild comes with tsup (a root devDependency): resolved from there, not hoisting.
  const tsup = createRequire(import.meta.url).resolve('tsup');
  const esbuild = createRequire(tsup)('esbuild');
  const esmShims = path.join(path.dirname(tsup), '..', 'assets', 'esm_shims.js');
  const built = [];
  try {
    await Promise.all(
      [...demoPackages()].map(async ([name, dir]) => {
        const { builds, files } = esmBuilds(dir, await tsupConfigs(esbuild, dir), esmShims);
        if (oldestOutput(dir, files) > newestInput(dir)) return;
        fs.rmSync(path.join(dir, 'dist'), { recursive: true, force: true });
        try {
          await Promise.all(builds.map((options) => esbuild.build(options)));
        } catch {
          // esbuild has printed the errors (file:line) already.
          throw new Error(`building ${name} for the demo failed (esbuild's errors above)`);
        }
        built.push(name.replace(/^@tidewatch\//, ''));
      }),
    );
  } finally {
    // esbuild's service process would keep this one alive and get the terminal's Ctrl-C too.
    await esbuild.stop?.();
  }
  if (built.length > 0) {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `built ${built.sort().join(', ')} for the demo in ${seconds} s (ESM only; \`npm run build\` makes the full build)`,
    );
  }
}

try {
  await buildForDemo();
} catch (err) {
  console.error(`npm start: ${err?.message ?? err}`);
  process.exit(1);
}
// The demo reads its flags from process.argv, which are this script's.
await import(pathToFileURL(path.join(DEMO, 'main.mjs')).href);
