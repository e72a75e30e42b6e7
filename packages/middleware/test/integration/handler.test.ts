import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Counter, Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRealtimeMetrics,
  type MetricsHandlerOptions,
  metricsHandler,
} from '../../src/index.js';
import { parseExposition, value } from '../helpers.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/metrics`;
}

async function setup(options: MetricsHandlerOptions) {
  const registry = new Registry();
  const metrics = createRealtimeMetrics({ registry });
  return { registry, metrics, url: await serve(metricsHandler(metrics, options)) };
}

describe('metricsHandler', () => {
  it('bearer: 401 without or with a wrong token, 200 with the right one', async () => {
    const { url } = await setup({ auth: { bearer: ['old-secret', 'new-secret'] } });
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect((await fetch(url, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect(
      (await fetch(url, { headers: { authorization: 'Basic bmV3LXNlY3JldA==' } })).status,
    ).toBe(401);
    for (const t of ['old-secret', 'new-secret']) {
      const ok = await fetch(url, { headers: { authorization: `Bearer ${t}` } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(await ok.text()).toContain('# TYPE realtime_connections_opened_total counter');
    }
  });

  it('basic auth compares user and password', async () => {
    const { url } = await setup({ auth: { basic: { username: 'prom', password: 's3cret' } } });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    expect((await fetch(url)).status).toBe(401);
    expect(
      (await fetch(url, { headers: { authorization: `Basic ${b64('prom:wrong')}` } })).status,
    ).toBe(401);
    expect(
      (await fetch(url, { headers: { authorization: `Basic ${b64('other:s3cret')}` } })).status,
    ).toBe(401);
    expect(
      (await fetch(url, { headers: { authorization: `Basic ${b64('prom:s3cret')}` } })).status,
    ).toBe(200);
  });

  it('negotiates OpenMetrics without changing the registry', async () => {
    const { url, registry } = await setup({});
    const om = await fetch(url, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5' },
    });
    expect(om.headers.get('content-type')).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    const body = await om.text();
    expect(body).toContain('# TYPE realtime_connections_opened counter');
    expect(body.endsWith('# EOF\n')).toBe(true);
    // The plain format afterwards is untouched: counters keep `_total`.
    const plain = await (await fetch(url)).text();
    expect(plain).toContain('# TYPE realtime_connections_opened_total counter');
    expect(registry.contentType).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
  });

  it('a failing collector costs only its own lines, and is counted', async () => {
    const { url, registry } = await setup({});
    new Gauge({
      name: 'app_broken',
      help: 'a collector that throws',
      registers: [registry],
      collect() {
        throw new Error('disk on fire');
      },
    });
    new Counter({ name: 'app_requests_total', help: 'fine', registers: [registry] }).inc(3);
    for (let i = 1; i <= 2; i++) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      const fams = parseExposition(await res.text());
      expect(fams.find((f) => f.name === 'app_broken')).toBeUndefined();
      expect(value(fams, 'app_requests_total')).toBe(3);
      // Counted before the second scrape renders (this scrape's own failure lands next time).
      expect(value(fams, 'realtime_scrape_errors_total', { metric: 'app_broken' })).toBe(i - 1);
    }
  });

  it('405 for other methods; HEAD has no body', async () => {
    const { url } = await setup({});
    const post = await fetch(url, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('mounts in express and serves a plain registry too', async () => {
    const registry = new Registry();
    const metrics = createRealtimeMetrics({ registry });
    const app = express();
    app.get('/metrics', metricsHandler(registry, { auth: { bearer: 't' } }));
    const s = http.createServer(app);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    const text = await (await fetch(url, { headers: { authorization: 'Bearer t' } })).text();
    expect(text).toContain(`# TYPE ${metrics.names.messages} counter`);
  });

  it('fails closed at construction: an unset token names the option', () => {
    const registry = new Registry();
    const metrics = createRealtimeMetrics({ registry });
    expect(() =>
      metricsHandler(metrics, { auth: { bearer: undefined as unknown as string } }),
    ).toThrow(/option "auth.bearer" must be a non-empty string/);
    expect(() => metricsHandler(metrics, { auth: { bearer: '' } })).toThrow(/auth\.bearer/);
    expect(() =>
      metricsHandler(metrics, { auth: { basic: { username: 'a:b', password: 'x' } } }),
    ).toThrow(/auth\.basic\.username/);
    expect(() => metricsHandler(metrics, { auth: {} as never })).toThrow(/exactly one of/);
    expect(() => metricsHandler({} as never)).toThrow(/option "source"/);
  });
});
