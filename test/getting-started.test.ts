/**
 * docs/getting-started.md, run: every snippet marked `<!-- snippet: NAME -->` is executed or
 * checked against the real thing — the server file is written and started, the curl/grep and
 * its shown output compared with the live /metrics, the sidecar command run from the repo's
 * bin, the Prometheus config checked by the real promtool with the generated rule files, the
 * publish command run against a stand-in Grafana API, the KEDA object validated and compared
 * with the generated deploy/ file. A snippet edited into something that does not work fails here.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import {
  freePort,
  pollUntil,
  promtool,
  startCli,
  startHttpServer,
  stopStartedProcesses,
} from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { docSnippets, ROOT } from './fixtures/doc-snippets.js';

const snippet = docSnippets('getting-started.md');

// Inside the repo, so `@tidewatch/middleware` etc. resolve from node_modules as they would in
// the reader's project (ESM ignores NODE_PATH).
const dir = mkdtempSync(join(ROOT, '.tmp-getting-started-'));
let serverPort = 0;
const clients: WebSocket[] = [];

/** Runs `node <script> ...args` in the reader's project dir, with `env` added to ours. */
const start = (script: string, args: string[], env: Record<string, string> = {}) =>
  startCli(script, args, { cwd: dir, env: { ...process.env, ...env } });

