import { type PrometheusHandle, promtool, startPrometheus } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closed,
  connect,
  type EchoServer,
  echoAll,
  scrapeAfterCloses,
  startEchoServer,
  until,
} from '../helpers.js';

const TOKEN = 'scrape-secret';
const N = 30;
const M = 7;
let srv: EchoServer;
let prom: PrometheusHandle;

beforeAll(async () => {
  srv = await startEchoServer({ token: TOKEN, instrument: { endpoint: 'chat' } });
  const clients = await Promise.all(Array.from({ length: N }, () => connect(srv.url)));
  await echoAll(clients, M, (_i, j) => `message ${j}`);
  for (const ws of clients.slice(0, 10)) ws.close(1000);
  for (const ws of clients.slice(10, 15)) ws.close(1001);
  await Promise.all(clients.slice(0, 15).map(closed));
  await scrapeAfterCloses(srv, 15);
  const url = `http://127.0.0.1:${srv.port}/metrics`;
  prom = await startPrometheus({
    scrapeTargets: [
      { job: 'realtime', url, bearerToken: TOKEN },
      { job: 'no-token', url },
    ],
  });
});

afterAll(async () => {
  await prom?.stop();
  await srv?.close();
});

describe('a real Prometheus scraping /metrics with auth', () => {
  it('PromQL returns exactly what the clients did', async () => {
    const one = (r: { value: number }[]) => r.length === 1;
    const q = (promql: string) => prom.waitFor(promql, one, { timeoutMs: 20_000 });
    expect((await q('sum(realtime_messages_total{job="realtime",direction="in"})'))[0]!.value).toBe(
      N * M,
    );
    expect(
      (await q('sum(realtime_messages_total{job="realtime",direction="out"})'))[0]!.value,
    ).toBe(N * M);
    expect(
      (await q('sum(realtime_connections_opened_total{job="realtime",endpoint="chat"})'))[0]!.value,
    ).toBe(N);
    const byReason = await prom.waitFor(
      'sum by (reason, initiator) (realtime_connections_closed_total{job="realtime"})',
      (r) => r.length === 2,
    );
    const closes = Object.fromEntries(
      byReason.map((s) => [`${s.metric.reason}/${s.metric.initiator}`, s.value]),
    );
    expect(closes).toEqual({ 'normal/client': 10, 'going_away/client': 5 });
    expect((await q('sum(realtime_connections{job="realtime"})'))[0]!.value).toBe(N - 15);
    // Every handshake is in the histogram, and a latency quantile comes out of its buckets.
    expect(
      (
        await q('sum(realtime_handshake_duration_seconds_count{job="realtime",outcome="success"})')
      )[0]!.value,
    ).toBe(N);
    const p99 = await q(
      'histogram_quantile(0.99, sum by (le) (realtime_handshake_duration_seconds_bucket{job="realtime",outcome="success"}))',
    );
    expect(Number.isFinite(p99[0]!.value) && p99[0]!.value > 0).toBe(true);
  });

  it('a scrape without the token is refused with 401', async () => {
    let target: Awaited<ReturnType<PrometheusHandle['targets']>>[number] | undefined;
    await until(
      'the no-token target reports its failure',
      async () => {
        target = (await prom.targets()).find((t) => t.scrapePool === 'no-token');
        return target?.health === 'down';
      },
      20_000,
    );
    expect(target!.lastError).toMatch(/401/);
  });

  it('our exposition passes promtool check metrics', async () => {
    const exposition = await srv.registry.metrics();
    const res = await promtool(['check', 'metrics'], { input: exposition });
    expect(res.stderr + res.stdout).toBe('');
    expect(res.code).toBe(0);
  });
});
