import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type EchoServer,
  seriesCount,
  startEchoServer,
  until,
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

describe('cardinality flood', () => {
  it('100,000 distinct endpoints: series stay within the cap and the heap stays bounded', async () => {
    const cap = 500;
    srv = await startEchoServer({
      metrics: { seriesCap: cap },
      // An application that (wrongly) labels by raw path: the guard must contain it.
      instrument: { endpoint: (req) => req.url ?? '' },
    });
    const s = srv;
    await flood(s.port, 0, 10_000);
    await until(
      'first wave closed',
      async () => value(await s.scrape(), 'realtime_connections_closed_total') === 10_000,
      30_000,
    );
    const heapAt10k = heapAfterGc();
    await flood(s.port, 10_000, 90_000);
    let fams = await s.scrape();
    await until(
      'all closes counted',
      async () => {
        fams = await s.scrape();
        return value(fams, 'realtime_connections_closed_total') === 100_000;
      },
      30_000,
    );
    const heapAt100k = heapAfterGc();

    // Totals stay exact: folding changes labels, never counts.
    expect(value(fams, 'realtime_connections_opened_total')).toBe(100_000);
    expect(value(fams, 'realtime_connections_opened_total', { endpoint: '__overflow__' })).toBe(
      100_000 - cap,
    );
    // Per metric: at most `cap` real series, plus the overflow series (one per closed-label
    // combination): opened_total has none, so cap + 1 in all.
    expect(seriesCount(fams, 'realtime_connections_opened_total')).toBe(cap + 1);
    for (const f of fams) {
      const real = f.metrics.filter((m) => !Object.values(m.labels ?? {}).includes('__overflow__'));
      expect(real.length, f.name).toBeLessThanOrEqual(cap);
      expect(f.metrics.length, f.name).toBeLessThanOrEqual(cap + 8);
    }
    // The handshake histogram folds too; connections closed normally, by the client.
    expect(
      value(fams, 'realtime_connections_closed_total', { reason: 'normal', initiator: 'client' }),
    ).toBe(100_000);
    const dropped = value(fams, 'realtime_series_dropped_total', {
      metric: 'realtime_connections_opened_total',
    });
    expect(dropped).toBe(100_000 - cap);
    // 90,000 more distinct values after the first 10,000 may not grow the heap by more than
    // a few MiB (unguarded, each would keep ~10 series objects alive: >100 MiB).
    expect(heapAt100k - heapAt10k).toBeLessThan(8 * 1024 * 1024);
    expect(value(fams, 'realtime_connections')).toBe(0);
  }, 180_000);
});
