import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type PrometheusTarget,
  pollUntil,
  promtool,
  renderPrometheusConfig,
  requireBinary,
  startHttpServer,
  startPrometheus,
} from '../../src/index.js';

const TOKEN = 's3cret-token';
const EXPOSITION = [
  '# HELP demo_requests_total Requests handled by the demo server.',
  '# TYPE demo_requests_total counter',
  'demo_requests_total 42',
  '',
].join('\n');

interface DemoServer extends AsyncDisposable {
  metricsUrl: string;
}

/** A tiny exporter on 127.0.0.1:0 serving a fixed exposition behind a bearer token. */
async function startDemoServer(): Promise<DemoServer> {
  const server = await startHttpServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
    } else if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('unauthorized\n');
    } else {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(EXPOSITION);
    }
  });
  return { metricsUrl: `${server.url}/metrics`, [Symbol.asyncDispose]: server.close };
}

describe('startPrometheus', () => {
  it('scrapes a bearer-protected target, and reports a 401 for a job without the token', async () => {
    await using demo = await startDemoServer();
    await using prom = await startPrometheus({
      scrapeTargets: [
        { job: 'demo', url: demo.metricsUrl, bearerToken: TOKEN },
        { job: 'demo-no-token', url: demo.metricsUrl },
      ],
    });

    const result = await prom.waitFor(
      'demo_requests_total{job="demo"}',
      (samples) => samples.length === 1,
      { timeoutMs: 15_000 },
    );
    expect(result[0]?.value).toBe(42);
    expect(result[0]?.metric).toMatchObject({
      __name__: 'demo_requests_total',
      job: 'demo',
      instance: new URL(demo.metricsUrl).host,
    });

    const unauthorized = (targets: PrometheusTarget[]) =>
      targets.find((t) => t.scrapePool === 'demo-no-token');
    const targets = await pollUntil(
      () => prom.targets(),
      (ts) => unauthorized(ts)?.health === 'down',
      { timeoutMs: 15_000, description: "job 'demo-no-token' to be down" },
    );
    expect(unauthorized(targets)?.scrapeUrl).toBe(demo.metricsUrl);
    expect(unauthorized(targets)?.lastError).toMatch(/401/);
    expect(targets.find((t) => t.job === 'demo')?.health).toBe('up');

    // The token-less job stores up == 0, the other up == 1. Prometheus marks a target's health
    // a moment before it commits that scrape's `up`: wait for both series, then compare.
    const up = await prom.waitFor('up', (samples) => samples.length === 2, { timeoutMs: 15_000 });
    const upByJob = Object.fromEntries(up.map((s) => [s.metric.job, s.value]));
    expect(upByJob).toEqual({ demo: 1, 'demo-no-token': 0 });
  });

  it('throws Prometheus error text for a malformed query, at once', async () => {
    await using prom = await startPrometheus();
    expect(prom.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // A wait far past the test's timeout: only an immediate failure can finish in time.
    await expect(prom.waitFor('sum(', () => true, { timeoutMs: 3_600_000 })).rejects.toThrow(
      /bad_data.*parse error/s,
    );
    expect(await prom.query('1 + 1')).toEqual([
      { metric: {}, value: 2, timestamp: expect.any(Number) },
    ]);
  });

  it('times out waitFor with the last result in the message', async () => {
    await using prom = await startPrometheus();
    await expect(
      prom.waitFor('vector(7)', (samples) => samples[0]?.value === 8, { timeoutMs: 600 }),
    ).rejects.toThrow(/Timed out after 600 ms.*vector\(7\).*"value":7/s);
  });

  it('stop() kills the process and removes its temp dir; stop is idempotent', async () => {
    const prom = await startPrometheus();
    expect(existsSync(prom.dir)).toBe(true);
    await prom.stop();
    await prom.stop();
    expect(existsSync(prom.dir)).toBe(false);
    expect(() => process.kill(prom.pid, 0)).toThrow();
    await expect(fetch(`${prom.url}/-/ready`)).rejects.toThrow();
  });
});

describe('promtool', () => {
  it('checks an exposition given on stdin', async () => {
    const ok = await promtool(['check', 'metrics'], { input: EXPOSITION });
    expect(ok).toMatchObject({ code: 0 });

    const bad = await promtool(['check', 'metrics'], { input: 'not a metric line at all{\n' });
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/error/i);
  });

  it('accepts the config startPrometheus renders, with both kinds of credentials', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tidewatch-promtool-'));
    try {
      const file = join(dir, 'prometheus.yml');
      await writeFile(
        file,
        renderPrometheusConfig({
          scrapeIntervalSeconds: 0.5,
          scrapeTargets: [
            { job: 'bearer', url: 'http://127.0.0.1:9/metrics', bearerToken: 'x' },
            {
              job: 'basic',
              url: 'https://127.0.0.1:9/custom/path?format=prometheus&x=1&x=2',
              basicAuth: { username: 'u', password: 'p"w' },
            },
          ],
        }),
      );
      const res = await promtool(['check', 'config', file]);
      expect(res.stdout + res.stderr).toMatch(/SUCCESS/);
      expect(res.code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('requireBinary', () => {
  it('resolves installed tools and throws with the fix for missing ones', () => {
    expect(requireBinary('prometheus')).toMatch(/prometheus$/);
    expect(() => requireBinary('no-such-tool')).toThrow(
      /TIDEWATCH_NO_SUCH_TOOL_BIN.*node scripts\/ensure-tools\.mjs/s,
    );
  });
});
