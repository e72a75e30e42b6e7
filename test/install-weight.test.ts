/**
 * Install weight, kept: what a user's `npm install` of each public package brings, read from
 * the packages' package.json files and the root lockfile (no install, no network), and the
 * optional peers a package can do without, proved by loading the built package in an app
 * directory where they are missing. `bench/install-weight/run.mjs` measures the real installs
 * from `npm pack`; this test keeps the shape from regressing.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCOPE = '@tidewatch/';

type Json = Record<string, any>;
const readJson = (file: string): Json => JSON.parse(readFileSync(file, 'utf8'));
const lock = readJson(join(ROOT, 'package-lock.json')).packages as Record<string, Json>;
const workspace = new Map<string, Json>();
for (const dir of readdirSync(join(ROOT, 'packages'))) {
  const json = readJson(join(ROOT, 'packages', dir, 'package.json'));
  workspace.set(json.name, json);
}
const published = [...workspace.values()].filter((p) => !p.private).map((p) => p.name as string);

/** What npm installs for a package.json: dependencies, optional ones, required peers. */
function installedNames(json: Json): string[] {
  const optionalPeers = new Set(
    Object.entries(json.peerDependenciesMeta ?? {})
      .filter(([, meta]) => (meta as Json)?.optional)
      .map(([name]) => name),
  );
  return [
    ...Object.keys(json.dependencies ?? {}),
    ...Object.keys(json.optionalDependencies ?? {}),
    ...Object.keys(json.peerDependencies ?? {}).filter((name) => !optionalPeers.has(name)),
  ];
}

/**
 * Every package name `npm install <name>` would put in a fresh app's node_modules: our
 * packages from their package.json (as packed), third-party ones from the root lockfile's
 * hoisted entries. Names only: a nested second version of a package counts as the same name.
 */
function installClosure(name: string): Set<string> {
  const seen = new Set<string>();
  const queue = [name];
  while (queue.length > 0) {
    const next = queue.shift() as string;
    if (seen.has(next)) continue;
    seen.add(next);
    const json = workspace.get(next) ?? lock[`node_modules/${next}`];
    if (!json) throw new Error(`${next} is neither a workspace package nor in package-lock.json`);
    queue.push(...installedNames(json));
  }
  return seen;
}

describe('what npm install brings (package.json files and the lockfile)', () => {
  it('lists every public package', () => {
    expect(published.sort()).toEqual(
      [
        '@tidewatch/conventions',
        '@tidewatch/forecast',
        '@tidewatch/loadgen',
        '@tidewatch/middleware',
        '@tidewatch/mixin',
        '@tidewatch/predictor',
      ].sort(),
    );
  });

  it.each(published)('%s alone installs no Kubernetes client', (name) => {
    expect([...installClosure(name)].filter((n) => n.startsWith('@kubernetes/'))).toEqual([]);
  });

  it('@tidewatch/forecast alone installs neither brain.js nor gpu.js and its webgpu', () => {
    const closure = installClosure('@tidewatch/forecast');
    expect(['brain.js', 'gpu.js', 'webgpu', 'gl'].filter((n) => closure.has(n))).toEqual([]);
    // The LSTM stays one install away: both are optional peers with the versions it runs on.
    const forecast = workspace.get('@tidewatch/forecast') as Json;
    expect(forecast.peerDependencies).toEqual({ 'brain.js': '2.0.0-beta.24', 'gpu.js': '^2.24.1' });
    expect(forecast.peerDependenciesMeta).toEqual({
      'brain.js': { optional: true },
      'gpu.js': { optional: true },
    });
  });

  it('the sidecar keeps the LSTM: @tidewatch/predictor installs brain.js and gpu.js', () => {
    const closure = installClosure('@tidewatch/predictor');
    expect(['brain.js', 'gpu.js'].filter((n) => closure.has(n))).toEqual(['brain.js', 'gpu.js']);
  });

  it('the load generator (a trace parser from forecast) installs no brain.js', () => {
    expect(installClosure('@tidewatch/loadgen').has('brain.js')).toBe(false);
  });
});

// An app directory whose node_modules links every package the repository installed except
// `missing`, with `copied` workspace packages copied in (so their bare imports resolve from
// the app, not from the repository's node_modules) and the other workspace packages linked.
const apps: string[] = [];
afterAll(() => {
  for (const dir of apps) rmSync(dir, { recursive: true, force: true });
});

