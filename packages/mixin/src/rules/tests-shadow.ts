/**
 * Test scenarios of the shadow-report alert on the sidecar's `tidewatch_shadow_*` counters:
 * it fires with the prevented pod-minutes of the last 7 days once they pass
 * `thresholds.shadowPreventedPodMinutes` (pending before `for`), folds the two sidecars of one
 * fleet with `max` (a `sum` would double the value), and stays silent for a target where
 * prediction prevents nothing, one where it prevents less than the threshold, and for the same
 * series outside `predictorSelector`.
 */
import { SIGNALS } from '@tidewatch/conventions';
import type { MixinConfig } from '../config.js';
import { signalValue } from '../labels.js';
import { SHADOW_ALERT } from './shadow.js';
import {
  checks,
  counter,
  type SeriesSpec,
  type TestFileSpec,
  withBelow,
  withDecoys,
} from './tests-gen.js';
import { choose, inScope } from './tests-scope.js';

/** Minutes every scenario's counters run. */
const RUN = 60;

/** The shadow-report scenarios (`alerts/tests/shadow.yaml`). */
export function shadowTests(config: MixinConfig): TestFileSpec {
  const limit = config.thresholds.shadowPreventedPodMinutes;
  const base = choose(
    config.predictorSelector,
    { job: 'tidewatch-predictor', namespace: 'default' },
    { job: ['tidewatch-predictor', 'tidewatch', 'predictor'] },
  );
  const over = SIGNALS.shadowOverloadedPodMinutes.name;
  /** One sidecar's counter of `policy` for `target`, growing `perMinute` from 0. */
  const series = (
    instance: string,
    target: string,
    policy: 'actual' | 'predictive',
    perMinute: number,
  ): SeriesSpec => ({
    labels: inScope(config.predictorSelector, {
      ...base,
      instance,
      policy: signalValue('shadowOverloadedPodMinutes', 'policy', policy),
      target,
    }),
    name: over,
    values: counter([[perMinute, RUN]]),
  });
  /** Both policies of a target on one sidecar: prediction prevents `prevented` per minute. */
  const pair = (instance: string, target: string, prevented: number) => [
    series(instance, target, 'actual', prevented + 1),
    series(instance, target, 'predictive', 1),
  ];
  // chat passes the limit after 20 minutes (the condition holds from minute 21, `for` is 30m).
  const chat = limit / 20;
  const list = withBelow([
    {
      alerts: checks(
        SHADOW_ALERT,
        [
          {
            labels: { namespace: base.namespace as string, severity: 'info', target: 'chat' },
            value: chat * RUN,
          },
        ],
        RUN,
        40,
      ),
      below: (x) => x.labels.target !== 'chat',
      name: `prediction would have prevented: chat (two sidecars, ${chat * RUN} pod-minutes) fires; news (nothing prevented) and feed (below ${limit}) stay silent`,
      series: [
        ...pair('chat-0:9464', 'chat', chat),
        ...pair('chat-1:9464', 'chat', chat),
        ...pair('news-0:9464', 'news', 0),
        ...pair('feed-0:9464', 'feed', limit / (2 * RUN)),
      ],
    },
  ]);
  return {
    path: 'alerts/tests/shadow.yaml',
    scenarios: withDecoys(
      [{ field: 'predictorSelector', selector: config.predictorSelector }],
      list,
    ),
  };
}
