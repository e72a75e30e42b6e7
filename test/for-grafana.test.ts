/**
 * docs/for-grafana.md, run: the generator script is written and run against the installed
 * @tidewatch/mixin and its files compared with the committed dashboards/, the claims about the
 * JSON (uids, the datasource input and variables, the Grafana version) checked on the files,
 * the provider YAML compared with the generated one, the Compose file's mounts resolved against
 * the generated tree and the provider's path, the datasource file checked against what the
 * dashboards' variable lists, and the ConfigMap pipeline run with the real kubectl up to its
 * apply (the object validated with kubernetes-models).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { requireBinary, runCli } from '@tidewatch/test-utils';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { docSnippets, ROOT } from './fixtures/doc-snippets.js';

const snippet = docSnippets('for-grafana.md');
const DASHBOARDS = ['dashboards/realtime-fleet.json', 'dashboards/autoscaling-forecast.json'];
const PROVIDER = 'dashboards/provisioning/tidewatch.yaml';

type Json = Record<string, any>;
const committed = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

// Inside the repository, so `@tidewatch/mixin` resolves from node_modules as it would in the
// reader's project (ESM ignores NODE_PATH).
const dir = mkdtempSync(join(ROOT, '.tmp-for-grafana-'));
let generated = '';

beforeAll(async () => {
  writeFileSync(join(dir, 'grafana.mjs'), snippet('generate'));
  const run = await runCli('grafana.mjs', [], { cwd: dir });
  expect(run.code, run.stdout + run.stderr).toBe(0);
  generated = run.stdout;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('docs/for-grafana.md', () => {
  it('has every snippet this test runs', () => {
    expect([...snippet.names].sort()).toEqual(
      ['compose', 'configmap', 'datasource', 'generate', 'generate-output', 'provider'].sort(),
    );
  });

  it('the generator writes what it says, the repository files with the refresh it asked for', () => {
    expect(generated.trimEnd()).toBe(snippet('generate-output'));
    for (const file of DASHBOARDS) {
      const ours = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Json;
      expect(ours.refresh).toBe('1m');
      expect(ours).toEqual({ ...(JSON.parse(committed(file)) as Json), refresh: '1m' });
    }
    expect(readFileSync(join(dir, PROVIDER), 'utf8')).toBe(committed(PROVIDER));
  });

  it("the table's files and uids are the committed ones", () => {
    const rows = [
      ...snippet.markdown.matchAll(/^\| `(dashboards\/[^`]+\.json)` \| `([^`]+)` \|/gm),
    ];
    expect(rows.map((m) => m[1])).toEqual(DASHBOARDS);
    for (const [, file, uid] of rows)
      expect((JSON.parse(committed(file as string)) as Json).uid).toBe(uid);
    expect(snippet.markdown).toContain(`| \`${PROVIDER}\` |`);
  });

  it.each(DASHBOARDS)(
    '%s: one Prometheus input, the variables the page names, Grafana 10.4',
    (file) => {
      const d = JSON.parse(committed(file)) as Json;
      expect(d.__inputs).toEqual([
        expect.objectContaining({
          name: 'DS_PROMETHEUS',
          type: 'datasource',
          pluginId: 'prometheus',
        }),
      ]);
      const vars = d.templating.list as Json[];
      expect(vars.map((v) => v.name)).toEqual(['datasource', 'job', 'instance']);
      expect(vars[0]).toMatchObject({ type: 'datasource', query: 'prometheus' });
      expect(vars.slice(1).map((v) => [v.multi, v.includeAll])).toEqual([
        [true, true],
        [true, true],
      ]);
      expect(d.__requires).toContainEqual(
        expect.objectContaining({ id: 'grafana', version: '10.4.0' }),
      );
      expect(snippet.markdown).toContain('Grafana 10.4 or newer');
      // Every panel target reads the variable, none a fixed datasource.
      const text = committed(file);
      expect(text).toContain(`"uid": "${'$'}{datasource}"`);
      expect(text.match(/\$\{DS_PROMETHEUS\}/g)).toHaveLength(1);
    },
  );

  it('the provider snippet is the generated provider file', () => {
    expect(parseYaml(snippet('provider'))).toEqual(parseYaml(committed(PROVIDER)));
  });

  it('the Compose file mounts real files where Grafana and the provider look', () => {
    writeFileSync(join(dir, 'prometheus-datasource.yaml'), snippet('datasource'));
    const compose = parseYaml(snippet('compose')) as Json;
    const grafana = compose.services.grafana as Json;
    const [, tag] = /^grafana\/grafana:(\d+\.\d+)\.\d+$/.exec(grafana.image) ?? [];
    expect(Number(tag)).toBeGreaterThanOrEqual(10.4);
    const provider = (parseYaml(snippet('provider')) as Json).providers[0] as Json;
    const mounts = new Map<string, string>();
    for (const volume of grafana.volumes as string[]) {
      const [host, container, mode] = volume.split(':');
      expect(mode).toBe('ro');
      // Relative to the directory that holds dashboards/ (the generator's output here).
      expect(existsSync(resolve(dir, host as string)), host).toBe(true);
      mounts.set(container as string, host as string);
    }
    expect(mounts.get('/etc/grafana/provisioning/dashboards/tidewatch.yaml')).toBe(`./${PROVIDER}`);
    expect(mounts.get('/etc/grafana/provisioning/datasources/prometheus.yaml')).toBe(
      './prometheus-datasource.yaml',
    );
    const jsonDir = mounts.get(provider.options.path);
    expect(jsonDir).toBe('./dashboards');
    const found = readdirSync(resolve(dir, jsonDir as string)).filter((f) => f.endsWith('.json'));
    expect(found.sort()).toEqual(DASHBOARDS.map((f) => f.slice('dashboards/'.length)).sort());
  });

  it('the datasource is the default Prometheus the variable starts on', () => {
    const doc = parseYaml(snippet('datasource')) as Json;
    expect(doc.apiVersion).toBe(1);
    expect(doc.datasources).toHaveLength(1);
    const variable = (JSON.parse(committed(DASHBOARDS[0] as string)) as Json).templating.list[0];
    expect(doc.datasources[0]).toMatchObject({
      type: variable.query,
      isDefault: true,
      access: 'proxy',
    });
    expect(new URL(doc.datasources[0].url).protocol).toBe('http:');
  });

  it('the ConfigMap pipeline builds a labelled, valid ConfigMap of both files (real kubectl)', () => {
    const kubectl = requireBinary('kubectl');
    const stages = snippet('configmap')
      .replace(/\\\n\s*/g, '')
      .split(/\s+\|\s+/)
      .map((s) => s.trim());
    expect(stages).toHaveLength(3);
    expect(stages[2]).toBe('kubectl apply --server-side -f -');
    // The first two stages need no cluster; the reader's shell runs them the same way.
    let yaml = '';
    for (const stage of stages.slice(0, 2)) {
      const [cmd, ...args] = (stage as string).split(/\s+/);
      expect(cmd).toBe('kubectl');
      yaml = execFileSync(kubectl, args, {
        cwd: ROOT,
        input: yaml,
        encoding: 'utf8',
        timeout: 60_000,
      });
    }
    const object = parseYaml(yaml) as Json;
    expect(() => new ConfigMap(object as never).validate()).not.toThrow();
    expect(object.metadata).toMatchObject({
      name: 'tidewatch-dashboards',
      namespace: 'monitoring',
      labels: { grafana_dashboard: '1' },
    });
    expect(Object.keys(object.data).sort()).toEqual(
      DASHBOARDS.map((f) => f.slice('dashboards/'.length)).sort(),
    );
    for (const file of DASHBOARDS)
      expect(object.data[file.slice('dashboards/'.length)]).toBe(committed(file));
    // What the page says about the size next to the annotation cap.
    expect(snippet.markdown).toContain('the fleet\ndashboard alone is over 100 KB');
    expect(Buffer.byteLength(committed(DASHBOARDS[0] as string))).toBeGreaterThan(100_000);
  });
});
