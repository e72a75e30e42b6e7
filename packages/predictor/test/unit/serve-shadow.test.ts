/**
 * Shadow mode's settings (what shadow mode requires, named by field; the derived replicas
 * query; TIDEWATCH_MODE) and the status page's shadow section rendered by its own script.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadServeConfig, parseServeConfig } from '../../src/serve/config.js';
import { FORMAT_JS } from '../../src/serve/page/format.js';
import { SHADOW_HTML, SHADOW_JS } from '../../src/serve/page/shadow.js';
import { replicasQueryOf, shadowPrometheusOf } from '../../src/serve/shadow-config.js';

const scrape = { kind: 'scrape', urls: ['http://127.0.0.1:9000/metrics'] };

function issues(raw: Record<string, unknown>): readonly string[] {
  try {
    parseServeConfig(raw);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues;
  }
}

describe('shadow mode settings', () => {
  it('defaults to active mode, where the shadow block needs nothing', () => {
    const c = parseServeConfig({ source: scrape });
    expect(c.mode).toBe('active');
    expect(c.shadow).toMatchObject({ replicas: 'hpa', timeoutSeconds: 10, maxGapSeconds: 120 });
  });

  it('shadow mode names each missing setting', () => {
    expect(issues({ source: scrape, mode: 'shadow' })).toEqual([
      'config: shadow.prometheusUrl is required (must be set when mode is "shadow" (the Prometheus with kube-state-metrics) unless source.kind is prometheus)',
      'config: shadow.namespace is required (must be set when mode is "shadow" (or set shadow.replicasQuery))',
      'config: shadow.name is required (must be set when mode is "shadow" (or set shadow.replicasQuery))',
    ]);
    // A replicas query replaces namespace and name; a prometheus source is the default Prometheus.
    expect(
      issues({
        source: { kind: 'prometheus', url: 'http://prom:9090', bearerToken: 'tok' },
        mode: 'shadow',
        shadow: { replicasQuery: 'sum(up)' },
      }),
    ).toEqual([]);
  });

  it('derives the kube-state-metrics query of the HPA or the Deployment', () => {
    const hpa = parseServeConfig({
      source: scrape,
      mode: 'shadow',
      shadow: { prometheusUrl: 'http://prom:9090', namespace: 'rt', name: 'chat' },
    });
    expect(replicasQueryOf(hpa.shadow)).toBe(
      'max(kube_horizontalpodautoscaler_status_current_replicas{namespace="rt",horizontalpodautoscaler="chat"})',
    );
    expect(replicasQueryOf({ ...hpa.shadow, replicas: 'deployment' })).toBe(
      'max(kube_deployment_status_replicas_available{namespace="rt",deployment="chat"})',
    );
    expect(shadowPrometheusOf(hpa)).toEqual({ url: 'http://prom:9090' });
    const fromSource = parseServeConfig({
      source: { kind: 'prometheus', url: 'http://prom:9090', bearerToken: 'tok' },
      mode: 'shadow',
      shadow: { replicasQuery: 'sum(up)' },
    });
    expect(shadowPrometheusOf(fromSource)).toEqual({ url: 'http://prom:9090', bearerToken: 'tok' });
  });

  it('is switched by TIDEWATCH_MODE, and a bad mode is named', () => {
    const env = {
      TIDEWATCH_SCRAPE_URLS: 'http://127.0.0.1:9000/metrics',
      TIDEWATCH_SHADOW_PROMETHEUS_URL: 'http://prom:9090',
      TIDEWATCH_SHADOW_NAMESPACE: 'rt',
      TIDEWATCH_SHADOW_NAME: 'chat',
      TIDEWATCH_SHADOW_REPLICAS: 'deployment',
    };
    const c = loadServeConfig({ env: { ...env, TIDEWATCH_MODE: 'shadow' }, onWarning: () => {} });
    expect([c.mode, c.shadow.replicas]).toEqual(['shadow', 'deployment']);
    expect(() => loadServeConfig({ env: { ...env, TIDEWATCH_MODE: 'dry' } })).toThrow(
      'TIDEWATCH_MODE: mode must be "active" or "shadow", got "dry"',
    );
  });
});

describe('status page shadow section', () => {
  /** Runs the section's script against a stand-in for the elements it sets. */
  function render(shadow: unknown) {
    const els: Record<string, { textContent: string; hidden: boolean }> = {};
    const $ = (id: string) => {
      els[id] ??= { textContent: '', hidden: false };
      return els[id];
    };
    const setText = (id: string, t: string) => {
      $(id).textContent = t;
    };
    runInNewContext(`${FORMAT_JS}\n${SHADOW_JS}\nrenderShadow(shadow);`, { $, setText, shadow });
    return els;
  }

  it('says what prediction would have prevented this week and at what cost', () => {
    const els = render({
      query: 'q',
      prometheus: 'http://prom:9090',
      last: { at: '', load: 6, actualReplicas: 1, predictiveReplicas: 4 },
      error: null,
      week: {
        overloadedPodMinutes: { actual: 1250, predictive: 20 },
        replicaSeconds: { actual: 360_000, predictive: 370_800 },
        preventedPodMinutes: 1230,
        extraReplicaPercent: 3,
      },
    });
    expect(els['shadow-summary']?.textContent).toBe(
      'Shadow report: this week prediction would have prevented 1,230 overloaded pod-minutes at +3.0 % replica-hours.',
    );
    expect(els['shadow-actual']?.textContent).toBe('1');
    expect(els['shadow-predictive']?.textContent).toBe('4');
    expect(els['shadow-hours-actual']?.textContent).toBe('100');
    expect(els['shadow-hours-predictive']?.textContent).toBe('103');
    expect(els['shadow-error']?.hidden).toBe(true);
    expect(els.shadow?.hidden).toBe(false);
    expect(SHADOW_HTML).toContain('id="shadow-summary"');
  });

  it('hides the section in active mode', () => {
    expect(render(undefined).shadow?.hidden).toBe(true);
  });
});