function appWithout(missing: string[], copied: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tidewatch-weight-test-'));
  apps.push(dir);
  const nm = join(dir, 'node_modules');
  const rootNm = join(ROOT, 'node_modules');
  const names: string[] = [];
  for (const entry of readdirSync(rootNm)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@'))
      for (const sub of readdirSync(join(rootNm, entry))) names.push(`${entry}/${sub}`);
    else names.push(entry);
  }
  for (const name of names) {
    if (missing.some((m) => name === m || name.startsWith(`${m}/`))) continue;
    const target = workspace.has(name)
      ? join(ROOT, 'packages', name.slice(SCOPE.length))
      : join(rootNm, name);
    mkdirSync(dirname(join(nm, name)), { recursive: true });
    if (copied.includes(name)) {
      for (const part of ['package.json', 'dist', 'bin'])
        if (existsSync(join(target, part)))
          cpSync(join(target, part), join(nm, name, part), { recursive: true });
    } else symlinkSync(target, join(nm, name), 'dir');
  }
  return dir;
}

/** Runs an ES module script in `dir`; its stdout parsed as JSON. */
function runIn(dir: string, script: string): Json {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(out);
}

describe('optional peers are optional', () => {
  it('@tidewatch/forecast without brain.js: every other model, and the LSTM names its install', () => {
    const dir = appWithout(['brain.js', 'gpu.js', 'webgpu'], ['@tidewatch/forecast']);
    const result = runIn(
      dir,
      `
      import * as f from '@tidewatch/forecast';
      const out = { available: f.lstmAvailable(), names: f.availableModelNames(), all: f.MODEL_NAMES };
      // A week of hourly points: the default model set fits and forecasts without the LSTM.
      const values = Float64Array.from({ length: 24 * 14 }, (_, i) => 100 + 50 * Math.sin((2 * Math.PI * i) / 24));
      const series = { startMs: Date.UTC(2026, 0, 5), stepMs: 3_600_000, values };
      out.fitted = f.createModels().map((m) => m.name);
      out.forecast = f.forecast(series, { horizon: 6 }).forecast.length;
      for (const names of [['lstm'], ['ensemble:holt-winters+seasonal-profile+lstm']]) {
        try { f.createModels(names); out.error = 'none'; } catch (e) { (out.errors ??= []).push(e.message); }
      }
      process.stdout.write(JSON.stringify(out));`,
    );
    expect(result.available).toBe(false);
    expect(result.all).toContain('lstm');
    expect(result.names).toEqual([
      'naive',
      'seasonal-naive-daily',
      'seasonal-naive-weekly',
      'holt-winters',
      'seasonal-profile',
      'ensemble:holt-winters+seasonal-profile',
      'mstl',
      'ensemble:mstl+seasonal-profile',
    ]);
    expect(result.fitted).toEqual(result.names);
    expect(result.forecast).toBe(6);
    const message =
      'the lstm model needs the optional peer dependencies brain.js and gpu.js: npm install brain.js@2.0.0-beta.24 gpu.js@^2.24.1';
    expect(result.errors).toEqual([message, message]);
  });

  it('@tidewatch/forecast with brain.js (the repository) has the LSTM', () => {
    const result = runIn(
      ROOT,
      `
      import * as f from '@tidewatch/forecast';
      process.stdout.write(JSON.stringify({ available: f.lstmAvailable(), names: f.availableModelNames() }));`,
    );
    expect(result).toEqual({
      available: true,
      names: [
        'naive',
        'seasonal-naive-daily',
        'seasonal-naive-weekly',
        'holt-winters',
        'seasonal-profile',
        'lstm',
        'ensemble:holt-winters+seasonal-profile',
        'ensemble:holt-winters+seasonal-profile+lstm',
        'mstl',
        'ensemble:mstl+seasonal-profile',
      ],
    });
  });

  it('@tidewatch/predictor without @kubernetes/client-node: patch mode says what to install', () => {
    const dir = appWithout(['@kubernetes'], ['@tidewatch/predictor']);
    const result = runIn(
      dir,
      `
      import { createPatcher } from '@tidewatch/predictor';
      const patcher = createPatcher({ kind: 'scaledobject', namespace: 'realtime', name: 'realtime-server' });
      process.stdout.write(JSON.stringify(await patcher.apply(120)));`,
    );
    expect(result).toEqual({
      status: 'failed',
      value: 120,
      step: 'load',
      message:
        'cannot load @kubernetes/client-node or the kubeconfig: patch mode needs the optional peer dependency @kubernetes/client-node: npm install @kubernetes/client-node',
    });
  });
});
