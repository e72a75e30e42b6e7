/**
 * Runbook sections of the autoscaling and forecast alerts: the HPA at its ceiling, the
 * predicted load above what the HPA may run, and a stale forecast. Signal names and stale
 * reasons come from the sidecar's catalogue, so the prose and the queries name what the
 * sidecar really serves.
 */
import { SIGNALS } from '@tidewatch/conventions';
import type { MixinConfig } from '../config.js';
import { type SignalLabelValue, signalMatcher, signalValues } from '../labels.js';
import { KSM } from './alerts.js';
import { num } from './naming.js';
import { fleetRecords } from './recording.js';
import type { RunbookContent } from './runbook-content.js';

/** A name or value as Markdown inline code. */
const code = (s: string) => `\`${s}\``;

/** Runbook content of the autoscaling and forecast alerts, per alert name. */
export function autoscalingRunbooks(config: MixinConfig): Record<string, RunbookContent> {
  const r = fleetRecords(config);
  const t = config.thresholds;
  const { forecast, forecastError, forecastStale, recommendedReplicas } = SIGNALS;
  const reasons = (separator: string, ...v: SignalLabelValue<'forecastStale', 'reason'>[]) =>
    signalValues('forecastStale', 'reason', ...v)
      .map(code)
      .join(separator);
  return {
    RealtimeAutoscalerMaxedOut: {
      meaning:
        'An HPA of a realtime fleet has run at its `maxReplicas` for 15 minutes and reports ScalingLimited=True: the load on its metrics (actual, or predicted through the tidewatch trigger) is above the target per pod.',
      impact:
        'Every pod carries more connections than planned: latency and event-loop lag rise, and a further surge has nowhere to go.',
      diagnosis: [
        { query: `${KSM.current} / ${KSM.max}`, text: 'HPAs at their ceiling:' },
        {
          query: `sum by (job) (${r.connections})`,
          text: 'The fleet load against the target per pod (the scaling threshold):',
        },
        {
          query: SIGNALS.scalingThreshold.name,
          text: 'The per-replica threshold the predictor publishes.',
        },
        {
          text: '`kubectl describe hpa <name>` shows the conditions and which metric wants more replicas.',
        },
      ],
      mitigation: [
        'Raise `maxReplicas` if the cluster has room (check pending pods and node autoscaling).',
        'If the predicted trigger alone drives it, check the forecast against reality before raising limits.',
        'Shed load gracefully (close idle connections, refuse new ones with 1013) rather than letting every pod degrade.',
      ],
    },
    TidewatchPredictedLoadAboveCapacity: {
      meaning: `Within the lead time (pod start, readiness, metric lag, polling) the forecast needs at least as many replicas as the HPA scaling this target may run: ${code(`${recommendedReplicas.name}{target}`)} >= \`maxReplicas\` of the HPA whose scale target is that Deployment. The comparison is \`>=\` because the predictor clamps its recommendation to its own \`planner.maxReplicas\`; when that equals the HPA maximum, "needs more" shows as "needs all".`,
      impact:
        "When the predicted peak arrives the fleet is at its ceiling and runs above its target utilisation; past the forecast's p90 it overloads. This is the early warning: there is still time to act.",
      diagnosis: [
        {
          query: SIGNALS.predictedLoad.name,
          text: 'The predicted load (max of p50 peak and target utilisation x p90 peak) and the forecast quantiles:',
        },
        {
          query: `${forecast.name}{${signalMatcher('forecast', 'quantile', '0.9')}}`,
          text: 'The p90 peak over the lead time.',
        },
        {
          query: `${forecastError.name}{${signalMatcher('forecastError', 'measure', 'rolling_mase')}}`,
          text: 'How good the forecast has been lately (below 1 beats the seasonal-naive baseline).',
        },
        { query: KSM.max, text: 'The HPA maximum.' },
        {
          text: `The join uses kube-state-metrics' ${code(`${KSM.info}{scaletargetref_name}`)}: set the sidecar's \`target\` to the Deployment name and scrape both with the same \`namespace\` label.`,
        },
      ],
      mitigation: [
        'Raise the HPA `maxReplicas` (and make sure nodes can be added) before the peak.',
        `If the forecast is wrong (an anomaly in the history, a one-off event), check ${code(forecastError.name)} and the status page; the predictive trigger only adds capacity, so a wrong high forecast costs money, not availability.`,
        'Prepare load shedding for the peak if capacity cannot grow.',
      ],
    },
    TidewatchForecastStale: {
      meaning: `A predictor sidecar has published no usable forecast for 15 minutes: ${code(forecastStale.name)} has a reason, the forecast is older than ${num(t.forecastAgeSeconds)}s, it is missing, or the sidecar is down. A stale forecast publishes nothing (never 0).`,
      impact:
        'The predicted KEDA/HPA trigger reads no value, so the HPA follows the actual load alone: scaling is reactive and a surge is met only after new pods start (the lead time, minutes). Nothing breaks at once.',
      diagnosis: [
        {
          query: forecastStale.name,
          text: `The reasons (${reasons(', ', 'source_failing', 'data_old', 'forecast_old', 'model_mase', 'rolling_mase', 'too_little_history', 'training_failed')}, ...):`,
        },
        {
          query: `increase(${SIGNALS.sourceErrors.name}[15m])`,
          text: 'Failing collections per source (a scrape URL or Prometheus).',
        },
        {
          query: SIGNALS.historyPoints.name,
          text: 'History held: a fresh sidecar needs about 7 hours (at 60 s steps) before it trains, unless seeded.',
        },
        {
          query: `${forecastError.name}{${signalMatcher('forecastError', 'measure', 'mase', 'rolling_mase')}}`,
          text: 'Model quality against the staleness limits.',
        },
        {
          text: "The sidecar's `/forecast` and status page show the same reasons in words; its JSON logs show training failures.",
        },
      ],
      mitigation: [
        `${reasons('/', 'source_failing', 'data_old')}: fix the scrape URLs or the Prometheus query and credentials of the sidecar.`,
        `${reasons('', 'too_little_history')} after a fresh deploy: give the sidecar a \`dataDir\` on a persistent volume, a \`prometheus\` source (backfills history) or a \`seed.file\`.`,
        `${reasons('/', 'model_mase', 'rolling_mase')}: the load changed pattern; the model retrains daily, or restart training by restarting the sidecar. Meanwhile reactive scaling applies.`,
        'Sidecar down: check its pod, memory (history size) and logs.',
      ],
    },
  };
}
