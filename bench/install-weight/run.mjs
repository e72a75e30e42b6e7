// Install weight: what a user's fresh app carries in node_modules after installing one public
// @tidewatch package. Each public package is packed with `npm pack` (from its built dist/),
// then, per package, a new app directory outside the repository installs that tarball plus
// the tarballs of the @tidewatch packages it depends on (so none of ours comes from the
// registry), with plain `npm install --no-audit --no-fund` as a user would run it: npm 7+
// adds the required peers itself (e.g. prom-client and @opentelemetry/api for the
// middleware). Reported: `du -sb node_modules`, the number of packages, and the five biggest
// packages with the dependency path that brought each. Optional extras (the LSTM's brain.js,
// patch mode's Kubernetes client) are measured as their own rows when the package declares
// them as optional peers.
//
//   node bench/install-weight/run.mjs [--write-docs] [--out FILE] [--before FILE]
//        [--only forecast,predictor] [--keep]
//   node bench/install-weight/run.mjs --render FILE [--before FILE] [--write-docs]   (no run)
//
// Needs the packages built (`npm run build`); needs the npm registry for third-party packages.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../common/resolve.mjs';
import { parseArgs } from '../common/util.mjs';

const HELP = `node bench/install-weight/run.mjs [flags]
  --out FILE      results JSON (default bench/results/install-weight.json)
  --before FILE   a previous run's JSON, shown beside this one (bench/install-weight/before.json:
                  the tree before issue 18's changes)
  --write-docs    rewrite the install-weight section of docs/benchmarks.md
  --docs FILE     markdown file --write-docs rewrites (default docs/benchmarks.md)
  --only LIST     short package names to measure (default every public package)
  --keep          keep the temporary directory (its path is printed)
  --render FILE   no run: the section from a saved results JSON`;

const args = parseArgs(process.argv.slice(2));
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
const cfg = {
  out: path.resolve(ROOT, args.out ?? 'bench/results/install-weight.json'),
  before: args.before ? path.resolve(ROOT, args.before) : undefined,
  docs: path.resolve(ROOT, args.docs ?? 'docs/benchmarks.md'),
  writeDocs: args['write-docs'] === true,
  only: typeof args.only === 'string' ? new Set(args.only.split(',')) : undefined,
  keep: args.keep === true,
  render: args.render ? path.resolve(ROOT, args.render) : undefined,
};

/** Table order: the library a server adds first, then the forecasting stack, then tools. */
const ORDER = ['conventions', 'middleware', 'forecast', 'loadgen', 'predictor', 'mixin'];
/**
 * Extras a user adds to enable one feature, measured as their own row when the package
 * declares every name as an optional peer (otherwise the default install has them already).
 */
const EXTRAS = {
  forecast: { label: 'with the LSTM', names: ['brain.js', 'gpu.js'] },
  predictor: { label: 'with patch mode', names: ['@kubernetes/client-node'] },
};
const MIB = 1024 * 1024;

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Public workspace packages by short name (directory under packages/). */
function publicPackages() {
  const out = new Map();
  for (const dir of fs.readdirSync(path.join(ROOT, 'packages'))) {
    const file = path.join(ROOT, 'packages', dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = readJson(file);
    if (pkg.private) continue;
    out.set(dir, { dir: path.join(ROOT, 'packages', dir), pkg });
  }
  for (const name of out.keys())
    if (!ORDER.includes(name)) throw new Error(`public package ${name} is missing from ORDER`);
  return out;
}

/** Names of required (non-optional) dependencies and peers of a package.json. */
function requiredNames(pkg) {
  const optionalPeers = new Set(
    Object.entries(pkg.peerDependenciesMeta ?? {})
      .filter(([, meta]) => meta?.optional)
      .map(([name]) => name),
  );
  return [
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}).filter((n) => !optionalPeers.has(n)),
  ];
}

