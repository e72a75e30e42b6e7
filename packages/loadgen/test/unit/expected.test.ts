import { createRealtimeMetrics, metricsHandler } from '@tidewatch/middleware';
import { startHttpServer } from '@tidewatch/test-utils';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { expectedServerCounts, type LoadReport, readServerCounts } from '../../src/index.js';
import { Stats } from '../../src/report.js';

function report(transport: LoadReport['transport'], patch: (s: Stats) => void): LoadReport {
  const s = new Stats();
  patch(s);
  return s.snapshot(transport, 'x', 0, 1000);
}

describe('expectedServerCounts', () => {
  it('lists opened, clean and dropped closes, and both directions when nothing was lost', () => {
    const r = report('ws', (s) => {
      s.opened = 10;
      s.closedByClient = 10;
      s.msgSent = 30;
      s.bytesSent = 3000;
      s.msgReceived = 31;
      s.bytesReceived = 3100;
    });
    expect(expectedServerCounts(r)).toEqual({
      'realtime_connections_opened_total{transport="websocket"}': 10,
      'realtime_handshake_duration_seconds_count{transport="websocket",outcome="success"}': 10,
      'realtime_connections_closed_total{transport="websocket",reason="normal",initiator="client"}': 10,
      'realtime_connections_closed_total{transport="websocket",reason="abnormal",initiator="client"}': 0,
      'realtime_messages_total{transport="websocket",direction="in"}': 30,
      'realtime_message_bytes_total{transport="websocket",direction="in"}': 3000,
      'realtime_messages_total{transport="websocket",direction="out"}': 31,
      'realtime_message_bytes_total{transport="websocket",direction="out"}': 3100,
    });
  });

  it('drops out counts after drops, message counts after abnormal server closes; SSE has no in', () => {
    const dropped = expectedServerCounts(
      report('socket.io', (s) => (s.dropped = 2)),
      { prefix: 'rt_' },
    );
    expect(Object.keys(dropped).some((k) => k.includes('direction="out"'))).toBe(false);
    expect(dropped['rt_messages_total{transport="socketio_websocket",direction="in"}']).toBe(0);
    const cut = expectedServerCounts(report('ws', (s) => s.fail('close-1006')));
    expect(Object.keys(cut).some((k) => k.includes('direction'))).toBe(false);
    const sse = expectedServerCounts(report('sse', () => {}));
    expect(Object.keys(sse).some((k) => k.includes('direction="in"'))).toBe(false);
    // An SSE client closes by aborting: an event written as it closed is never received.
    expect(Object.keys(sse).some((k) => k.includes('direction="out"'))).toBe(false);
  });
});

describe('readServerCounts', () => {
  it('sums matching series of a real middleware exposition, agreeing with an independent parser', async () => {
    const metrics = createRealtimeMetrics({ registry: new Registry() });
    const server = await startHttpServer(metricsHandler(metrics));
    const text = await (await fetch(`${server.url}/metrics`)).text();
    await server.close();
    metrics.close();
    // The middleware's exposition (HELP/TYPE lines, histograms...) with samples added where
    // its messages family is, as a server with traffic would show them.
    const at = text.indexOf('# TYPE realtime_messages_total counter\n');
    expect(at).toBeGreaterThan(-1);
    const cut = at + '# TYPE realtime_messages_total counter\n'.length;
    const samples =
      'realtime_messages_total{transport="websocket",endpoint="/a",direction="in",client_type="web"} 5\n' +
      'realtime_messages_total{transport="websocket",endpoint="/b",direction="in",client_type="ios"} 7\n' +
      'realtime_messages_total{transport="websocket",endpoint="/b",direction="out",client_type="ios"} 11\n' +
      'realtime_messages_total{transport="sse",endpoint="/e\\"q",direction="in",client_type="x"} 13\n';
    const handmade = text.slice(0, cut) + samples + text.slice(cut);
    const keys = [
      'realtime_messages_total{transport="websocket",direction="in"}',
      'realtime_messages_total{direction="in"}',
      'realtime_messages_total',
      'realtime_messages_total{endpoint="/e\\"q"}',
      'realtime_connections_opened_total',
    ];
    expect(readServerCounts(handmade, keys)).toEqual({
      [keys[0]!]: 12,
      [keys[1]!]: 25,
      [keys[2]!]: 36,
      [keys[3]!]: 13,
      [keys[4]!]: 0,
    });
    const fam = parsePrometheusTextFormat(handmade).find(
      (f) => f.name === 'realtime_messages_total',
    );
    expect(fam?.metrics.reduce((s, m) => s + Number(m.value), 0)).toBe(36);
  });
});
