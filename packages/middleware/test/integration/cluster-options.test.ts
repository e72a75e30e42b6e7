import cluster from 'node:cluster';
import { MessageChannel } from 'node:worker_threads';
import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  clusterAggregator,
  clusterMetricsHandler,
  exposeToParent,
  exposeToPrimary,
  isTidewatchMessage,
  workerThreadsAggregator,
  workerThreadsMetrics,
} from '../../src/cluster.js';
import { createRealtimeMetrics, TidewatchConfigError } from '../../src/index.js';
import { parseExposition, value } from '../helpers.js';

function configError(fn: () => unknown): TidewatchConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TidewatchConfigError);
    expect((err as TidewatchConfigError).code).toBe('TW_ERR_INVALID_OPTION');
    return err as TidewatchConfigError;
  }
  throw new Error('expected a TidewatchConfigError');
}

const clusterListeners = () =>
  ['message', 'disconnect', 'exit'].map((e) => cluster.listenerCount(e)).join(',');

describe('cluster aggregation options', () => {
  it('bad options throw TidewatchConfigError naming the option, leaving no listener', () => {
    const before = clusterListeners();
    const cases: Array<[() => unknown, string]> = [
      [() => clusterMetricsHandler({ timeoutMs: 0 }), 'timeoutMs'],
      [() => clusterMetricsHandler({ timeoutMs: 2.5 }), 'timeoutMs'],
      [() => clusterAggregator({ timeoutMs: '100' as never }), 'timeoutMs'],
      [() => clusterMetricsHandler({ prefix: 'has space' }), 'prefix'],
      [() => clusterMetricsHandler({ keepExitedCounters: 'no' as never }), 'keepExitedCounters'],
      [() => clusterMetricsHandler({ onError: 1 as never }), 'onError'],
      [() => clusterMetricsHandler({ timeout: 100 } as never), 'timeout'],
      [() => clusterAggregator({ auth: { bearer: 'x' } } as never), 'auth'],
      [() => clusterMetricsHandler({ auth: { bearer: '' } }), 'auth.bearer'],
      [() => workerThreadsMetrics({} as never), 'workers'],
      [() => workerThreadsAggregator({ workers: [] as never }), 'workers'],
      [
        () =>
          workerThreadsMetrics({ workers: () => [], auth: { basic: { username: 'a' } } } as never),
        'auth.basic.password',
      ],
      [() => exposeToPrimary({} as never), 'source'],
      [() => exposeToParent(new Registry(), {} as never), 'port'],
    ];
    for (const [fn, option] of cases) expect(configError(fn).option).toBe(option);
    expect(clusterListeners()).toBe(before);
  });

  it('close() removes the cluster listeners; with no workers the aggregate is just the gauge', async () => {
    const before = clusterListeners();
    const handler = clusterMetricsHandler({ prefix: 'app_' });
    expect(clusterListeners()).not.toBe(before);
    const fams = parseExposition(await (await handler.aggregate()).metrics());
    expect(fams.map((f) => f.name)).toEqual(['app_cluster_workers']);
    expect(value(fams, 'app_cluster_workers')).toBe(0);
    handler.close();
    expect(clusterListeners()).toBe(before);
  });

  it('a worker answers per request id, isolates failing families and keeps NaN/Inf', async () => {
    const registry = new Registry();
    const metrics = createRealtimeMetrics({ registry });
    new Counter({ name: 'app_jobs_total', help: 'jobs', registers: [registry] }).inc(3);
    new Gauge({ name: 'app_peak', help: 'x', aggregator: 'max', registers: [registry] }).set(
      Number.POSITIVE_INFINITY,
    );
    new Gauge({
      name: 'app_broken',
      help: 'x',
      registers: [registry],
      collect() {
        throw new Error('boom');
      },
    });
    const { port1, port2 } = new MessageChannel();
    try {
      const undo = exposeToParent(metrics, port1);
      // Exposing the same registry again is harmless: one listener, the same undo.
      expect(exposeToParent(registry, port1)).toBe(undo);
      expect(port1.listenerCount('message')).toBe(1);

      const answer = new Promise<Record<string, unknown>>((resolve) => {
        port2.on('message', (msg) => {
          if (isTidewatchMessage(msg)) resolve(msg);
        });
      });
      // The app's own messages on the same port are left alone.
      port2.postMessage({ type: 'app', hello: 1 });
      port2.postMessage({ type: 'tidewatch:metrics:request', id: 'x:1', budgetMs: 1000 });
      const msg = await answer;
      expect(msg.id).toBe('x:1');
      expect(msg.failed).toEqual(['app_broken']);
      const fams = msg.metrics as Array<{ name: string; values: Array<{ value: number }> }>;
      const byName = new Map(fams.map((f) => [f.name, f]));
      expect(byName.get('app_jobs_total')?.values[0]?.value).toBe(3);
      expect(byName.get('app_peak')?.values[0]?.value).toBe(Number.POSITIVE_INFINITY);
      expect(byName.has('app_broken')).toBe(false);
      expect(byName.has('realtime_connections_opened_total')).toBe(true);

      undo();
      expect(port1.listenerCount('message')).toBe(0);
    } finally {
      port1.close();
      port2.close();
    }
  });
});