/** The @tidewatch packages `short` needs at install time, itself included (short names). */
function internalClosure(short, pkgs) {
  const seen = new Set();
  const visit = (s) => {
    if (seen.has(s)) return;
    seen.add(s);
    for (const name of requiredNames(pkgs.get(s).pkg)) {
      if (!name.startsWith('@tidewatch/')) continue;
      const dep = name.slice('@tidewatch/'.length);
      if (!pkgs.has(dep)) throw new Error(`${short} depends on unpublished ${name}`);
      visit(dep);
    }
  };
  visit(short);
  return [...seen];
}

function run(cmd, argv, cwd) {
  return execFileSync(cmd, argv, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * MIB,
  });
}

/** `du -sb` of several paths at once: Map path -> bytes. */
function duBytes(paths) {
  const out = new Map();
  if (paths.length === 0) return out;
  for (const line of run('du', ['-sb', ...paths], ROOT)
    .trim()
    .split('\n')) {
    const tab = line.indexOf('\t');
    out.set(line.slice(tab + 1), Number(line.slice(0, tab)));
  }
  return out;
}

/** Top-level package directories of a node_modules (scoped ones as @scope/name). */
function topLevelPackages(nm) {
  const out = [];
  for (const entry of fs.readdirSync(nm)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      for (const sub of fs.readdirSync(path.join(nm, entry))) out.push(`${entry}/${sub}`);
    } else out.push(entry);
  }
  return out;
}

/**
 * For every installed top-level package, the first dependency path from the app that brought
 * it (breadth-first over npm's hidden lockfile, so the shortest path): Map name -> [names].
 */
function whyPaths(appDir) {
  const lock = readJson(path.join(appDir, 'node_modules/.package-lock.json'));
  const entries = lock.packages ?? {};
  const depsOf = (key) => {
    const e = entries[key] ?? {};
    const optionalPeers = new Set(
      Object.entries(e.peerDependenciesMeta ?? {})
        .filter(([, m]) => m?.optional)
        .map(([n]) => n),
    );
    return [
      ...Object.keys(e.dependencies ?? {}),
      ...Object.keys(e.optionalDependencies ?? {}),
      ...Object.keys(e.peerDependencies ?? {}).filter((n) => !optionalPeers.has(n)),
    ];
  };
  const rootDeps = Object.keys(readJson(path.join(appDir, 'package.json')).dependencies);
  const via = new Map(rootDeps.map((n) => [n, [n]]));
  const queue = [...rootDeps];
  for (let i = 0; i < queue.length; i++) {
    const name = queue[i];
    for (const dep of depsOf(`node_modules/${name}`)) {
      if (via.has(dep) || !entries[`node_modules/${dep}`]) continue;
      via.set(dep, [...via.get(name), dep]);
      queue.push(dep);
    }
  }
  return via;
}

