/**
 * Test scenarios of the autoscaling and forecast alerts, on kube-state-metrics' HPA series and
 * the predictor sidecar's signals: firing with exact labels, pending before `for`, silent for
 * HPAs and targets below their limits, and silent with the same series outside `hpaSelector`
 * or `predictorSelector`. The firing HPA of a scenario is named to fit `hpaSelector`; the
 * others keep their names and fire only when the selector reads them.
 */
import { metricName, SIGNALS } from '@tidewatch/conventions';
import type { MixinConfig } from '../config.js';
import { signalValue } from '../labels.js';
import { KSM } from './alerts.js';
import {
  checks,
  constant,
  type ExpectedAlert,
  type Scenario,
  type SeriesSpec,
  withBelow,
  withDecoys,
} from './tests-gen.js';
import { choose, inScope, scoped } from './tests-scope.js';

/** Minutes every scenario's series run. */
const RUN = 40;

/** Autoscaling and forecast scenarios (kube-state-metrics and the predictor sidecar). */
export function autoscalingScenarios(config: MixinConfig): Scenario[] {
  // The capacity alert joins the sidecar to the HPAs on `namespace`: one value fits both.
  const { namespace } = choose(`${config.predictorSelector}, ${config.hpaSelector}`, {
    namespace: 'default',
  });
  const ksmBase = choose(config.hpaSelector, {
    instance: 'kube-state-metrics:8080',
    job: 'kube-state-metrics',
    namespace: namespace as string,
  });
  const hpaLabels = (hpa: string, extra: Record<string, string> = {}) =>
    scoped(config.hpaSelector, { ...ksmBase, horizontalpodautoscaler: hpa, ...extra });
  /** The name of a scenario's firing HPA: `preferred`, or an alternative that fits the selector. */
  const firingHpa = (preferred: string, ...alternatives: string[]) =>
    choose(
      config.hpaSelector,
      { horizontalpodautoscaler: preferred },
      { horizontalpodautoscaler: [preferred, ...alternatives] },
    ).horizontalpodautoscaler as string;
  /** Expected alerts whose HPA the selector reads. */
  const ofReadHpas = (list: Array<[hpa: string, alert: ExpectedAlert]>) =>
    list.filter(([hpa]) => hpaLabels(hpa).inScope).map(([, a]) => a);
  const ksm = (
    name: string,
    hpa: string,
    v: number,
    extra: Record<string, string> = {},
  ): SeriesSpec => ({
    labels: hpaLabels(hpa, extra).labels,
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
  const predictorBase = choose(
    config.predictorSelector,
    { job: 'tidewatch-predictor', namespace: namespace as string },
    { job: ['tidewatch-predictor', 'tidewatch', 'predictor'] },
  );
  const predictor = (instance: string, extra: Record<string, string> = {}) =>
    inScope(config.predictorSelector, { ...predictorBase, instance, ...extra });
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
  const pj = predictorBase.job as string;
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
  const chat = firingHpa('chat');
  const kedaChat = firingHpa('keda-hpa-chat', 'chat');
  const kedaNews = 'keda-hpa-news';
  const capacity = (target: string, value: number): ExpectedAlert => ({
    labels: { namespace: namespace as string, severity: 'warning', target },
    value,
  });
  const scopes = [
    { field: 'hpaSelector', selector: config.hpaSelector },
    { field: 'predictorSelector', selector: config.predictorSelector },
  ];
  const list = withBelow([
    {
      alerts: checks(
        'RealtimeAutoscalerMaxedOut',
        ofReadHpas([
          [
            chat,
            {
              labels: {
                horizontalpodautoscaler: chat,
                namespace: namespace as string,
                severity: 'warning',
              },
              value: 10,
            },
          ],
        ]),
        20,
        10,
      ),
      below: label('horizontalpodautoscaler', [chat]),
      name: `autoscaler maxed out: ${chat} at max and ScalingLimited fires; feed at max without ScalingLimited and news below max do not`,
      series: [
        ksm(KSM.current, chat, 10),
        ksm(KSM.max, chat, 10),
        ...limited(chat, true),
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
        ofReadHpas([
          [kedaChat, capacity('chat', 12)],
          [kedaNews, capacity('news', 10)],
        ]),
        15,
        8,
      ),
      below: (x) =>
        label('target', ['chat', 'news'])(x) &&
        label('horizontalpodautoscaler', [kedaChat, kedaNews])(x),
      name:
        'predicted load above capacity: chat needs 12 of max 10, news all 10' +
        `${hpaLabels(kedaNews).inScope ? '' : ' (its HPA outside hpaSelector: silent)'}; feed (4 of 10) stays silent`,
      series: [
        sidecar(replicas, 'chat-predictor:9464', 12, { target: 'chat' }),
        sidecar(replicas, 'news-predictor:9464', 10, { target: 'news' }),
        sidecar(replicas, 'feed-predictor:9464', 4, { target: 'feed' }),
        ...hpaFor(kedaChat, 'chat', 10),
        ...hpaFor(kedaNews, 'news', 10),
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
  return withDecoys(scopes, list);
}
