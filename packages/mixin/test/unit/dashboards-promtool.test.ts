import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promtool } from '@tidewatch/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { buildDashboards, panelQueries, substituteVariables } from '../../src/dashboards/index.js';

// lezer-promql checks syntax only (and accepts Prometheus 3 syntax); Prometheus' own parser
// also checks types (rate() of an instant vector, histogram_quantile arguments, ...). promtool
// parses every expression of a rule file, so each panel query becomes a recording rule.
const dir = mkdtempSync(join(tmpdir(), 'tidewatch-dash-promql-'));
afterAll(() => rmSync(dir, { force: true, recursive: true }));

function rulesFile(exprs: string[]): string {
  const file = join(dir, `rules-${Math.random().toString(36).slice(2)}.yaml`);
  const rules = exprs.map((expr, i) => ({ expr, record: `tidewatch_dashboard:query_${i}:check` }));
  writeFileSync(file, stringify({ groups: [{ name: 'dashboard-queries', rules }] }));
  return file;
}

describe('every panel and annotation query parses with Prometheus (promtool check rules)', () => {
  for (const [slug, dashboard] of buildDashboards(DEFAULT_CONFIG)) {
    it(slug, async () => {
      const exprs = [
        ...panelQueries(dashboard).map((q) => q.expr),
        ...(dashboard.annotations?.list ?? []).flatMap((a) =>
          typeof a.expr === 'string' ? [a.expr] : [],
        ),
      ].map((e) => substituteVariables(e));
      for (const e of exprs) expect(e).not.toContain('$');
      const result = await promtool(['check', 'rules', rulesFile(exprs)]);
      expect(result.stderr + result.stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
      expect(result.code).toBe(0);
    });
  }

  it('promtool rejects a type error that lezer accepts', async () => {
    const result = await promtool([
      'check',
      'rules',
      rulesFile(['rate(sum(realtime_messages_total))']),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr + result.stdout).toContain(
      'expected type range vector in call to function "rate"',
    );
  });
});
