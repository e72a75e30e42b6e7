/**
 * The chaos suite's own upstream, checked before anything is concluded from it: every mode of
 * `startChaosServer` (packages/test-utils/src/chaos.ts) answers the way its name says, on both
 * faces, counts its requests per mode, stops streaming when the client leaves, and drops every
 * socket on close().
 */
import { type ChaosServer, parseSamples, pollUntil, startChaosServer } from '@tidewatch/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { CHAOS_METRICS } from './harness.js';

const MiB = 1024 * 1024;
let chaos: ChaosServer | undefined;
afterEach(async () => {
  await chaos?.close();
  chaos = undefined;
});

const rangeUrl = (c: ChaosServer, start: number, end: number, step = 1) =>
  `${c.url}/api/v1/query_range?query=sum(realtime_connections)&start=${start}&end=${end}&step=${step}`;

/** Reads a response body to its end (bounded by the server: every mode here ends). */
async function text(url: string): Promise<{ status: number; headers: Headers; body: string }> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

describe('chaos server', () => {
  it('ok: an exposition with the gauge, the counter and the start time; a range query', async () => {
    chaos = await startChaosServer({ metrics: CHAOS_METRICS, connections: 7 });
    const samples = parseSamples((await text(chaos.metricsUrl)).body);
    expect(
      samples.get('realtime_connections{transport="websocket",endpoint="/ws",state="active"}'),
    ).toBe(7);
    expect(
      samples.get(
        'realtime_messages_total{transport="websocket",endpoint="/ws",direction="in",client_type="unknown"}',
      ),
    ).toBeGreaterThanOrEqual(100_000);
    expect(samples.get('process_start_time_seconds')).toBeGreaterThan(0);

    const doc = JSON.parse((await text(rangeUrl(chaos, 1000, 1010))).body);
    expect(doc.status).toBe('success');
    expect(doc.data.result).toHaveLength(1);
    expect(doc.data.result[0].values).toHaveLength(11);
    expect(doc.data.result[0].values[10]).toEqual([1010, '7']);
    const posted = await fetch(`${chaos.url}/api/v1/query_range`, {
      method: 'POST',
      body: new URLSearchParams({ query: 'q', start: '5', end: '6', step: '1' }),
    });
    const form = (await posted.json()) as { data: { result: Array<{ values: unknown }> } };
    expect(form.data.result[0]?.values).toEqual([
      [5, '7'],
      [6, '7'],
    ]);
    expect((await text(rangeUrl(chaos, 0, 11_000))).status).toBe(400);
    expect(chaos.requests('ok', 'scrape')).toBe(1);
    expect(chaos.requests('ok', 'prometheus')).toBe(3);
  });

  it('huge: a valid answer behind the padding, with an exact content-length or chunked', async () => {
    chaos = await startChaosServer({ metrics: CHAOS_METRICS, hugeBytes: MiB });
    for (const mode of ['huge', 'huge-chunked'] as const) {
      chaos.setMode(mode);
      const scrape = await text(chaos.metricsUrl);
      const prom = await text(rangeUrl(chaos, 1, 3));
      for (const r of [scrape, prom]) {
        expect(r.body.length).toBeGreaterThan(MiB);
        expect(r.headers.get('content-length')).toBe(
          mode === 'huge' ? String(Buffer.byteLength(r.body)) : null,
        );
      }
      expect(parseSamples(scrape.body).get('process_start_time_seconds')).toBeGreaterThan(0);
      const doc = JSON.parse(prom.body);
      expect(doc.status).toBe('success');
      expect(doc.padding).toHaveLength(MiB);
      expect(doc.data.result[0].values).toHaveLength(3);
    }
  });

  it('huge and endless stop streaming when the client leaves', async () => {
    chaos = await startChaosServer({ metrics: CHAOS_METRICS });
    for (const mode of ['huge', 'huge-chunked', 'endless'] as const) {
      chaos.setMode(mode);
      const abort = new AbortController();
      const res = await fetch(chaos.metricsUrl, { signal: abort.signal });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let got = 0;
      while (got < 2 * MiB) got += ((await reader.read()).value as Uint8Array).length;
      abort.abort();
      await pollUntil(
        async () => chaos?.openResponses(mode),
        (n) => n === 0,
        { timeoutMs: 10_000, intervalMs: 20, description: `${mode}: the response closed` },
      );
      const sent = chaos.bytesSent(mode);
      // Nothing more is written once it closed; far less than the 300 MB were ever written.
      await pollUntil(
        async () => chaos?.bytesSent(mode),
        (n) => n === sent,
        { timeoutMs: 5_000, intervalMs: 100, description: `${mode}: no more bytes` },
      );
      expect(sent).toBeLessThan(100 * MiB);
    }
  });

  it('stalls hold the request until close(), which drops every socket', async () => {
    chaos = await startChaosServer({ metrics: CHAOS_METRICS, mode: 'stall-headers' });
    const headers = await fetch(chaos.metricsUrl);
    expect(headers.status).toBe(200);
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'answered',
        () => 'cut',
      );
    const firstChunk = outcome((headers.body as ReadableStream<Uint8Array>).getReader().read());
    chaos.setMode('stall-silent');
    const silent = outcome(fetch(chaos.metricsUrl));
    await pollUntil(
      async () => chaos?.openResponses('stall-silent'),
      (n) => n === 1,
      { timeoutMs: 10_000, intervalMs: 20, description: 'the silent request held' },
    );
    expect(chaos.openResponses('stall-headers')).toBe(1);
    await chaos.close();
    // Neither got a byte of body or a status line before the sockets went.
    expect(await firstChunk).toBe('cut');
    expect(await silent).toBe('cut');
    expect(chaos.openResponses()).toBe(0);
  });

  it('html, garbage, duplicate and error500 on both faces', async () => {
    chaos = await startChaosServer({ metrics: CHAOS_METRICS });
    chaos.setMode('html');
    const html = await text(chaos.metricsUrl);
    expect([html.status, html.headers.get('content-type')]).toEqual([
      200,
      'text/html; charset=utf-8',
    ]);
    expect(html.body.startsWith('<!DOCTYPE html>')).toBe(true);
    chaos.setMode('garbage');
    const garbage = await fetch(chaos.metricsUrl);
    expect(Buffer.from(await garbage.arrayBuffer()).includes(0)).toBe(true);
    chaos.setMode('duplicate');
    const dup = (await text(chaos.metricsUrl)).body;
    expect(dup.match(/^# TYPE realtime_connections gauge$/gm)).toHaveLength(2);
    expect(JSON.parse((await text(rangeUrl(chaos, 1, 2))).body).data.result).toHaveLength(2);
    chaos.setMode('error500');
    expect((await text(chaos.metricsUrl)).status).toBe(500);
    const e500 = await text(rangeUrl(chaos, 1, 2));
    expect([e500.status, JSON.parse(e500.body).status]).toEqual([500, 'error']);
    expect(
      ['html', 'garbage', 'duplicate', 'error500'].map((m) => chaos?.requests(m as 'html')),
    ).toEqual([1, 1, 2, 2]);
  });

  it('counter modes: the counter drops; the start time stays, changes, or goes', async () => {
    chaos = await startChaosServer({ metrics: CHAOS_METRICS, counterResetTo: 5000 });
    const read = async () => {
      const s = parseSamples((await text(chaos?.metricsUrl as string)).body);
      const counter = [...s].find(([k]) => k.startsWith('realtime_messages_total{'))?.[1];
      return { counter, start: s.get('process_start_time_seconds') };
    };
    const first = await read();
    chaos.setMode('counter-reset');
    const reset = await read();
    expect(reset.counter).toBeLessThan(first.counter as number);
    expect(reset.counter).toBeGreaterThanOrEqual(5000);
    expect(reset.start).toBe(first.start);
    chaos.setMode('counter-restart');
    const restart = await read();
    expect(restart.start).toBeGreaterThan(first.start as number);
    chaos.setMode('counter-reset-nostart');
    expect((await read()).start).toBeUndefined();
    chaos.heal();
    expect((await read()).start).toBe(restart.start);
  });
});
