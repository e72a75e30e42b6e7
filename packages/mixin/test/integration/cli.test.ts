/**
 * The `tidewatch-mixin` bin as users run it (bin/tidewatch-mixin.js loading dist/; needs
 * `npx tsup` in packages/mixin first): --version, --help, and `generate` from JSON and
 * JavaScript configs into a temp dir, compared with the repository's committed files.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promtool, runCli } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMixin } from '../../src/generate.js';

const BIN = fileURLToPath(new URL('../../bin/tidewatch-mixin.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const dir = mkdtempSync(join(tmpdir(), 'tw-mixin-cli-'));
const mixin = (...args: string[]) => runCli(BIN, args);

beforeAll(() => {
  if (!existsSync(new URL('../../dist/index.js', import.meta.url)))
    throw new Error('packages/mixin/dist/index.js is missing: run `npx tsup` in packages/mixin');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every file under `root`, relative, sorted. */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }))
      e.isDirectory() ? walk(join(d, e.name)) : out.push(relative(root, join(d, e.name)));
  };
  walk(root);
  return out.sort();
}
const read = (root: string, rel: string) => readFileSync(join(root, rel), 'utf8');
const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

/** The file set of every generate run: what the repository commits from the mixin. */
const FILES = [...generateMixin().keys()].sort();

describe('tidewatch-mixin', () => {
  it.each([['--version'], ['-V']])('%s prints the package.json version', async (flag) => {
    expect(await mixin(flag)).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/);
  });

  it('--help lists every command; help generate and generate --help show its options', async () => {
    const help = await mixin('--help');
    expect(help.code).toBe(0);
    for (const command of ['generate', 'publish', 'help'])
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(help.stdout).toContain('-V, --version');
    for (const args of [
      ['help', 'generate'],
      ['generate', '--help'],
    ]) {
      const r = await mixin(...args);
      expect(r.code).toBe(0);
      for (const flag of ['--config FILE', '--out DIR', '--check'])
        expect(r.stdout).toContain(flag);
    }
    expect((await mixin('help', 'publish')).stdout).toContain('GRAFANA_TOKEN');
  });

  it('no command, an unknown command or option, no --out: usage errors, exit 2', async () => {
    expect((await mixin()).code).toBe(2);
    expect(await mixin('lint')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'tidewatch-mixin: unknown command "lint" (commands: generate, publish, help; see --help)\n',
    });
    expect(await mixin('generate')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'tidewatch-mixin: generate: --out DIR is required\n',
    });
    expect((await mixin('generate', '--out', dir, '--bogus')).code).toBe(2);
  });
});

