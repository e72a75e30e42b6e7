import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import dashgen from 'grafana-dash-gen';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { buildDashboards, fleetDashboard } from '../../src/dashboards/index.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const schemaFile = join(pkg, 'schema', 'dashboard.schema.json');
const schemaText = readFileSync(schemaFile, 'utf8');

function validator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  return ajv.compile(JSON.parse(schemaText));
}

describe('derived dashboard schema', () => {
  it('equals a fresh derivation from node_modules/@grafana/schema', () => {
    // Derivation takes ~2 s, so the committed file is checked here, not only by the script.
    // Compared parsed: the committed file's whitespace is biome's.
    const script = join(pkg, 'scripts', 'derive-schema.mjs');
    const fresh = execFileSync(process.execPath, [script, '--stdout'], { encoding: 'utf8' });
    expect(JSON.parse(schemaText)).toEqual(JSON.parse(fresh));
  });

  it('names its source and is the Dashboard type of @grafana/schema 13.2.3', () => {
    const schema = JSON.parse(schemaText);
    expect(schema.$comment).toContain('@grafana/schema 13.2.3');
    expect(schema.$ref).toBe('#/definitions/Dashboard');
    expect(schema.definitions.Dashboard.properties.refresh.type).toBe('string');
  });
});

describe('every generated dashboard validates against the derived schema', () => {
  const validate = validator();
  for (const [slug, dashboard] of buildDashboards(DEFAULT_CONFIG)) {
    it(slug, () => {
      const ok = validate(dashboard);
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    });
  }
});

describe('the schema catches what the modernise pass fixes', () => {
  const validate = validator();

  it("rejects grafana-dash-gen's raw output (boolean refresh)", () => {
    const raw = new dashgen.Dashboard({ title: 'raw' }).generate();
    expect(validate(raw)).toBe(false);
    expect(validate.errors?.map((e) => `${e.instancePath} ${e.message}`)).toContain(
      '/refresh must be string',
    );
  });

  it('rejects a variable refresh outside 0..2 and a variable option without value', () => {
    const d = structuredClone(fleetDashboard(DEFAULT_CONFIG));
    const list = d.templating?.list ?? [];
    (list[1] as unknown as { refresh: number }).refresh = 3;
    (list[2] as unknown as { current: unknown }).current = { text: 'All' };
    expect(validate(d)).toBe(false);
    const messages = validate.errors?.map((e) => `${e.instancePath} ${e.message}`);
    expect(messages).toContain(
      '/templating/list/1/refresh must be equal to one of the allowed values',
    );
    expect(messages).toContain("/templating/list/2/current must have required property 'value'");
  });

  it('rejects a panel gridPos without a height', () => {
    const d = structuredClone(fleetDashboard(DEFAULT_CONFIG));
    const panel = d.panels?.[1] as unknown as { gridPos: Record<string, number> };
    delete panel.gridPos.h;
    expect(validate(d)).toBe(false);
  });
});
