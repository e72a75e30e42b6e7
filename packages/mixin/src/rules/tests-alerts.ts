/**
 * Test scenarios of the non-SLO alerts: for each, a case that fires (exact labels and
 * `$value`), one below the threshold, one before `for` elapses, and where the alert is scoped
 * (drains, non-realtime jobs, other HPAs) one that shows the scope holds. Every number is
 * derived from the config's thresholds, so changing a threshold moves the test with it.
 */

import type { MixinConfig } from '../config.js';
import { metric } from './naming.js';
import { autoscalingScenarios } from './tests-autoscaling.js';
import {
  checks,
  constant,
  counter,
  fleetValues,
  type Scenario,
  type ScopeSelectors,
  type SeriesSpec,
  steps,
  type TestFileSpec,
  withBelow,
  withDecoys,
} from './tests-gen.js';
import { decoys, equalityLabels, inScope, scoped } from './tests-scope.js';

/** Minutes every scenario's series run. */
const RUN = 40;

/** Server-side label sets for `instance` of the test fleet, in the rule selector's scope. */
function server(config: MixinConfig, instance: string, extra: Record<string, string> = {}) {
  return inScope(config.ruleSelector, { ...fleetValues(config), instance, ...extra });
}

/** The selector the server series are read through. */
const ruleScope = (config: MixinConfig): ScopeSelectors => [
  { field: 'ruleSelector', selector: config.ruleSelector },
];

/** Fleet-level scenarios: mass disconnect, abnormal closes, dropped messages. */
function fleetScenarios(config: MixinConfig): Scenario[] {
  const t = config.thresholds;
  const fleet = fleetValues(config);
  const conns = metric(config, 'connections');
  const closed = metric(config, 'connectionsClosed');
  const ws = { endpoint: '/ws', transport: 'websocket' };
  const conn = (instance: string, values: string): SeriesSpec => ({
    labels: server(config, instance, { ...ws, state: 'active' }),
    name: conns,
    values,
  });
  // A fleet of 2 x half the peak; chat-1 loses `lost` of the fleet's connections at minute 20.
  const peak = Math.max(1000, config.thresholds.massDisconnectMinConnections * 10);
  const lostShare = Math.min(0.95, t.massDisconnectRatio + 0.15);
  const lost = Math.round(peak * lostShare);
  const dropTo = (share: number) => [
    conn('chat-0', constant(peak / 2, RUN)),
    conn(
      'chat-1',
      steps([
        [peak / 2, 20],
        [peak / 2 - Math.round(peak * share), RUN - 19],
      ]),
    ),
  ];
  const shutdown = (closes: number): SeriesSpec => ({
    labels: server(config, 'chat-1', { ...ws, initiator: 'server', reason: 'server_shutdown' }),
    name: closed,
    values: counter([
      [0, 19],
      [closes, 1],
      [0, RUN - 20],
    ]),
  });
  const crit = { ...fleet, severity: 'critical' };
  const warn = { ...fleet, severity: 'warning' };
  const small = config.thresholds.massDisconnectMinConnections;
  const closes = (reason: string, perMinute: number): SeriesSpec => ({
    labels: server(config, 'chat-0', { ...ws, initiator: 'client', reason }),
    name: closed,
    values: counter([[perMinute, RUN]]),
  });
  // Closes per minute: 100 in total, `bad` of them abnormal or error.
  const closeMix = (bad: number) => [
    closes('normal', 100 - bad),
    closes('abnormal', Math.ceil(bad / 2)),
    closes('error', bad - Math.ceil(bad / 2)),
  ];
  const abnormalHigh = Math.round(t.abnormalCloseRatio * 100) + 5;
  const msgs = (direction: string, perMinute: number, clientType = 'browser'): SeriesSpec => ({
    labels: server(config, 'chat-0', { ...ws, client_type: clientType, direction }),
    name: metric(config, 'messages'),
    values: counter([[perMinute, RUN]]),
  });
  const drops = (perMinute: number): SeriesSpec => ({
    labels: server(config, 'chat-0', { reason: 'backpressure', transport: 'websocket' }),
    name: metric(config, 'messagesDropped'),
    values: counter([[perMinute, RUN]]),
  });
  // Sends per minute: 1000 attempts, `dropped` of them dropped.
  const dropMix = (dropped: number) => [
    msgs('in', 5000),
    msgs('out', 700 - dropped),
    msgs('out', 300, 'mobile'),
    drops(dropped),
  ];
  const dropHigh = Math.round(t.droppedMessageRatio * 1000) * 2;
  return withDecoys(ruleScope(config), [
    {
      alerts: checks('RealtimeMassDisconnect', [{ labels: crit, value: lostShare }], 25, 21),
      name: 'mass disconnect: fires 2m after the fleet loses connections',
      series: dropTo(lostShare),
    },
    {
      alerts: [{ alert: 'RealtimeMassDisconnect', at: 25, firing: [] }],
      name: 'mass disconnect: a smaller drop stays silent',
      series: dropTo(t.massDisconnectRatio / 2),
    },
    {
      alerts: [{ alert: 'RealtimeMassDisconnect', at: 25, firing: [] }],
      name: 'mass disconnect: a drain (server_shutdown closes explain the drop) stays silent',
      series: [...dropTo(lostShare), shutdown(lost)],
    },
    {
      alerts: [
        { alert: 'RealtimeMassDisconnect', at: 25, firing: [{ labels: crit, value: lostShare }] },
      ],
      name: 'mass disconnect: shutdown closes that explain too little do not hide it',
      series: [
        ...dropTo(lostShare),
        shutdown(Math.floor(lost * config.thresholds.drainExplainedRatio * 0.5)),
      ],
    },
    {
      alerts: [{ alert: 'RealtimeMassDisconnect', at: 25, firing: [] }],
      name: 'mass disconnect: a fleet below the minimum size stays silent',
      series: [
        conn(
          'chat-0',
          steps([
            [small - 1, 20],
            [0, RUN - 19],
          ]),
        ),
      ],
    },
    {
      alerts: checks(
        'RealtimeAbnormalClosuresHigh',
        [{ labels: warn, value: abnormalHigh / 100 }],
        30,
        10,
      ),
      name: 'abnormal closures: fires after 15m above the ratio',
      series: closeMix(abnormalHigh),
    },
    {
      alerts: [{ alert: 'RealtimeAbnormalClosuresHigh', at: 30, firing: [] }],
      name: 'abnormal closures: below the ratio stays silent',
      series: closeMix(Math.max(0, Math.floor(t.abnormalCloseRatio * 100) - 1)),
    },
    {
      alerts: checks('RealtimeMessagesDropped', [{ labels: warn, value: dropHigh / 1000 }], 30, 8),
      name: 'messages dropped: fires after 10m above the ratio (inbound traffic ignored)',
      series: dropMix(dropHigh),
    },
    {
      alerts: [{ alert: 'RealtimeMessagesDropped', at: 30, firing: [] }],
      name: 'messages dropped: below the ratio stays silent',
      series: dropMix(Math.floor((t.droppedMessageRatio * 1000) / 2)),
    },
  ]);
}

