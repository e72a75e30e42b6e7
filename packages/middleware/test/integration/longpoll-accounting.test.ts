import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type LongPollOptions, longPoll } from '../../src/express.js';
import { createRealtimeMetrics, metricsHandler, type RealtimeMetrics } from '../../src/index.js';
import { type Family, histogram, scrape, sumBounds, until, value } from '../helpers.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

interface App {
  port: number;
  metrics: RealtimeMetrics;
  scrape: () => Promise<Family[]>;
  /** Requests the handler is holding without an answer (mode=hold). */
  held: Set<express.Response>;
  thrown: Error[];
  caught: unknown[];
}

/**
 * A long-polling express 5 app on 127.0.0.1:0. `mode` picks the answer: `data` (a JSON
 * body with `n` messages after 20 ms), `timeout` (204 after a 60 ms hold), `empty` (200
 * with no body after 60 ms), `crash` (the handler throws), `hold` (never answers).
 */
async function startPollApp(options: LongPollOptions): Promise<App> {
  const metrics = createRealtimeMetrics({ registry: new Registry() });
  const held = new Set<express.Response>();
  const thrown: Error[] = [];
  const caught: unknown[] = [];
  const app = express();
  app.get('/metrics', metricsHandler(metrics));
  app.get('/poll', longPoll(metrics, options), (req, res) => {
    const mode = req.query.mode;
    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(fn, ms);
      res.on('close', () => clearTimeout(t));
    };
    if (mode === 'crash') {
      const err = new Error('handler bug');
      thrown.push(err);
      throw err;
    }
    if (mode === 'data') {
      const n = Number(req.query.n);
      later(20, () => res.json({ messages: Array.from({ length: n }, (_, k) => `message ${k}`) }));
    } else if (mode === 'timeout') later(60, () => res.status(204).end());
    else if (mode === 'empty') later(60, () => res.status(200).end());
    else if (mode === 'hold') {
      held.add(res);
      res.on('close', () => held.delete(res));
    }
  });
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: unknown) => {
    caught.push(err);
    res.status(500).json({ error: 'internal' });
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  closers.push(async () => {
    metrics.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return {
    port,
    metrics,
    scrape: () => scrape(`http://127.0.0.1:${port}/metrics`),
    held,
    thrown,
    caught,
  };
}

/** One poll; resolves with the status and the body bytes the client received. */
function poll(
  port: number,
  query: string,
  headers: Record<string, string>,
  agent: http.Agent,
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: `/poll?${query}`, headers, agent },
      (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => {
          bytes += d.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

type Mode = 'data' | 'timeout' | 'empty' | 'crash';
const MODES: Mode[] = ['data', 'timeout', 'data', 'empty', 'data', 'crash'];

describe('long-polling accounting with a real express app and real clients', () => {
  it('counts waits by outcome, in-flight polls, retries, messages and bytes exactly', async () => {
    const s = await startPollApp({
      clientId: (req) => req.headers['x-client-id'] as string | undefined,
      countMessages: (body) => JSON.parse(body.toString()).messages.length,
    });
    const C = 12;
    const R = 5;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    closers.push(async () => agent.destroy());
    // What the clients saw, per client, in order: the expected metrics follow from it.
    const outcomes: string[][] = Array.from({ length: C }, () => []);
    let messages = 0;
    let dataBytes = 0;
    const pollAs = async (i: number, mode: Mode, n: number) => {
      const r = await poll(s.port, `mode=${mode}&n=${n}`, { 'x-client-id': `c${i}` }, agent);
      if (mode === 'data') {
        expect(r.status).toBe(200);
        messages += n;
        dataBytes += r.bytes;
        outcomes[i]!.push('data');
      } else if (mode === 'crash') {
        expect(r.status).toBe(500);
        outcomes[i]!.push('error');
      } else {
        expect(r.status).toBe(mode === 'timeout' ? 204 : 200);
        expect(r.bytes).toBe(0);
        outcomes[i]!.push('timeout');
      }
    };
    await Promise.all(
      Array.from({ length: C }, async (_, i) => {
        for (let r = 0; r < R; r++)
          await pollAs(i, MODES[(i + r) % MODES.length]!, 1 + ((i + r) % 3));
      }),
    );
    expect(s.caught).toEqual(s.thrown);
    expect(s.caught[0]).toBe(s.thrown[0]);

    // Four clients vanish mid-poll, then come back for data.
    const vanishing = Array.from({ length: 4 }, (_, i) => {
      const req = http.get({
        host: '127.0.0.1',
        port: s.port,
        path: '/poll?mode=hold',
        headers: { 'x-client-id': `c${i}` },
        agent: false,
      });
      req.on('error', () => {});
      return req;
    });
    await until('four polls held', () => s.held.size === 4);
    let fams = await s.scrape();
    const ep = { transport: 'long_polling', endpoint: '/poll' };
    expect(value(fams, 'realtime_requests_in_flight', ep)).toBe(4);
    for (const req of vanishing) req.destroy();
    await until('held polls closed', () => s.held.size === 0);
    for (let i = 0; i < 4; i++) outcomes[i]!.push('aborted');
    await Promise.all(Array.from({ length: 4 }, (_, i) => pollAs(i, 'data', 2)));

    const count = (o: string) => outcomes.flat().filter((x) => x === o).length;
    let retries = 0;
    for (const seq of outcomes) {
      for (let p = 1; p < seq.length; p++) if (seq[p - 1] !== 'data') retries++;
    }
    await until('every poll counted', async () => {
      fams = await s.scrape();
      return (
        histogram(fams, 'realtime_poll_wait_seconds').count === count('data') + count('timeout') + 4
      );
    });

    const wait = (outcome: string) => histogram(fams, 'realtime_poll_wait_seconds', { outcome });
    expect(wait('data').count).toBe(count('data'));
    expect(wait('timeout').count).toBe(count('timeout'));
    expect(wait('aborted').count).toBe(4);
    // Timeouts were held 60 ms, data 20 ms: the histogram sees the hold, not the client.
    // Floors set by the app's own timers (a loaded machine only lengthens a hold); no
    // ceiling, and the sums agree with the buckets.
    expect(wait('timeout').sum / count('timeout')).toBeGreaterThanOrEqual(0.055);
    expect(wait('data').buckets['0.01']).toBe(0);
    for (const o of ['data', 'timeout', 'aborted']) {
      const { min, max } = sumBounds(wait(o));
      expect(wait(o).sum, o).toBeGreaterThanOrEqual(min);
      expect(wait(o).sum, o).toBeLessThanOrEqual(max);
    }
    expect(count('error')).toBe(s.thrown.length);
    expect(
      value(fams, 'realtime_errors_total', { transport: 'long_polling', type: 'http_5xx' }),
    ).toBe(s.thrown.length);

    expect(retries).toBeGreaterThan(0);
    expect(value(fams, 'realtime_reconnects_total', ep)).toBe(retries);
    const out = { ...ep, direction: 'out' };
    expect(value(fams, 'realtime_messages_total', out)).toBe(messages);
    expect(value(fams, 'realtime_message_bytes_total', out)).toBe(dataBytes);
    const sizes = histogram(fams, 'realtime_message_size_bytes', {
      transport: 'long_polling',
      direction: 'out',
    });
    expect(sizes.count).toBe(messages);
    expect(sizes.sum).toBeCloseTo(dataBytes, 6);
    expect(value(fams, 'realtime_requests_in_flight', ep)).toBe(0);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(0);
    // Long-polling has no connections of its own.
    expect(value(fams, 'realtime_connections_opened_total', { transport: 'long_polling' })).toBe(0);
  });

  it('survives throwing classifiers and callbacks; the server keeps serving', async () => {
    const s = await startPollApp({
      endpoint: (req) => {
        if (req.headers['x-bad-endpoint'] !== undefined) throw new Error('endpoint bug');
        return 'inbox';
      },
      clientId: (req) => {
        if (req.headers['x-bad-id'] !== undefined) throw new Error('id bug');
        return undefined;
      },
      isEmpty: (_res, body) => {
        if (body.length > 0 && body.toString().includes('"message 2"'))
          throw new Error('isEmpty bug');
        return body.length === 0;
      },
      countMessages: () => Number.NaN,
    });
    const agent = new http.Agent({ keepAlive: true });
    closers.push(async () => agent.destroy());
    const get = (q: string, headers: Record<string, string> = {}) =>
      poll(s.port, q, headers, agent);
    expect((await get('mode=data&n=1', { 'x-bad-endpoint': '1' })).status).toBe(200);
    expect((await get('mode=data&n=3', { 'x-bad-id': '1' })).status).toBe(200);
    expect((await get('mode=timeout')).status).toBe(204);
    expect((await get('mode=crash')).status).toBe(500);
    expect(s.caught[0]).toBe(s.thrown[0]);
    expect((await get('mode=data&n=1')).status).toBe(200);

    let fams: Family[] = [];
    await until('the four answered polls counted', async () => {
      fams = await s.scrape();
      return histogram(fams, 'realtime_poll_wait_seconds').count === 4;
    });
    const errs = (site: string) => value(fams, 'realtime_instrumentation_errors_total', { site });
    expect(errs('classifier.endpoint')).toBe(1);
    expect(errs('classifier.client_id')).toBe(1);
    expect(errs('longpoll.is_empty')).toBe(1);
    expect(errs('longpoll.count_messages')).toBe(3);
    expect(histogram(fams, 'realtime_poll_wait_seconds', { outcome: 'data' }).count).toBe(3);
    expect(histogram(fams, 'realtime_poll_wait_seconds', { outcome: 'timeout' }).count).toBe(1);
    // A bad count falls back to one message per data answer.
    const out = { transport: 'long_polling', direction: 'out' };
    expect(value(fams, 'realtime_messages_total', { ...out, endpoint: 'unknown' })).toBe(1);
    expect(value(fams, 'realtime_messages_total', { ...out, endpoint: 'inbox' })).toBe(2);
    expect(
      value(fams, 'realtime_errors_total', { transport: 'long_polling', type: 'http_5xx' }),
    ).toBe(1);
  });

  it('rejects bad options at construction, naming the option', () => {
    const metrics = createRealtimeMetrics({ registry: new Registry() });
    const bad: Array<[unknown, string]> = [
      [{ endpoint: 42 }, 'endpoint'],
      [{ clientId: 'x-client-id' }, 'clientId'],
      [{ isEmpty: true }, 'isEmpty'],
      [{ countMessages: 1 }, 'countMessages'],
      [{ retryWindowMs: 0 }, 'retryWindowMs'],
      [{ maxTrackedClients: 1.5 }, 'maxTrackedClients'],
      [{ timeoutMs: 1000 }, 'timeoutMs'],
    ];
    for (const [options, option] of bad) {
      expect(() => longPoll(metrics, options as never)).toThrow(
        expect.objectContaining({ name: 'TidewatchConfigError', option }),
      );
    }
    expect(() => longPoll(null as never)).toThrow(expect.objectContaining({ option: 'metrics' }));
  });
});