/** Installs `deps` (name -> spec) into a fresh app directory; returns its measurements. */
function measureApp(appDir, deps) {
  fs.mkdirSync(appDir, { recursive: true });
  fs.writeFileSync(
    path.join(appDir, 'package.json'),
    `${JSON.stringify({ name: path.basename(appDir), version: '0.0.0', private: true, dependencies: deps }, null, 2)}\n`,
  );
  const started = Date.now();
  run('npm', ['install', '--no-audit', '--no-fund'], appDir);
  const installSeconds = (Date.now() - started) / 1000;
  const nm = path.join(appDir, 'node_modules');
  const names = topLevelPackages(nm);
  // Two calls: du counts a directory once, so the packages inside node_modules would be
  // skipped after node_modules itself.
  const sizes = duBytes(names.map((n) => path.join(nm, n)));
  const total = duBytes([nm]).get(nm);
  const lock = readJson(path.join(nm, '.package-lock.json'));
  const packages = Object.entries(lock.packages ?? {}).filter(
    ([key, e]) => key.startsWith('node_modules/') && !e.link,
  ).length;
  const via = whyPaths(appDir);
  const top = names
    .map((name) => ({
      name,
      bytes: sizes.get(path.join(nm, name)),
      via: via.get(name) ?? [name],
    }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 5);
  return {
    bytes: total,
    packages,
    kubernetes: names.filter((n) => n.startsWith('@kubernetes/')),
    top,
    installSeconds,
  };
}

async function measure() {
  const pkgs = publicPackages();
  const shorts = ORDER.filter((s) => pkgs.has(s) && (!cfg.only || cfg.only.has(s)));
  for (const s of cfg.only ?? []) if (!pkgs.has(s)) throw new Error(`--only: no package ${s}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tidewatch-install-weight-'));
  const tarDir = path.join(tmp, 'tarballs');
  fs.mkdirSync(tarDir);
  try {
    // Pack every package the selected ones need (dist/ must exist: npm pack would ship none).
    const needed = new Set(shorts.flatMap((s) => internalClosure(s, pkgs)));
    const tarballs = new Map();
    for (const s of ORDER.filter((x) => needed.has(x))) {
      const { dir, pkg } = pkgs.get(s);
      if (!fs.existsSync(path.join(dir, 'dist')))
        throw new Error(`${pkg.name} is not built (no ${dir}/dist): run npm run build first`);
      const [info] = JSON.parse(
        run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tarDir], dir),
      );
      tarballs.set(s, { file: path.join(tarDir, info.filename), size: info.size });
      console.error(`packed ${info.filename} (${(info.size / 1024).toFixed(0)} KiB)`);
    }
    const rows = [];
    for (const s of shorts) {
      const { pkg } = pkgs.get(s);
      const deps = Object.fromEntries(
        internalClosure(s, pkgs).map((d) => [pkgs.get(d).pkg.name, `file:${tarballs.get(d).file}`]),
      );
      const variants = [{ label: 'default', extra: {} }];
      const extra = EXTRAS[s];
      const optionalPeers = pkg.peerDependenciesMeta ?? {};
      if (extra?.names.every((n) => optionalPeers[n]?.optional && pkg.peerDependencies?.[n]))
        variants.push({
          label: extra.label,
          extra: Object.fromEntries(extra.names.map((n) => [n, pkg.peerDependencies[n]])),
        });
      for (const v of variants) {
        const appDir = path.join(tmp, `app-${s}${v.label === 'default' ? '' : '-extra'}`);
        console.error(`installing ${pkg.name} (${v.label}) in ${appDir}`);
        const m = measureApp(appDir, { ...deps, ...v.extra });
        rows.push({
          package: pkg.name,
          variant: v.label,
          command: `npm install ${[pkg.name, ...Object.entries(v.extra).map(([n, r]) => `${n}@${r}`)].join(' ')}`,
          tarballBytes: tarballs.get(s).size,
          ...m,
        });
        console.error(
          `  ${(m.bytes / MIB).toFixed(1)} MiB, ${m.packages} packages, ${m.installSeconds.toFixed(0)} s`,
        );
      }
    }
    return {
      date: new Date().toISOString(),
      node: process.version,
      npm: run('npm', ['--version'], tmp).trim(),
      platform: `${os.platform()}-${os.arch()}`,
      rows,
    };
  } finally {
    if (cfg.keep) console.error(`kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const mib = (bytes) => (bytes / MIB).toFixed(1);
const rowKey = (r) => `${r.package} ${r.variant}`;

function render(results, before) {
  const prior = new Map((before?.rows ?? []).map((r) => [rowKey(r), r]));
  const lines = [
    `Run ${results.date.slice(0, 10)} on ${results.platform}, Node ${results.node}, npm ${results.npm}${before ? `; before: run ${before.date.slice(0, 10)}` : ''}. Reproduce: \`npm run build && node bench/install-weight/run.mjs${before ? ` --before ${path.relative(ROOT, cfg.before)}` : ''} --write-docs\`.`,
    '',
    'Each public package is packed with `npm pack` and installed into a fresh app outside the repository with `npm install --no-audit --no-fund`, together with the tarballs of the @tidewatch packages it depends on; npm adds the required peers itself. Size is the apparent size, `du -sb node_modules`, in MiB (`du -sh` counts disk blocks and prints a few per cent more). "with ..." rows add the optional peers that feature needs.',
    '',
    before
      ? '| package | install | before | after | change | packages (before → after) | biggest in node_modules (after) |'
      : '| package | install | node_modules | packages | biggest in node_modules |',
    before ? '|---|---|---|---|---|---|---|' : '|---|---|---|---|---|',
  ];
  for (const r of results.rows) {
    const top = r.top
      .map(
        (t) =>
          `${t.name} ${mib(t.bytes)}${t.via.length > 1 ? ` (${t.via.slice(0, -1).join(' → ')})` : ''}`,
      )
      .join('; ');
    const what = r.variant === 'default' ? `\`${r.package}\`` : `\`${r.package}\` ${r.variant}`;
    const b = prior.get(rowKey(r));
    if (before) {
      const change = b ? `${(((r.bytes - b.bytes) / b.bytes) * 100).toFixed(0)} %` : 'new';
      lines.push(
        `| ${what} | \`${r.command}\` | ${b ? mib(b.bytes) : '—'} | **${mib(r.bytes)}** | ${change} | ${b ? b.packages : '—'} → ${r.packages} | ${top} |`,
      );
    } else {
      lines.push(`| ${what} | \`${r.command}\` | **${mib(r.bytes)}** | ${r.packages} | ${top} |`);
    }
  }
  const sum = (rows) =>
    rows.filter((r) => r.variant === 'default').reduce((a, r) => a + r.bytes, 0);
  const defaults = results.rows.filter((r) => r.variant === 'default');
  const priorDefaults = defaults.map((r) => prior.get(rowKey(r))).filter(Boolean);
  lines.push(
    '',
    before && priorDefaults.length === defaults.length
      ? `The ${defaults.length} default installs together: ${mib(sum(priorDefaults))} MiB before, **${mib(sum(defaults))} MiB** after.`
      : `The ${defaults.length} default installs together: **${mib(sum(defaults))} MiB**.`,
  );
  const kube = results.rows.filter((r) => r.variant === 'default' && r.kubernetes.length > 0);
  lines.push(
    '',
    kube.length === 0
      ? 'No default install brings a Kubernetes client (`@kubernetes/*`).'
      : `Default installs that bring a Kubernetes client: ${kube.map((r) => `${r.package} (${r.kubernetes.join(', ')})`).join('; ')}.`,
  );
  return lines.join('\n');
}

function writeDocs(section) {
  const [a, b] = ['<!-- install-weight:start -->', '<!-- install-weight:end -->'];
  let text = fs.readFileSync(cfg.docs, 'utf8');
  if (!text.includes(a)) text = `${text.trimEnd()}\n\n## install weight\n\n${a}\n${b}\n`;
  text = `${text.slice(0, text.indexOf(a) + a.length)}\n${section}\n${text.slice(text.indexOf(b))}`;
  fs.writeFileSync(cfg.docs, text);
  console.error(`wrote ${path.relative(ROOT, cfg.docs)} (install-weight)`);
}

const results = cfg.render ? readJson(cfg.render) : await measure();
if (!cfg.render) {
  fs.mkdirSync(path.dirname(cfg.out), { recursive: true });
  fs.writeFileSync(cfg.out, `${JSON.stringify(results, null, 2)}\n`);
  console.error(`wrote ${path.relative(ROOT, cfg.out)}`);
}
const section = render(results, cfg.before ? readJson(cfg.before) : undefined);
console.log(section);
if (cfg.writeDocs) writeDocs(section);
