/**
 * The connection and close alerts on the newer transports (`alerts/tests/transports.yaml`):
 * an MQTT broker and a gRPC streaming service report the same catalogue metrics with
 * `transport="mqtt"` / `"grpc"`, and the fleet alerts must fire for them as for WebSocket
 * (the handshake SLO burns are shown per transport in the SLO files). Each firing case has a
 * silent twin below the threshold, and decoys outside `ruleSelector`.
 */
import type { MixinConfig } from '../config.js';
import { metric } from './naming.js';
import {
  checks,
  constant,
  counter,
  fleetValues,
  type Scenario,
  type SeriesSpec,
  steps,
  type TestFileSpec,
  withDecoys,
} from './tests-gen.js';
import { inScope } from './tests-scope.js';

/** Minutes every scenario's series run. */
const RUN = 40;

/** The endpoint label each new transport reports (a topic root, a gRPC method). */
const ENDPOINTS = { grpc: '/chat.Chat/Subscribe', mqtt: 'mqtt' } as const;
type NewTransport = keyof typeof ENDPOINTS;

/** The transport test file. */
export function transportTests(config: MixinConfig): TestFileSpec {
  const t = config.thresholds;
  const fleet = fleetValues(config);
  const server = (instance: string, transport: NewTransport, extra: Record<string, string>) =>
    inScope(config.ruleSelector, {
      ...fleet,
      endpoint: ENDPOINTS[transport],
      instance,
      transport,
      ...extra,
    });
  const conns = (instance: string, transport: NewTransport, values: string): SeriesSpec => ({
    labels: server(instance, transport, { state: 'active' }),
    name: metric(config, 'connections'),
    values,
  });
  // MQTT clients on chat-0 stay; the gRPC streams of chat-1 lose `share` of the fleet at minute 20.
  const peak = Math.max(1000, t.massDisconnectMinConnections * 10);
  const lostShare = Math.min(0.95, t.massDisconnectRatio + 0.15);
  const dropTo = (share: number) => [
    conns('chat-0', 'mqtt', constant(peak / 2, RUN)),
    conns(
      'chat-1',
      'grpc',
      steps([
        [peak / 2, 20],
        [peak / 2 - Math.round(peak * share), RUN - 19],
      ]),
    ),
  ];
  const closed = (instance: string, transport: NewTransport, reason: string, perMinute: number) =>
    ({
      labels: server(instance, transport, { initiator: 'client', reason }),
      name: metric(config, 'connectionsClosed'),
      values: counter([[perMinute, RUN]]),
    }) satisfies SeriesSpec;
  // 100 closes per minute over both transports, `bad` of them unclean: MQTT clients gone
  // without DISCONNECT (abnormal), gRPC streams ended by a server fault (error).
  const closeMix = (bad: number) => [
    closed('chat-0', 'mqtt', 'normal', 50 - Math.ceil(bad / 2)),
    closed('chat-0', 'mqtt', 'abnormal', Math.ceil(bad / 2)),
    closed('chat-1', 'grpc', 'normal', 50 - (bad - Math.ceil(bad / 2))),
    closed('chat-1', 'grpc', 'error', bad - Math.ceil(bad / 2)),
  ];
  const abnormalHigh = Math.min(99, Math.round(t.abnormalCloseRatio * 100) + 5);
  const scope = [{ field: 'ruleSelector', selector: config.ruleSelector }];
  const scenarios: Scenario[] = [
    {
      alerts: checks(
        'RealtimeMassDisconnect',
        [{ labels: { ...fleet, severity: 'critical' }, value: lostShare }],
        25,
        21,
      ),
      name: 'mass disconnect: an MQTT + gRPC fleet losing its gRPC streams fires',
      series: dropTo(lostShare),
    },
    {
      alerts: [{ alert: 'RealtimeMassDisconnect', at: 25, firing: [] }],
      name: 'mass disconnect: the MQTT + gRPC fleet losing less stays silent',
      series: dropTo(t.massDisconnectRatio / 2),
    },
    {
      alerts: checks(
        'RealtimeAbnormalClosuresHigh',
        [{ labels: { ...fleet, severity: 'warning' }, value: abnormalHigh / 100 }],
        30,
        10,
      ),
      name: 'abnormal closures: unclean MQTT and gRPC closes above the ratio fire',
      series: closeMix(abnormalHigh),
    },
    {
      alerts: [{ alert: 'RealtimeAbnormalClosuresHigh', at: 30, firing: [] }],
      name: 'abnormal closures: MQTT and gRPC below the ratio stay silent',
      series: closeMix(Math.max(0, Math.floor(t.abnormalCloseRatio * 100) - 1)),
    },
  ];
  return { path: 'alerts/tests/transports.yaml', scenarios: withDecoys(scope, scenarios) };
}
