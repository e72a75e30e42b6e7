/**
 * Test scenarios of the autoscaling and forecast alerts, on kube-state-metrics' HPA series and
 * the predictor sidecar's signals: firing with exact labels, pending before `for`, and silent
 * for HPAs and targets below their limits.
 */
import { metricName, SIGNALS } from '@tidewatch/conventions';
import type { MixinConfig } from '../config.js';
import { signalValue } from '../labels.js';
import { KSM } from './alerts.js';
import {
  checks,
  constant,
  type Scenario,
  type SeriesSpec,
  satisfying,
  withBelow,
} from './tests-gen.js';

/** Minutes every scenario's series run. */
const RUN = 40;

/** Autoscaling and forecast scenarios (kube-state-metrics and the predictor sidecar). */
export function autoscalingScenarios(config: MixinConfig): Scenario[] {
  const ksm = (
    name: string,
    hpa: string,
    v: number,
    extra: Record<string, string> = {},
  ): SeriesSpec => ({
    labels: satisfying(config.hpaSelector, {
      horizontalpodautoscaler: hpa,
      instance: 'kube-state-metrics:8080',
      job: 'kube-state-metrics',
      namespace: 'default',
      ...extra,
    }),
    name,
    values: constant(v, RUN),
  });
  const limited = (hpa: string, on: boolean) =>
    ['true', 'false', 'unknown'].map((status) =>
      ksm(KSM.condition, hpa, (status === 'true') === on && status !== 'unknown' ? 1 : 0, {
        condition: 'ScalingLimited',
        status,
      }),
    );
  const predictor = (instance: string, extra: Record<string, string> = {}) =>
    satisfying(
      config.predictorSelector,
      { instance, job: 'tidewatch-predictor', namespace: 'default', ...extra },
      ['tidewatch-predictor', 'tidewatch', 'predictor'],
    );
  const sidecar = (
    name: string,
    instance: string,
    v: number,
    extra: Record<string, string> = {},
  ): SeriesSpec => ({
    labels: predictor(instance, extra),
    name,
    values: constant(v, RUN),
  });
  const hpaFor = (hpa: string, target: string, max: number) => [
    ksm(KSM.max, hpa, max),
    ksm(KSM.info, hpa, 1, { scaletargetref_kind: 'Deployment', scaletargetref_name: target }),
  ];
  const replicas = SIGNALS.recommendedReplicas.name;
  const age = SIGNALS.forecastAgeSeconds.name;
  const pj = predictor('x').job as string;
  const staleAlert = (instance: string) => ({
    labels: { instance, job: pj, severity: 'warning' },
    value: 1,
  });
  const label = (k: string, values: string[]) => (x: SeriesSpec) =>
    !values.includes(x.labels[k] ?? '');
  // The sidecar's own default: the forecast's `metric` label does not follow the mixin prefix.
  const forecast = (instance: string) =>
    sidecar(SIGNALS.forecast.name, instance, 900, {
      horizon: '150s',
      metric: metricName('connections'),
      quantile: signalValue('forecast', 'quantile', '0.9'),
    });
  return withBelow([
    {
      alerts: checks(
        'RealtimeAutoscalerMaxedOut',
        [
          {
            labels: { horizontalpodautoscaler: 'chat', namespace: 'default', severity: 'warning' },
            value: 10,
          },
        ],
        20,
        10,
      ),
      below: label('horizontalpodautoscaler', ['chat']),
      name: 'autoscaler maxed out: chat at max and ScalingLimited fires; feed at max without ScalingLimited and news below max do not',
      series: [
        ksm(KSM.current, 'chat', 10),
        ksm(KSM.max, 'chat', 10),
        ...limited('chat', true),
        ksm(KSM.current, 'feed', 10),
        ksm(KSM.max, 'feed', 10),
        ...limited('feed', false),
        ksm(KSM.current, 'news', 4),
        ksm(KSM.max, 'news', 10),
        ...limited('news', false),
      ],
    },
    {
      alerts: checks(
        'TidewatchPredictedLoadAboveCapacity',
        [
          { labels: { namespace: 'default', severity: 'warning', target: 'chat' }, value: 12 },
          { labels: { namespace: 'default', severity: 'warning', target: 'news' }, value: 10 },
        ],
        15,
        8,
      ),
      below: (x) =>
        label('target', ['chat', 'news'])(x) &&
        label('horizontalpodautoscaler', ['keda-hpa-chat', 'keda-hpa-news'])(x),
      name: 'predicted load above capacity: chat needs 12 of max 10, news all 10; feed (4 of 10) stays silent',
      series: [
        sidecar(replicas, 'chat-predictor:9464', 12, { target: 'chat' }),
        sidecar(replicas, 'news-predictor:9464', 10, { target: 'news' }),
        sidecar(replicas, 'feed-predictor:9464', 4, { target: 'feed' }),
        ...hpaFor('keda-hpa-chat', 'chat', 10),
        ...hpaFor('keda-hpa-news', 'news', 10),
        ...hpaFor('keda-hpa-feed', 'feed', 10),
      ],
    },
    {
      alerts: checks(
        'TidewatchForecastStale',
        ['p-down:9464', 'p-missing:9464', 'p-old:9464', 'p-stale:9464'].map(staleAlert),
        20,
        10,
      ),
      below: (x) => x.labels.instance === 'p-ok:9464',
      name: 'forecast stale: stale reasons, an old forecast, a missing forecast and a down sidecar fire; a fresh one does not',
      series: [
        sidecar('up', 'p-stale:9464', 1),
        sidecar(SIGNALS.forecastStale.name, 'p-stale:9464', 1, {
          metric: metricName('connections'),
          reason: signalValue('forecastStale', 'reason', 'data_old'),
        }),
        sidecar('up', 'p-old:9464', 1),
        forecast('p-old:9464'),
        sidecar(age, 'p-old:9464', config.thresholds.forecastAgeSeconds * 2),
        sidecar('up', 'p-missing:9464', 1),
        sidecar('up', 'p-down:9464', 0),
        sidecar('up', 'p-ok:9464', 1),
        forecast('p-ok:9464'),
        sidecar(age, 'p-ok:9464', 30),
      ],
    },
  ]);
}