/** Instance-level scenarios: slow consumers, heartbeats, event-loop lag, fds, scrape health. */
function instanceScenarios(config: MixinConfig): Scenario[] {
  const t = config.thresholds;
  const warn = (instance: string) => ({ ...fleetValues(config), instance, severity: 'warning' });
  const conns = (instance: string): SeriesSpec => ({
    labels: server(config, instance, { endpoint: '/ws', state: 'active', transport: 'websocket' }),
    name: metric(config, 'connections'),
    values: constant(100, RUN),
  });
  const slow = (instance: string, transport: string, v: number): SeriesSpec => ({
    labels: server(config, instance, { transport }),
    name: metric(config, 'slowConsumers'),
    values: constant(v, RUN),
  });
  const slowHigh = Math.floor(t.slowConsumers) + 5;
  const hb = (instance: string, outcome: string, perMinute: number): SeriesSpec => ({
    labels: server(config, instance, { outcome, transport: 'websocket' }),
    name: metric(config, 'heartbeats'),
    values: counter([[perMinute, RUN]]),
  });
  const hbHigh = t.heartbeatTimeoutsPerSecond * 2;
  const gauge = (name: string, labels: Record<string, string>, v: number): SeriesSpec => ({
    labels,
    name,
    values: constant(v, RUN),
  });
  const lagHigh = Math.min(59, t.eventLoopLagSeconds * 2.5);
  // A target outside the realtime jobs, with whatever else the selector asks for.
  const fleetJob = fleetValues(config).job;
  const other = scoped(config.ruleSelector, {
    instance: 'batch-0',
    job: fleetJob === 'batch' ? 'cron' : 'batch',
  }).labels;
  const fdMax = 1000;
  const fdHigh = Math.min(fdMax, Math.round((t.fdRatio + (1 - t.fdRatio) / 2) * fdMax));
  const absentLabels = { ...equalityLabels(config.ruleSelector), severity: 'critical' };
  const notInstance = (i: string) => (x: SeriesSpec) => x.labels.instance !== i;
  // absent() fires when the only connections are out of scope: decoys the other way round.
  const absentDecoys = decoys(config.ruleSelector).flatMap((d): Scenario[] => {
    const c = conns('chat-0');
    const labels = d.relabel(c.labels);
    if (!labels) return [];
    return [
      {
        alerts: [
          { alert: 'RealtimeMetricsAbsent', at: 15, firing: [{ labels: absentLabels, value: 1 }] },
        ],
        name: `metrics absent: fires while the only connections are outside ruleSelector (${d.matcher} broken)`,
        series: [{ ...c, labels }],
      },
    ];
  });
  const list = withBelow([
    {
      alerts: checks(
        'RealtimeSlowConsumers',
        [{ labels: warn('chat-0'), value: slowHigh }],
        20,
        10,
      ),
      below: notInstance('chat-0'),
      name: 'slow consumers: summed over transports per instance; chat-1 below the threshold stays silent',
      series: [
        slow('chat-0', 'websocket', slowHigh - 2),
        slow('chat-0', 'sse', 2),
        slow('chat-1', 'websocket', Math.floor(t.slowConsumers)),
      ],
    },
    {
      alerts: checks(
        'RealtimeHeartbeatTimeouts',
        [{ labels: warn('chat-0'), value: hbHigh }],
        20,
        8,
      ),
      below: notInstance('chat-0'),
      name: 'heartbeat timeouts: chat-0 above the rate fires, chat-1 below and pongs are ignored',
      series: [
        hb('chat-0', 'timeout', hbHigh * 60),
        hb('chat-0', 'pong', 6000),
        hb('chat-1', 'timeout', t.heartbeatTimeoutsPerSecond * 30),
      ],
    },
    {
      alerts: checks(
        'RealtimeEventLoopLagHigh',
        [{ labels: warn('chat-0'), value: lagHigh }],
        20,
        8,
      ),
      below: notInstance('chat-0'),
      name: 'event-loop lag: chat-0 fires; chat-1 below and a non-realtime job above stay silent',
      series: [
        conns('chat-0'),
        conns('chat-1'),
        gauge('nodejs_eventloop_lag_p99_seconds', server(config, 'chat-0'), lagHigh),
        gauge(
          'nodejs_eventloop_lag_p99_seconds',
          server(config, 'chat-1'),
          t.eventLoopLagSeconds / 2,
        ),
        gauge('nodejs_eventloop_lag_p99_seconds', other, lagHigh),
      ],
    },
    {
      alerts: checks(
        'RealtimeFdExhaustion',
        [{ labels: warn('chat-0'), value: fdHigh / fdMax }],
        20,
        8,
      ),
      below: notInstance('chat-0'),
      name: 'fd exhaustion: chat-0 fires; chat-1 below and a non-realtime job above stay silent',
      series: [
        conns('chat-0'),
        conns('chat-1'),
        gauge('process_open_fds', server(config, 'chat-0'), fdHigh),
        gauge('process_max_fds', server(config, 'chat-0'), fdMax),
        gauge('process_open_fds', server(config, 'chat-1'), Math.floor((t.fdRatio * fdMax) / 2)),
        gauge('process_max_fds', server(config, 'chat-1'), fdMax),
        gauge('process_open_fds', other, fdMax),
        gauge('process_max_fds', other, fdMax),
      ],
    },
    {
      alerts: checks('RealtimeMetricsAbsent', [{ labels: absentLabels, value: 1 }], 15, 9),
      name: 'metrics absent: fires 10m after no server reports connections',
      series: [gauge('up', server(config, 'chat-0'), 1)],
    },
    {
      alerts: [{ alert: 'RealtimeMetricsAbsent', at: 15, firing: [] }],
      name: 'metrics absent: silent while connections are reported',
      series: [conns('chat-0')],
    },
    ...absentDecoys,
    {
      alerts: checks('RealtimeTargetDown', [{ labels: warn('chat-1'), value: 0 }], 10, 4),
      below: notInstance('chat-1'),
      name: 'target down: chat-1 down fires; a down target outside the realtime jobs stays silent',
      series: [
        conns('chat-0'),
        gauge('up', server(config, 'chat-0'), 1),
        gauge('up', server(config, 'chat-1'), 0),
        gauge('up', other, 0),
      ],
    },
  ]);
  return withDecoys(ruleScope(config), list, ['RealtimeMetricsAbsent']);
}

/** The non-SLO alert test files. */
export function alertTests(config: MixinConfig): TestFileSpec[] {
  return [
    { path: 'alerts/tests/fleet.yaml', scenarios: fleetScenarios(config) },
    { path: 'alerts/tests/instances.yaml', scenarios: instanceScenarios(config) },
    { path: 'alerts/tests/autoscaling.yaml', scenarios: autoscalingScenarios(config) },
  ];
}
