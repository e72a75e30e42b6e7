/**
 * The README's first snippet, run as written: copied into a project inside the repo (so the
 * packages resolve as in a user's project), started with PORT set, driven by ws clients.
 * It must answer /metrics, and only /metrics.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePort,
  pollUntil,
  startCli,
  stopStartedProcesses,
  sumSamples,
} from '@tidewatch/test-utils';
import { afterAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';

const PKG = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(PKG, 'README.md'), 'utf8');
const dir = mkdtempSync(join(PKG, '.tmp-readme-'));
const sockets: WebSocket[] = [];
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await stopStartedProcesses();
  rmSync(dir, { recursive: true, force: true });
});

it('the first snippet runs as written and answers /metrics only', async () => {
  const first = /```(\w+)\n([\s\S]*?)\n```/.exec(readme);
  expect(first?.[1]).toBe('js');
  const code = first![2]!;
  expect(code.split('\n')[0]).toBe(
    '// server.mjs — npm install @tidewatch/middleware prom-client ws',
  );
  writeFileSync(join(dir, 'server.mjs'), code);
  const port = await freePort();
  const proc = startCli('server.mjs', [], {
    cwd: dir,
    env: { ...process.env, PORT: String(port) },
  });
  const base = `http://127.0.0.1:${port}`;
  await pollUntil(
    () =>
      fetch(`${base}/metrics`).then(
        (r) => r.status,
        () => 0,
      ),
    (status) => status === 200 || proc.child.exitCode !== null,
    { timeoutMs: 20_000, description: 'the README server to answer /metrics' },
  );
  expect(proc.child.exitCode).toBe(null);
  for (let i = 0; i < 2; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    sockets.push(ws);
    await new Promise((r) => ws.once('open', r));
    for (let j = 0; j < 3; j++) {
      const echo = new Promise((r) => ws.once('message', r));
      ws.send('hello');
      await echo;
    }
  }
  const text = await (await fetch(`${base}/metrics`)).text();
  expect(sumSamples(text, 'realtime_connections', { endpoint: '/ws' })).toBe(2);
  expect(sumSamples(text, 'realtime_messages_total', { direction: 'in' })).toBe(6);
  for (const path of ['/', '/anything', '/metrics/x']) {
    const res = await fetch(`${base}${path}`);
    expect([path, res.status]).toEqual([path, 404]);
    expect(await res.text()).toBe('');
  }
  expect(proc.stderr()).toBe('');
});
