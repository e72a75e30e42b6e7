import {
  type DataPoint,
  DataPointType,
  type Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import {
  closed,
  connect,
  type EchoServer,
  echoAll,
  histogram,
  scrapeAfterCloses,
  startEchoServer,
  value,
} from '../helpers.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

let srv: EchoServer | undefined;
let provider: MeterProvider | undefined;
afterEach(async () => {
  await srv?.close();
  await provider?.shutdown();
  srv = undefined;
  provider = undefined;
});

type Points = Map<string, DataPoint<number | Histogram>[]>;

async function otelPoints(reader: TestReader): Promise<Points> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const out: Points = new Map();
  for (const sm of resourceMetrics.scopeMetrics) {
    expect(sm.scope.name).toBe('@tidewatch/middleware');
    for (const m of sm.metrics) {
      out.set(m.descriptor.name, m.dataPoints as DataPoint<number | Histogram>[]);
      if (m.dataPointType === DataPointType.HISTOGRAM)
        expect(m.descriptor.unit).toMatch(/^(s|By|\{.+\})$/);
    }
  }
  return out;
}

function sum(points: Points, name: string, want: Record<string, string> = {}): number {
  let total = 0;
  for (const p of points.get(name) ?? []) {
    if (Object.entries(want).every(([k, v]) => p.attributes[k] === v)) total += p.value as number;
  }
  return total;
}

describe('OpenTelemetry sink', () => {
  it('agrees with the Prometheus sink on the same traffic', async () => {
    const reader = new TestReader();
    provider = new MeterProvider({ readers: [reader] });
    srv = await startEchoServer({ metrics: { meterProvider: provider } });
    const clients = await Promise.all(Array.from({ length: 20 }, () => connect(srv!.url)));
    await echoAll(clients, 5, (i, j) => 'm'.repeat(10 + i * 50 + j));
    for (const ws of clients.slice(0, 8)) ws.close(1000);
    await Promise.all(clients.slice(0, 8).map(closed));
    const fams = await scrapeAfterCloses(srv!, 8);
    const points = await otelPoints(reader);

    expect(sum(points, 'realtime.server.connections.opened')).toBe(20);
    expect(sum(points, 'realtime.server.connections.opened')).toBe(
      value(fams, 'realtime_connections_opened_total'),
    );
    for (const direction of ['in', 'out']) {
      expect(sum(points, 'realtime.server.messages', { direction })).toBe(100);
      expect(sum(points, 'realtime.server.messages', { direction })).toBe(
        value(fams, 'realtime_messages_total', { direction }),
      );
      expect(sum(points, 'realtime.server.message.bytes', { direction })).toBe(
        value(fams, 'realtime_message_bytes_total', { direction }),
      );
      const sizes = (points.get('realtime.server.message.size') ?? []).find(
        (p) => p.attributes.direction === direction,
      )!.value as Histogram;
      const prom = histogram(fams, 'realtime_message_size_bytes', { direction });
      expect(sizes.count).toBe(prom.count);
      expect(sizes.sum).toBe(prom.sum);
      // Same bucket advice as the catalogue: cumulative counts match bucket by bucket.
      expect(sizes.buckets.boundaries).toEqual([
        64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216,
      ]);
      let cum = 0;
      sizes.buckets.boundaries.forEach((b, i) => {
        cum += sizes.buckets.counts[i]!;
        expect(cum).toBe(prom.buckets[String(b)]);
      });
    }
    expect(
      sum(points, 'realtime.server.connections.closed', { reason: 'normal', initiator: 'client' }),
    ).toBe(8);
    expect(sum(points, 'realtime.server.connections')).toBe(12);
    expect(sum(points, 'realtime.server.connections')).toBe(value(fams, 'realtime_connections'));
    const hs = (points.get('realtime.server.handshake.duration') ?? [])[0]!;
    expect(hs.attributes.outcome).toBe('success');
    expect((hs.value as Histogram).count).toBe(20);
    expect((points.get('realtime.server.connection.duration') ?? [])[0]!.value).toMatchObject({
      count: 8,
    });
    for (const ws of clients.slice(8)) ws.close();
  });
});
