/**
 * The house's walls, checked on every run: the arrows table of docs/design.md (who may import
 * whom, and what a package never imports), no import of another package's `src/` or
 * `internal/`, package.json dependencies that follow the arrows, metric names spelled only in
 * @tidewatch/conventions, and @tidewatch/forecast loading no server, scheduler, schema library
 * or Kubernetes client when imported (ESM and CommonJS).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCOPE = '@tidewatch/';

interface Pkg {
  name: string;
  short: string;
  dir: string;
  json: Record<string, any>;
}

const packages: Pkg[] = readdirSync(join(ROOT, 'packages')).map((d) => {
  const dir = join(ROOT, 'packages', d);
  const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return { name: json.name, short: json.name.slice(SCOPE.length), dir, json };
});

/** The arrows table of docs/design.md: package -> { may, never }. */
function arrows(): Map<string, { may: string[]; never: string[] }> {
  const doc = readFileSync(join(ROOT, 'docs/design.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Arrows'), doc.indexOf('### Where things go'));
  const out = new Map<string, { may: string[]; never: string[] }>();
  for (const m of section.matchAll(/^\| `(@tidewatch\/[a-z-]+)` \| ([^|]+) \| ([^|]+) \|$/gm)) {
    const list = (cell: string) =>
      cell.trim() === 'nothing' || cell.trim() === 'any package'
        ? []
        : cell.split(',').map((s) => s.trim());
    out.set(m[1] as string, { may: list(m[2] as string), never: list(m[3] as string) });
  }
  return out;
}

