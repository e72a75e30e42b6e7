/**
 * Signals under leader election: a follower publishes no scaling signal and no stale reason;
 * `tidewatch_leader` and `tidewatch_leader_transitions_total` exist only with election on;
 * `/forecast` says the role.
 */
import { createPlanner } from '@tidewatch/forecast';
import { describe, expect, it } from 'vitest';
import { parseServeConfig } from '../../src/serve/config.js';
import type { Decision } from '../../src/serve/engine.js';
import type { SavedModel } from '../../src/serve/model-file.js';
import { forecastJson } from '../../src/serve/routes.js';
import { createSignals } from '../../src/serve/signals.js';

const base = {
  source: { kind: 'scrape', urls: ['http://127.0.0.1:1/metrics'] },
  target: 'chat',
  planner: { capacityPerReplica: 100, targetUtilization: 0.5 },
} as const;
const planner = createPlanner({ capacityPerReplica: 100, targetUtilization: 0.5 });
const NOW = Date.parse('2030-01-01T00:00:00Z');

function decision(): Decision {
  const forecast = {
    madeAtMs: NOW - 4000,
    points: [0, 60, 120, 180].map((s, k) => ({
      timestamp: new Date(NOW + s * 1000).toISOString(),
      p50: 100 + k * 10,
      p90: 120 + k * 10,
    })),
  };
  const plan = planner.plan({ nowMs: NOW, actual: 90, actualMs: NOW - 1000, forecast });
  return {
    nowMs: NOW,
    status: plan.status,
    reasons: plan.reasons,
    reasonCodes: plan.reasonCodes,
    plan,
    model: { model: 'holt-winters', scores: null } as SavedModel,
    forecast,
    rollingMase: undefined,
    dataAgeSeconds: 1,
    forecastAgeSeconds: 4,
  };
}

const health = { historyPoints: 10, lastCollectMs: NOW, jobs: 3 };
const names = async (signals: ReturnType<typeof createSignals>) =>
  (await signals.registry.metrics())
    .split('\n')
    .filter((l) => l.startsWith('tidewatch_'))
    .map((l) => l.replace(/[{ ].*$/, ''));

describe('signals under leader election', () => {
  it('a follower publishes no scaling signal; the leader does; transitions are counted', async () => {
    const config = parseServeConfig({ ...base, election: { enabled: true, namespace: 'ns' } });
    const signals = createSignals(config, planner.leadTimeSeconds);
    signals.leadership('chat-0', false);
    signals.update(decision(), health, false);
    const follower = await names(signals);
    for (const n of [
      'tidewatch_forecast',
      'tidewatch_predicted_load',
      'tidewatch_recommended_replicas',
      'tidewatch_scaling_threshold',
      'tidewatch_forecast_stale',
    ])
      expect(follower).not.toContain(n);
    let text = await signals.registry.metrics();
    expect(text).toContain('tidewatch_leader{identity="chat-0"} 0');
    expect(text).toContain('tidewatch_leader_transitions_total 0');
    signals.leadership('chat-0', true);
    signals.update(decision(), health, true);
    text = await signals.registry.metrics();
    expect(await names(signals)).toContain('tidewatch_predicted_load');
    expect(text).toContain('tidewatch_leader{identity="chat-0"} 1');
    expect(text).toContain('tidewatch_leader_transitions_total 1');
    signals.leadership('chat-0', true);
    signals.leadership('chat-0', false);
    expect(await signals.registry.metrics()).toContain('tidewatch_leader_transitions_total 2');
  });

  it('election off: no leader signals, the scaling signals as before, role standalone', async () => {
    const config = parseServeConfig(base);
    const signals = createSignals(config, planner.leadTimeSeconds);
    signals.leadership('x', true);
    signals.update(decision(), health);
    const list = await names(signals);
    expect(list).toContain('tidewatch_predicted_load');
    expect(list.filter((n) => n.startsWith('tidewatch_leader'))).toEqual([]);
    const doc = forecastJson(decision(), [], config, 'scrape:x', {
      role: { role: 'standalone', leader: null },
    });
    expect(doc).toMatchObject({ role: 'standalone', leader: null });
  });
});
