import { describe, expect, it } from 'vitest';
import {
  DeployConfigError,
  deployConfig,
  leadTimeSeconds,
  targetPerReplica,
} from '../../src/deploy/config.js';

describe('deployConfig', () => {
  it('fills the defaults: threshold 350, lead time 150 s, fallback holds max(current, minReplicas)', () => {
    const c = deployConfig();
    expect(targetPerReplica(c)).toBe(350);
    expect(leadTimeSeconds(c)).toBe(150);
    expect(c.fallbackReplicas).toBe(2);
    expect(c.fallbackBehavior).toBe('currentReplicasIfHigher');
    expect(deployConfig({ minReplicas: 4 }).fallbackReplicas).toBe(4);
    expect(c.election).toBe(true);
    expect(c.patchMode).toBe(false);
    expect(deployConfig({ source: 'scrape' }).election).toBe(false);
    expect(deployConfig({ lead: { podStartSeconds: 120 } }).lead).toEqual({
      podStartSeconds: 120,
      readinessSeconds: 30,
      metricLagSeconds: 30,
      pollingSeconds: 30,
    });
  });

  it.each([
    [{ capacityPerReplica: -1 }, 'deploy config: capacityPerReplica must be a number > 0, got -1'],
    [
      { targetUtilization: 1.2 },
      'deploy config: targetUtilization must be a number in (0, 1], got 1.2',
    ],
    [
      { name: 'Realtime_Server' },
      'deploy config: name must be a DNS label (a-z, 0-9, "-", at most 63 characters), got "Realtime_Server"',
    ],
    [{ minReplicas: 0 }, 'deploy config: minReplicas must be an integer 1..100000, got 0'],
    [
      { minReplicas: 5, maxReplicas: 3 },
      'deploy config: maxReplicas must be an integer 5 (minReplicas)..100000, got 3',
    ],
    [
      { fallbackReplicas: 99 },
      'deploy config: fallbackReplicas must be an integer 2..50 (minReplicas..maxReplicas), got 99',
    ],
    [
      { lead: { metricLagSeconds: -5 } },
      'deploy config: lead.metricLagSeconds must be a number >= 0, got -5',
    ],
    [
      { scaleDownStabilizationSeconds: 7200 },
      'deploy config: scaleDownStabilizationSeconds must be an integer 0..3600, got 7200',
    ],
    [
      { prometheusUrl: 'prometheus:9090' },
      'deploy config: prometheusUrl must be an http(s) URL, got "prometheus:9090"',
    ],
    [{ predictorPort: 8080 }, 'deploy config: predictorPort must be different from port, got 8080'],
    [
      { patchKind: 'deployment' as 'hpa' },
      'deploy config: patchKind must be "hpa" or "scaledobject", got "deployment"',
    ],
    [
      { fallbackBehavior: 'keep' as 'static' },
      'deploy config: fallbackBehavior must be "currentReplicas" or "currentReplicasIfHigher" or "currentReplicasIfLower" or "static", got "keep"',
    ],
    [
      { source: 'scrape' as const, election: true },
      'deploy config: election must be false with source "scrape" (every sidecar forecasts its own pod and must publish), got true',
    ],
    [
      { standaloneReplicas: 0 },
      'deploy config: standaloneReplicas must be an integer 1..10, got 0',
    ],
  ])('rejects %j naming the field', (input, message) => {
    let caught: unknown;
    try {
      deployConfig(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DeployConfigError);
    expect((caught as Error).message).toBe(message);
    expect((caught as DeployConfigError).field).toBe(message.split(' ')[2]);
  });
});