function filesUnder(dir: string, ext = /\.(ts|mts|cts|mjs|js)$/): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === 'node_modules' || e === 'dist') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(filesUnder(p, ext));
    else if (ext.test(e) && !e.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every module specifier of a file: imports, re-exports, dynamic imports, `import type`. */
function specifiers(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

/** The package a bare specifier names: `@scope/name` or `name`. */
function packageOf(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

const table = arrows();

describe('the arrows of docs/design.md', () => {
  it('list every package of packages/', () => {
    expect([...table.keys()].sort()).toEqual(packages.map((p) => p.name).sort());
  });

  it.each(packages.map((p) => [p.name, p] as const))('%s imports only along them', (_, pkg) => {
    const rule = table.get(pkg.name);
    if (!rule) throw new Error(`${pkg.name} is missing from the arrows table`);
    const problems: string[] = [];
    for (const file of filesUnder(join(pkg.dir, 'src'))) {
      const where = relative(ROOT, file);
      for (const spec of specifiers(file)) {
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          if (!target.startsWith(pkg.dir + sep))
            problems.push(`${where}: ${spec} reaches into another package`);
          continue;
        }
        if (spec.startsWith('node:')) continue;
        const name = packageOf(spec);
        if (name.startsWith(SCOPE) && name !== pkg.name) {
          if (!rule.may.includes(name.slice(SCOPE.length)))
            problems.push(`${where}: imports ${spec}, not an arrow of ${pkg.name}`);
          if (/\/(src|internal|dist)(\/|$)/.test(spec))
            problems.push(`${where}: imports ${spec}, another package's internals`);
        }
        if (rule.never.includes(name) || rule.never.includes(name.slice(SCOPE.length)))
          problems.push(`${where}: imports ${spec}, which ${pkg.name} never imports`);
      }
    }
    expect(problems).toEqual([]);
  });

  it.each(packages.map((p) => [p.name, p] as const))(
    '%s depends only on packages it may import',
    (_, pkg) => {
      const rule = table.get(pkg.name) as { may: string[]; never: string[] };
      const runtime = {
        ...pkg.json.dependencies,
        ...pkg.json.peerDependencies,
        ...pkg.json.optionalDependencies,
      };
      const bad = Object.keys(runtime).filter(
        (d) =>
          (d.startsWith(SCOPE) && !rule.may.includes(d.slice(SCOPE.length))) ||
          rule.never.includes(d),
      );
      expect(bad).toEqual([]);
    },
  );

  it("no test, example or benchmark reaches into a package's src/ or internal/ but its own", () => {
    const problems: string[] = [];
    const consumers = [
      ...packages.flatMap((p) => filesUnder(join(p.dir, 'test')).map((f) => [f, p.dir] as const)),
      ...['test', 'examples', 'bench', 'scripts'].flatMap((d) =>
        filesUnder(join(ROOT, d)).map((f) => [f, ''] as const),
      ),
    ];
    for (const [file, own] of consumers) {
      for (const spec of specifiers(file)) {
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          const inPackages = target.startsWith(join(ROOT, 'packages') + sep);
          if (inPackages && !(own && target.startsWith(own + sep)))
            problems.push(`${relative(ROOT, file)}: ${spec}`);
        } else if (spec.startsWith(SCOPE) && /\/(src|internal)(\/|$)/.test(spec)) {
          problems.push(`${relative(ROOT, file)}: ${spec}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

const METRIC_NAME = /\b(realtime|tidewatch)_[a-z]/;

/** String and template pieces of a TypeScript text that spell a metric name: `line: text`. */
function metricLiterals(name: string, text: string): string[] {
  const source = ts.createSourceFile(name, text, ts.ScriptTarget.Latest);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isStringLiteral(node) ||
        ts.isNoSubstitutionTemplateLiteral(node) ||
        ts.isTemplateHead(node) ||
        ts.isTemplateMiddle(node) ||
        ts.isTemplateTail(node)) &&
      METRIC_NAME.test(node.text)
    ) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
      found.push(`${line + 1}: ${JSON.stringify(node.text.slice(0, 80))}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('names live in @tidewatch/conventions', () => {
  it('the scan finds names in strings and template pieces, not in comments or regexes', () => {
    const text = [
      '// realtime_connections in a comment',
      "const a = 'tidewatch_forecast';",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal, for the scan
      'const b = `sum(${x}) + realtime_messages_total`;',
      'const c = /tidewatch_[a-z]+/;',
      "const d = 'tidewatch-model';",
    ].join('\n');
    expect(metricLiterals('probe.ts', text)).toEqual([
      '2: "tidewatch_forecast"',
      '3: ") + realtime_messages_total"',
    ]);
  });

  it('no source outside it spells a realtime_… or tidewatch_… metric name in a string', () => {
    const found: string[] = [];
    for (const pkg of packages.filter((p) => p.short !== 'conventions')) {
      for (const file of filesUnder(join(pkg.dir, 'src'), /\.ts$/)) {
        for (const hit of metricLiterals(file, readFileSync(file, 'utf8')))
          found.push(`${relative(ROOT, file)}:${hit}`);
      }
    }
    expect(found).toEqual([]);
  });
});

describe('@tidewatch/forecast is a library', () => {
  const HEAVY = ['express', 'node-cron', '@kubernetes/client-node', 'zod', 'uplot', 'commander'];

  /** The packages under node_modules that importing `spec` loads, ESM or CommonJS. */
  function loadedPackages(spec: string, mode: 'esm' | 'cjs'): string[] {
    const esm = `
      import { register } from 'node:module';
      import { MessageChannel } from 'node:worker_threads';
      const { port1, port2 } = new MessageChannel();
      const seen = new Set();
      // The hooks run on their own thread and post each URL they resolve, in order: a last
      // import of a marker tells when every URL of the real import has arrived.
      const MARKER = 'data:text/javascript,export%20default%20%22boundaries-marker%22';
      const complete = new Promise((resolve) => {
        port1.on('message', (url) => {
          if (url === MARKER) resolve();
          else seen.add(url);
        });
      });
      const hooks = 'data:text/javascript,' + encodeURIComponent(
        'let port; export function initialize(d) { port = d.port; }' +
        'export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }');
      register(hooks, { data: { port: port2 }, transferList: [port2] });
      await import(${JSON.stringify(spec)});
      await import(MARKER);
      await complete;
      port1.close();
      process.stdout.write(JSON.stringify([...seen]));`;
    const cjs = `
      require(${JSON.stringify(spec)});
      process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
    const out = execFileSync(
      process.execPath,
      mode === 'esm' ? ['--input-type=module', '-e', esm] : ['-e', cjs],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    const names = new Set<string>();
    for (const url of JSON.parse(out) as string[]) {
      // Workspace packages resolve to their real path under packages/, the rest under node_modules.
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
      const w = /\/packages\/([^/]+)\//.exec(url);
      if (m) names.add(m[1] as string);
      else if (w) names.add(SCOPE + (w[1] as string));
    }
    return [...names];
  }

  it.each(['esm', 'cjs'] as const)(
    'importing it (%s) loads none of express, node-cron, the Kubernetes client, zod, uplot, commander',
    (mode) => {
      const loaded = loadedPackages('@tidewatch/forecast', mode);
      expect(loaded).toEqual(expect.arrayContaining(['@tidewatch/forecast', 'csv-parse']));
      expect(loaded.filter((p) => HEAVY.includes(p))).toEqual([]);
    },
  );

  it('the same probe sees them in the predictor (so it can tell)', () => {
    const loaded = loadedPackages('@tidewatch/predictor', 'esm');
    expect(loaded).toEqual(expect.arrayContaining(['express', 'node-cron', 'zod']));
    // Patch mode's client is an optional peer loaded on first apply, never at import.
    expect(loaded).not.toContain('@kubernetes/client-node');
  });
});
