/**
 * The sidecar config that @tidewatch/mixin writes into deploy/'s ConfigMap is accepted by the
 * sidecar's own loader (@tidewatch/predictor), with the values the manifests promise. Lives
 * here because mixin may not import the predictor.
 */
import { type DeployConfigInput, generateDeployFiles } from '@tidewatch/mixin';
import { parseServeConfig } from '@tidewatch/predictor';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

function sidecarConfigOf(input?: DeployConfigInput) {
  const text = generateDeployFiles(input).get('deploy/realtime-server-with-sidecar.yaml');
  if (text === undefined) throw new Error('deploy/realtime-server-with-sidecar.yaml not generated');
  const cm = parseAllDocuments(text)
    .map((d) => d.toJS())
    .find((d) => d.kind === 'ConfigMap');
  return parseServeConfig(parseAllDocuments(cm.data['config.yaml'])[0]?.toJS());
}

describe('deploy/ sidecar config', () => {
  it('the default (prometheus source) is a valid sidecar config with capacity 500 and target 0.7', () => {
    const config = sidecarConfigOf();
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(config.source).toEqual({
      kind: 'prometheus',
      url: 'http://prometheus-operated.monitoring.svc:9090',
      query: 'sum(realtime_connections{namespace="realtime",job="realtime-server"})',
      timeoutSeconds: 30,
      maxBodyBytes: 16_777_216,
      maxPoints: 110_000,
    });
    expect(config.planner.capacityPerReplica).toBe(500);
    expect(config.planner.capacityConfigured).toBe(true);
    expect(config.planner.targetUtilization).toBe(0.7);
    expect(config.planner.lead).toEqual({
      podStartSeconds: 60,
      readinessSeconds: 30,
      metricLagSeconds: 30,
      pollingSeconds: 30,
    });
    expect(config.patch.enabled).toBe(false);
    expect(config.target).toBe('realtime-server');
  });

  it('the scrape source scrapes the server on loopback', () => {
    const config = sidecarConfigOf({ source: 'scrape', capacityPerReplica: 333 });
    expect(config.source).toMatchObject({
      kind: 'scrape',
      urls: ['http://127.0.0.1:8080/metrics'],
    });
    expect(config.planner.capacityPerReplica).toBe(333);
  });
});
