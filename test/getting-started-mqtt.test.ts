/**
 * docs/getting-started-mqtt.md, run: every snippet marked `<!-- snippet: NAME -->` is executed or
 * checked against the real thing — the broker file is written and started as the reader would
 * (`node broker.mjs` importing the published entries), real MQTT.js clients subscribe over
 * WebSocket and publish over TCP as the guide says, and the curl/grep with its shown output is
 * compared with the live /metrics.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil, startCli, stopStartedProcesses } from '@tidewatch/test-utils';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docSnippets, ROOT } from './fixtures/doc-snippets.js';

const snippet = docSnippets('getting-started-mqtt.md');

// Inside the repo, so `@tidewatch/middleware` etc. resolve from node_modules as they would in
// the reader's project (ESM ignores NODE_PATH).
const dir = mkdtempSync(join(ROOT, '.tmp-getting-started-mqtt-'));
let mqttPort = 0;
let httpPort = 0;
const clients: MqttClient[] = [];

beforeAll(async () => {
  writeFileSync(join(dir, 'broker.mjs'), snippet('server'));
  const broker = startCli('broker.mjs', [], {
    cwd: dir,
    env: { ...process.env, MQTT_PORT: '0', PORT: '0' },
  });
  const ports = await broker.waitForOutput(
    ({ stdout, stderr }) => {
      const text = stdout + stderr;
      const mqtt = /mqtt on (\d+)/.exec(text);
      const web = /http on (\d+)/.exec(text);
      return mqtt && web ? [Number(mqtt[1]), Number(web[1])] : null;
    },
    { timeoutMs: 20_000, description: 'the broker snippet to listen on both ports' },
  );
  [mqttPort, httpPort] = ports as [number, number];
  // What the guide does: subscribe to sensors/# over WebSocket, publish one message over TCP.
  const sub = await connectAsync(`ws://127.0.0.1:${httpPort}/mqtt`, { reconnectPeriod: 0 });
  clients.push(sub);
  await sub.subscribeAsync('sensors/#');
  const delivered = new Promise<string>((resolve) =>
    sub.once('message', (_t, payload) => resolve(String(payload))),
  );
  const pub = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0 });
  clients.push(pub);
  await pub.publishAsync('sensors/1', '21.5');
  expect(await delivered).toBe('21.5');
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await stopStartedProcesses();
  rmSync(dir, { recursive: true, force: true });
});

/** `curl -s URL | grep -E 'RE'`, done in-process (curl need not be installed). */
async function curlGrep(command: string): Promise<string[]> {
  const m = /^curl -s (\S+) \| grep -E '([^']+)'$/.exec(command.trim());
  if (!m) throw new Error(`not a "curl -s URL | grep -E 'RE'" line: ${command}`);
  const url = (m[1] as string).replace('127.0.0.1:8080', `127.0.0.1:${httpPort}`);
  const text = await (await fetch(url)).text();
  const re = new RegExp(m[2] as string);
  return text.split('\n').filter((l) => re.test(l));
}

describe('docs/getting-started-mqtt.md', () => {
  it('has every snippet this test runs', () => {
    expect([...snippet.names].sort()).toEqual(['curl-metrics', 'curl-metrics-output', 'server']);
  });

  it('the install line names packages that exist', () => {
    const install = /npm install ([^\n]+)/.exec(snippet.markdown)?.[1]?.split(' ') ?? [];
    expect(install).toEqual(['@tidewatch/middleware', 'prom-client', 'aedes', 'ws']);
    // aedes exports no `./package.json`: resolve each package's entry, as `import` would.
    for (const name of install) expect(() => import.meta.resolve(name)).not.toThrow();
  });

  it('the curl | grep shows exactly the output the guide prints', async () => {
    const want = snippet('curl-metrics-output').split('\n');
    // The delivery is counted as the broker forwards it; the subscriber has it already, so
    // this waits for nothing but the scrape itself.
    const lines = await pollUntil(
      () => curlGrep(snippet('curl-metrics')),
      (l) => l.length === want.length,
      { timeoutMs: 10_000, intervalMs: 50, description: 'the series the guide shows' },
    );
    expect(lines).toEqual(want);
  });
});