describe('tidewatch-mixin generate', () => {
  it('without a config writes exactly the files the repository commits, byte for byte', async () => {
    const out = join(dir, 'defaults');
    const r = await mixin('generate', '--out', out);
    expect(r).toEqual({
      code: 0,
      stdout: `wrote ${FILES.length} of ${FILES.length} files to ${out} (0 unchanged)\n`,
      stderr: '',
    });
    expect(tree(out)).toEqual(FILES);
    for (const rel of FILES) expect(read(out, rel), rel).toBe(read(ROOT, rel));
    expect(FILES).toEqual(
      expect.arrayContaining([
        'dashboards/realtime-fleet.json',
        'dashboards/provisioning/tidewatch.yaml',
        'alerts/tidewatch-alerts.yaml',
        'alerts/tidewatch-rules.yaml',
        'alerts/tests/fleet.yaml',
        'docs/runbooks.md',
        'deploy/ingress.yaml',
        'deploy/keda-scaledobject.yaml',
        'mixin.libsonnet',
      ]),
    );
    // --check against the same dir passes; a changed file is named.
    expect(await mixin('generate', '--out', out, '--check')).toEqual({
      code: 0,
      stdout: `${FILES.length} files in ${out} are up to date\n`,
      stderr: '',
    });
    writeFileSync(join(out, 'deploy/ingress.yaml'), 'edited\n');
    expect(await mixin('generate', '--out', out, '--check')).toEqual({
      code: 1,
      stdout: '',
      stderr: `tidewatch-mixin: 1 file(s) in ${out} differ: deploy/ingress.yaml\n`,
    });
  });

  const settings = {
    thresholds: { hotPodSkewRatio: 2 },
    grafana: { titlePrefix: 'Chat / ' },
    deploy: {
      name: 'chat',
      capacityPerReplica: 800,
      heartbeatSeconds: 45,
      ingress: { host: 'chat.example.org', longPolling: false },
    },
  };

  it('from a JSON config: the same file set, the settings in the files', async () => {
    const out = join(dir, 'json');
    const config = write('mixin.config.json', JSON.stringify(settings));
    expect((await mixin('generate', '--config', config, '--out', out)).code).toBe(0);
    expect(tree(out)).toEqual(FILES);
    const ingress = read(out, 'deploy/ingress.yaml');
    expect(ingress).toContain('host: chat.example.org');
    expect(ingress).toContain('nginx.ingress.kubernetes.io/proxy-read-timeout: "90"');
    expect(ingress).not.toContain('affinity');
    expect(read(out, 'alerts/tidewatch-alerts.yaml')).toContain('> 2');
    expect(JSON.parse(read(out, 'dashboards/realtime-fleet.json')).title).toMatch(/^Chat \/ /);
    // deploy.capacityPerReplica also feeds the rules' hottest-pod utilisation (800 per pod).
    expect(read(out, 'alerts/tidewatch-rules.yaml')).toContain('/ 800');
    expect(read(ROOT, 'alerts/tidewatch-rules.yaml')).not.toContain('/ 800');
    // Unchanged settings give the committed bytes.
    expect(read(out, 'docs/runbooks.md').length).toBeGreaterThan(0);
    expect(read(out, 'dashboards/provisioning/tidewatch.yaml')).toBe(
      read(ROOT, 'dashboards/provisioning/tidewatch.yaml'),
    );
    // The user's rules are valid and their generated tests hold (the hot-pod file is the one the
    // capacity and skew change; the SLO files take a minute and are covered by config-variants).
    const check = await promtool(
      [
        'check',
        'rules',
        '--lint=all',
        '--lint-fatal',
        'alerts/tidewatch-rules.yaml',
        'alerts/tidewatch-alerts.yaml',
      ],
      { cwd: out },
    );
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const test = await promtool(['test', 'rules', 'alerts/tests/hotpod.yaml'], { cwd: out });
    expect(test.code, test.stdout + test.stderr).toBe(0);
  });

  it('from .mjs and CommonJS .js configs: the same bytes as the JSON config', async () => {
    const json = join(dir, 'json');
    const esm = write('mixin.config.mjs', `export default ${JSON.stringify(settings)};\n`);
    const cjs = write('mixin.config.js', `module.exports = ${JSON.stringify(settings)};\n`);
    for (const [name, config] of [
      ['mjs', esm],
      ['cjs', cjs],
    ] as const) {
      const out = join(dir, name);
      expect((await mixin('generate', '--config', config, '--out', out)).code).toBe(0);
      expect(tree(out)).toEqual(FILES);
      for (const rel of FILES) expect(read(out, rel), `${name}: ${rel}`).toBe(read(json, rel));
    }
  });

  it.each([
    [
      '{"thresholds":{"hotPodSkewRatio":0.5}}',
      'thresholds.hotPodSkewRatio must be a ratio > 1, got 0.5',
    ],
    [
      '{"deploy":{"heartbeatSeconds":25,"ingress":{"timeoutSeconds":20}}}',
      'deploy.ingress.timeoutSeconds must be an integer 26..86400 (above heartbeatSeconds, or nginx cuts idle live connections), got 20',
    ],
    [
      '{"deploy":{"capacityPerReplica":-1}}',
      'deploy.capacityPerReplica must be a number > 0, got -1',
    ],
    [
      '{"thresholds":{"hotPodSkewRatoi":2}}',
      'unknown field thresholds.hotPodSkewRatoi (did you mean thresholds.hotPodSkewRatio?)',
    ],
    ['{"deploy":{"ingres":{}}}', 'unknown field deploy.ingres (did you mean deploy.ingress?)'],
    ['{"grafana":{"tags":"realtime"}}', 'grafana.tags must be a list of strings, got "realtime"'],
    ['{"deploy":{"minReplicas":"2"}}', 'deploy.minReplicas must be a number, got "2"'],
    ['[1]', 'the config must be an object, got [1]'],
    ['{"thresholds":', 'not JSON: Unexpected end of JSON input'],
  ])('a bad config %s: one line naming the field, exit 1, nothing written', async (text, why) => {
    const config = write('bad.json', text);
    const out = join(dir, 'bad-out');
    expect(await mixin('generate', '--config', config, '--out', out)).toEqual({
      code: 1,
      stdout: '',
      stderr: `tidewatch-mixin: ${config}: ${why}\n`,
    });
    expect(existsSync(out)).toBe(false);
  });

  it('a missing file, a module without a default export, an unknown extension', async () => {
    const out = join(dir, 'bad-out');
    const cases = [
      [join(dir, 'missing.json'), 'no such file'],
      [join(dir, 'missing.mjs'), 'no such file'],
      [
        write('named.mjs', 'export const config = {};\n'),
        'no default export (export default { ... })',
      ],
      [write('mixin.config.yaml', 'thresholds: {}\n'), 'must be .json, .js, .mjs or .cjs'],
    ];
    for (const [config, why] of cases)
      expect(await mixin('generate', '--config', config as string, '--out', out)).toEqual({
        code: 1,
        stdout: '',
        stderr: `tidewatch-mixin: ${config}: ${why}\n`,
      });
  });
});