beforeAll(async () => {
  writeFileSync(join(dir, 'server.mjs'), snippet('server'));
  const server = start('server.mjs', [], { PORT: '0' });
  const line = await server.waitForOutput(
    ({ stdout, stderr }) => /listening on (\d+)/.exec(stdout + stderr),
    {
      timeoutMs: 20_000,
      description: 'the server snippet to listen',
    },
  );
  serverPort = Number(line[1]);
  // Three clients, one message each, every echo back.
  for (let i = 0; i < 3; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${serverPort}/ws`);
    clients.push(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
    ws.send(`hello ${i}`);
    expect(await echoed).toBe(`hello ${i}`);
  }
});

afterAll(async () => {
  for (const ws of clients) ws.close();
  await stopStartedProcesses();
  rmSync(dir, { recursive: true, force: true });
});

/** `curl -s URL | grep -E 'RE'`, done in-process (curl need not be installed). */
async function curlGrep(command: string): Promise<string[]> {
  const m = /^curl -s (\S+) \| grep -E '([^']+)'$/.exec(command.trim());
  if (!m) throw new Error(`not a "curl -s URL | grep -E 'RE'" line: ${command}`);
  const url = (m[1] as string).replace('127.0.0.1:8080', `127.0.0.1:${serverPort}`);
  const text = await (await fetch(url)).text();
  const re = new RegExp(m[2] as string);
  return text.split('\n').filter((l) => re.test(l));
}

describe('docs/getting-started.md', () => {
  it('has every snippet this test runs', () => {
    expect([...snippet.names].sort()).toEqual(
      [
        'curl-metrics',
        'curl-metrics-output',
        'forecast-status',
        'keda',
        'prometheus-config',
        'publish',
        'server',
        'sidecar',
      ].sort(),
    );
  });

  it('the install line names packages that exist', () => {
    const install = /npm install ([^\n]+)/.exec(snippet.markdown)?.[1]?.split(' ') ?? [];
    expect(install).toEqual(['@tidewatch/middleware', 'prom-client', 'ws']);
    for (const name of install)
      expect(() => import.meta.resolve(`${name}/package.json`)).not.toThrow();
  });

  it('the curl | grep shows exactly the output the guide prints', async () => {
    const lines = await curlGrep(snippet('curl-metrics'));
    expect(lines).toEqual(snippet('curl-metrics-output').split('\n'));
  });

  it('the sidecar command starts, warms up honestly and shows live figures', async () => {
    const cmd = snippet('sidecar').trim().split(/\s+/);
    expect(cmd.slice(0, 3)).toEqual(['npx', 'tidewatch-predictor', 'serve']);
    const port = await freePort();
    const args = cmd.slice(3).map((a) =>
      a
        .replace('127.0.0.1:8080', `127.0.0.1:${serverPort}`)
        .replace(/^9464$/, String(port))
        .replace('./tidewatch-data', join(dir, 'data')),
    );
    const bin = join(ROOT, 'packages/predictor/bin/tidewatch-predictor.js');
    const sidecar = start(bin, ['serve', ...args]);
    // `curl -s .../forecast | jq '{status, reasons, live}'`, the fields the guide talks about.
    const fields = /jq '\{([^}]+)\}'/.exec(snippet('forecast-status'))?.[1]?.split(/,\s*/);
    expect(fields).toEqual(['status', 'reasons', 'live']);
    const doc = await pollUntil(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/forecast`).catch(() => undefined);
        return res?.ok ? ((await res.json()) as Record<string, unknown>) : undefined;
      },
      // The live block is null until the first scrape has been read: wait for the figures the
      // guide shows, not merely for the sidecar to answer.
      (d) => (d?.live ?? null) !== null || sidecar.child.exitCode !== null,
      { timeoutMs: 30_000, description: 'the sidecar to show live figures on /forecast' },
    );
    if (!doc) throw new Error(`the sidecar exited: ${sidecar.stdout()}${sidecar.stderr()}`);
    expect(doc.status).toBe('warming');
    expect((doc.reasons as string[]).join('; ')).toMatch(/too little history/);
    // The three clients are still connected.
    const live = doc.live as { connections: number };
    expect(live.connections).toBe(3);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('tidewatch predictor');
  });

  it('the Prometheus config passes promtool with the generated rule files', async () => {
    mkdirSync(join(dir, 'alerts'), { recursive: true });
    for (const f of ['tidewatch-rules.yaml', 'tidewatch-alerts.yaml'])
      copyFileSync(join(ROOT, 'alerts', f), join(dir, 'alerts', f));
    writeFileSync(join(dir, 'prometheus.yml'), snippet('prometheus-config'));
    const r = await promtool(['check', 'config', 'prometheus.yml'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found[\s\S]*SUCCESS: \d+ rules found/);
    const config = parseYaml(snippet('prometheus-config')) as {
      scrape_configs: Array<{ job_name: string }>;
    };
    // The job the dashboards' and rules' selectors use by default.
    expect(config.scrape_configs.map((s) => s.job_name)).toContain('realtime-server');
  });

  it('the publish command posts both dashboards with the token', async () => {
    const posts: Array<{ auth: string | undefined; uid: string }> = [];
    await using grafana = await startHttpServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += String(d);
      });
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/api/dashboards/db') {
          const { dashboard } = JSON.parse(body) as { dashboard: { uid: string } };
          posts.push({ auth: req.headers.authorization, uid: dashboard.uid });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              status: 'success',
              uid: dashboard.uid,
              url: `/d/${dashboard.uid}`,
              version: 1,
            }),
          );
          return;
        }
        res.writeHead(404).end();
      });
    });
    const m = /^GRAFANA_TOKEN=(\S+) npx tidewatch-mixin (.+)$/.exec(snippet('publish').trim());
    if (!m)
      throw new Error('the publish snippet is not "GRAFANA_TOKEN=... npx tidewatch-mixin ..."');
    const args = (m[2] as string)
      .split(/\s+/)
      .map((a) => a.replace('http://127.0.0.1:3000', grafana.url))
      .map((a) => (a.startsWith('dashboards/') ? join(ROOT, a) : a));
    const run = await start(join(ROOT, 'packages/mixin/bin/tidewatch-mixin.js'), args, {
      GRAFANA_TOKEN: m[1] as string,
    }).result;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(posts).toEqual([
      { auth: `Bearer ${m[1]}`, uid: 'tidewatch-realtime-fleet' },
      { auth: `Bearer ${m[1]}`, uid: 'tidewatch-autoscaling-forecast' },
    ]);
  });

  it('the KEDA object is valid and is the generated deploy/keda-scaledobject.yaml, abridged', () => {
    const shown = parseYaml(snippet('keda')) as Record<string, unknown>;
    expect(() => new ScaledObject(shown as never).validate()).not.toThrow();
    const generated = parseAllDocuments(
      readFileSync(join(ROOT, 'deploy/keda-scaledobject.yaml'), 'utf8'),
    )
      .map((d) => d.toJS() as Record<string, unknown>)
      .find((o) => o?.kind === 'ScaledObject');
    // Every field the guide shows has the generated value (the guide leaves some out).
    expect(generated).toMatchObject(shown);
  });
});
