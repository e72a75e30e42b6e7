/**
 * The shadow report on `/metrics`: `tidewatch_shadow_replicas{target,policy}` and the
 * `tidewatch_shadow_*_total{target,policy}` counters, registered only in shadow mode (outside
 * it the series do not exist). The counters follow the ledger's totals, which survive restarts
 * (persisted), so a restarted sidecar's counters resume where they were instead of resetting.
 */
import { SHADOW_POLICIES, SIGNALS, type SignalKey, signalLabelNames } from '@tidewatch/conventions';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ShadowLedger } from './shadow-ledger.js';

/** See {@link createShadowSignals}. */
export interface ShadowSignals {
  /** Sets the gauges from the ledger's last observation and advances the counters to its totals. */
  update(ledger: ShadowLedger): void;
}

/** Registers the shadow signals in `registry` for scale target `target` (counters start at 0). */
export function createShadowSignals(registry: Registry, target: string): ShadowSignals {
  const spec = (key: SignalKey) => ({
    name: SIGNALS[key].name,
    help: SIGNALS[key].help,
    labelNames: signalLabelNames(key),
    registers: [registry],
  });
  const replicas = new Gauge(spec('shadowReplicas'));
  const overloaded = new Counter(spec('shadowOverloadedPodMinutes'));
  const cost = new Counter(spec('shadowReplicaSeconds'));
  const published = {
    overloaded: { actual: 0, predictive: 0 },
    cost: { actual: 0, predictive: 0 },
  };
  for (const policy of SHADOW_POLICIES) {
    overloaded.inc({ target, policy }, 0);
    cost.inc({ target, policy }, 0);
  }
  return {
    update(ledger) {
      const t = ledger.totals();
      for (const policy of SHADOW_POLICIES) {
        // Counters only go up: the ledger's totals never fall, so the difference is >= 0.
        const o = t.overloadedPodMinutes[policy] - published.overloaded[policy];
        if (o > 0) overloaded.inc({ target, policy }, o);
        published.overloaded[policy] += Math.max(0, o);
        const c = t.replicaSeconds[policy] - published.cost[policy];
        if (c > 0) cost.inc({ target, policy }, c);
        published.cost[policy] += Math.max(0, c);
      }
      const last = ledger.last();
      if (!last) {
        replicas.reset();
        return;
      }
      replicas.set({ target, policy: 'actual' }, last.actualReplicas);
      replicas.set({ target, policy: 'predictive' }, last.predictiveReplicas);
    },
  };
}
