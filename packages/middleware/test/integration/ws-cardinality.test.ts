import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { CATALOG, CLOSE_REASONS, HANDSHAKE_OUTCOMES, OVERFLOW_VALUE } from '@tidewatch/conventions';
import { pollUntil } from '@tidewatch/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type EchoServer,
  exposedSeries,
  histogram,
  parseExposition,
  startEchoServer,
  upgradeRequest,
  value,
} from '../helpers.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

let srv: EchoServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

/**
 * Opens `count` real WebSocket connections with distinct paths, `concurrency` at a time:
 * each sends an upgrade request, waits for the 101, then closes with a close frame.
 */
async function flood(port: number, from: number, count: number, concurrency = 64): Promise<void> {
  let next = from;
  const end = from + count;
  // A masked close frame with code 1000 (mask key 0 keeps the payload readable).
  const closeFrame = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1', () =>
        sock.write(upgradeRequest(`/ws?room=${i}`)),
      );
      let upgraded = false;
      sock.on('data', (d) => {
        if (!upgraded && d.toString('latin1').startsWith('HTTP/1.1 101')) {
          upgraded = true;
          sock.write(closeFrame);
        }
      });
      sock.on('error', reject);
      sock.on('close', () => (upgraded ? resolve() : reject(new Error(`no 101 for ${i}`))));
    });
  const worker = async () => {
    while (next < end) await one(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

const CAP = 2000; // the default seriesCap
const TOTAL = 20_000;
const FIRST = 2_000;

/** Scrapes until every one of `closes` connections is counted closed; returns the raw text. */
async function textAfterCloses(s: EchoServer, closes: number): Promise<string> {
  return pollUntil(
    async () => (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text(),
    (text) => value(parseExposition(text), 'realtime_connections_closed_total') === closes,
    { timeoutMs: 120_000, intervalMs: 500, description: `${closes} closes counted` },
  );
}

describe('cardinality flood', () => {
  it('20,000 distinct endpoints: every family exposes at most seriesCap series; totals exact; heap bounded', async () => {
    srv = await startEchoServer({
      // An application that (wrongly) labels by raw path: the guard must contain it.
      instrument: { endpoint: (req) => req.url ?? '' },
    });
    const s = srv;
    await flood(s.port, 0, FIRST);
    await textAfterCloses(s, FIRST);
    const heapAtFirst = heapAfterGc();
    await flood(s.port, FIRST, TOTAL - FIRST);
    const text = await textAfterCloses(s, TOTAL);
    const heapAtTotal = heapAfterGc();
    const fams = parseExposition(text);

    // The cap counts exposed series (a histogram label set is buckets + 3 of them), with
    // room for the overflow kept: no family goes past it, before or after overflow.
    const exposed = exposedSeries(text);
    for (const [family, n] of exposed) expect(n, family).toBeLessThanOrEqual(CAP);
    const duration = CATALOG.connectionDuration.buckets.length + 3;
    const handshake = CATALOG.handshakeDuration.buckets.length + 3;
    // Real label sets that fit beside one overflow label set per closed-label combination.
    const durationSets = Math.floor(CAP / duration) - CLOSE_REASONS.length;
    const handshakeSets = Math.floor(CAP / handshake) - HANDSHAKE_OUTCOMES.length;
    expect(exposed.get('realtime_connections_opened_total')).toBe(CAP);
    // All closed normally: one overflow label set (reason="normal") besides the real ones.
    expect(exposed.get('realtime_connection_duration_seconds')).toBe((durationSets + 1) * duration);
    expect(exposed.get('realtime_handshake_duration_seconds')).toBe(
      (handshakeSets + 1) * handshake,
    );

    // Totals stay exact: folding changes labels, never counts.
    const overflow = { endpoint: OVERFLOW_VALUE };
    expect(value(fams, 'realtime_connections_opened_total')).toBe(TOTAL);
    expect(value(fams, 'realtime_connections_opened_total', overflow)).toBe(TOTAL - (CAP - 1));
    expect(
      value(fams, 'realtime_series_dropped_total', { metric: 'realtime_connections_opened_total' }),
    ).toBe(TOTAL - (CAP - 1));
    expect(value(fams, 'realtime_connections_closed_total')).toBe(TOTAL);
    expect(
      value(fams, 'realtime_connections_closed_total', { reason: 'normal', initiator: 'client' }),
    ).toBe(TOTAL);
    const lifetimes = histogram(fams, 'realtime_connection_duration_seconds');
    expect(lifetimes.count).toBe(TOTAL);
    expect(lifetimes.buckets['+Inf']).toBe(TOTAL);
    const folded = histogram(fams, 'realtime_connection_duration_seconds', overflow);
    expect(folded.count).toBe(TOTAL - durationSets);
    expect(folded.buckets['+Inf']).toBe(folded.count);
    const handshakes = histogram(fams, 'realtime_handshake_duration_seconds', {
      outcome: 'success',
    });
    expect(handshakes.count).toBe(TOTAL);
    expect(
      histogram(fams, 'realtime_handshake_duration_seconds', { ...overflow, outcome: 'success' })
        .count,
    ).toBe(TOTAL - handshakeSets);
    expect(value(fams, 'realtime_connections')).toBe(0);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(0);

    // 18,000 more distinct values after the first 2,000 may not grow the heap by more than
    // a few MiB (unguarded, each would keep ~10 series objects alive: tens of MiB).
    expect(heapAtTotal - heapAtFirst).toBeLessThan(8 * 1024 * 1024);
  }, 600_000);
});
