/**
 * docs/for-ws-and-socketio.md, run: every snippet is written into a project inside the repo
 * (so `@tidewatch/middleware` resolves from node_modules as in the reader's project) and run
 * as shown — the shell lines with their variables and flags, ports swapped for free ones —
 * and the curl | grep output compared with the live /metrics.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CliProcess,
  freePort,
  pollUntil,
  startCli,
  stopStartedProcesses,
  sumSamples,
} from '@tidewatch/test-utils';
import { io as ioClient } from 'socket.io-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { docSnippets, ROOT } from './fixtures/doc-snippets.js';

const snippet = docSnippets('for-ws-and-socketio.md');
const dir = mkdtempSync(join(ROOT, '.tmp-for-ws-and-socketio-'));
const closers: Array<() => void> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await stopStartedProcesses();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a snippet to the file its first line names (`// app.mjs`). */
function writeSnippet(name: string): string {
  const code = snippet(name);
  const file = /^\/\/ (\S+)/.exec(code)?.[1];
  if (!file) throw new Error(`snippet ${name} does not start with // <file>`);
  writeFileSync(join(dir, file), code);
  return file;
}

/**
 * Runs a `VAR=value ... node [flags] script` line from a snippet with the app on `appPort`
 * and 9464 swapped for `metricsPort`.
 */
function runLine(line: string, appPort: number, metricsPort: number): CliProcess {
  const words = line.trim().split(/\s+/);
  const env: Record<string, string> = { PORT: String(appPort) };
  while (/^[A-Z_]+=/.test(words[0] ?? '')) {
    const [k, v] = (words.shift() as string).split('=') as [string, string];
    env[k] = v === '9464' ? String(metricsPort) : v;
  }
  expect(words.shift()).toBe('node');
  const script = words.pop() as string;
  return startCli(script, [], { cwd: dir, nodeArgs: words, env: { ...process.env, ...env } });
}

const waitFor200 = (url: string, proc: CliProcess, headers: Record<string, string> = {}) =>
  pollUntil(
    () =>
      fetch(url, { headers }).then(
        (r) => r.status,
        () => 0,
      ),
    (s) => s === 200 || proc.child.exitCode !== null,
    { timeoutMs: 20_000, description: `${url} to answer` },
  );

async function wsClients(port: number, n: number, m: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    closers.push(() => ws.terminate());
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    for (let k = 0; k < m; k++) {
      const echo = new Promise((r) => ws.once('message', r));
      ws.send('hi');
      await echo;
    }
  }
}

async function sioClients(port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const s = ioClient(`http://127.0.0.1:${port}`, { transports: ['websocket'] });
    closers.push(() => s.disconnect());
    await new Promise((r, j) => s.once('connect', () => r(undefined)).once('connect_error', j));
    const echo = new Promise((r) => s.once('chat', r));
    s.emit('chat', 'hi');
    await echo;
  }
}

describe('docs/for-ws-and-socketio.md', () => {
  it('has every snippet this test runs', () => {
    expect([...snippet.names].sort()).toEqual(
      [
        'install',
        'app-ws',
        'run-esm',
        'curl',
        'curl-output',
        'app-socketio',
        'run-cjs',
        'run-token',
        'two-lines-ws',
        'two-lines-socketio',
        'otel',
      ].sort(),
    );
  });

  it('the install line names packages that exist', () => {
    const pkgs = snippet('install').replace('npm install ', '').trim().split(' ');
    expect(pkgs).toEqual(['@tidewatch/middleware', 'prom-client']);
    for (const name of pkgs)
      expect(() => import.meta.resolve(`${name}/package.json`)).not.toThrow();
  });

  it('zero code, ESM: the curl | grep shows exactly the output the page prints', async () => {
    writeSnippet('app-ws');
    const [appPort, mport] = [await freePort(), await freePort()];
    const app = runLine(snippet('run-esm'), appPort, mport);
    const url = `http://127.0.0.1:${mport}/metrics`;
    expect(await waitFor200(url, app)).toBe(200);
    await pollUntil(
      () =>
        fetch(`http://127.0.0.1:${appPort}/`).then(
          () => true,
          () => false,
        ),
      (up) => up,
      { timeoutMs: 20_000, description: 'the app to listen' },
    );
    await wsClients(appPort, 2, 1);
    const m = /^curl -s (\S+) \| grep -E '([^']+)'$/.exec(snippet('curl').trim());
    expect(m?.[1]).toBe('http://127.0.0.1:9464/metrics');
    const text = await (await fetch(url)).text();
    const re = new RegExp(m?.[2] as string);
    expect(text.split('\n').filter((l) => re.test(l))).toEqual(snippet('curl-output').split('\n'));
  });

  it('zero code, CommonJS Socket.IO: counted exactly', async () => {
    writeSnippet('app-socketio');
    const [appPort, mport] = [await freePort(), await freePort()];
    const app = runLine(snippet('run-cjs'), appPort, mport);
    const url = `http://127.0.0.1:${mport}/metrics`;
    expect(await waitFor200(url, app)).toBe(200);
    await sioClients(appPort, 3);
    const text = await (await fetch(url)).text();
    expect(sumSamples(text, 'realtime_connections')).toBe(3);
    expect(sumSamples(text, 'realtime_messages_total', { direction: 'in' })).toBe(3);
    // io.emit to 3 sockets after each of the 3 messages: 1 + 2 + 3 deliveries.
    expect(sumSamples(text, 'realtime_messages_total', { direction: 'out' })).toBe(6);
  });

  it('zero code with a token: 401 without it, metrics with the curl shown', async () => {
    writeSnippet('app-ws');
    const [run, curl] = snippet('run-token').split('\n') as [string, string];
    const [appPort, mport] = [await freePort(), await freePort()];
    const app = runLine(run, appPort, mport);
    const header = /-H 'Authorization: (Bearer \S+)'/.exec(curl)?.[1] as string;
    expect(header).toBe('Bearer change-me');
    const url = `http://127.0.0.1:${mport}/metrics`;
    expect(await waitFor200(url, app, { authorization: header })).toBe(200);
    expect((await fetch(url)).status).toBe(401);
  });

  it.each([
    ['two-lines-ws', 'ws'],
    ['two-lines-socketio', 'socket.io'],
  ] as const)('%s: runs as written, counts exactly, answers /metrics', async (name, kind) => {
    const file = writeSnippet(name);
    const port = await freePort();
    const app = startCli(file, [], { cwd: dir, env: { ...process.env, PORT: String(port) } });
    const url = `http://127.0.0.1:${port}/metrics`;
    expect(await waitFor200(url, app)).toBe(200);
    if (kind === 'ws') await wsClients(port, 2, 2);
    else await sioClients(port, 2);
    const text = await (await fetch(url)).text();
    expect(sumSamples(text, 'realtime_connections')).toBe(2);
    expect(sumSamples(text, 'realtime_messages_total', { direction: 'in' })).toBe(
      kind === 'ws' ? 4 : 2,
    );
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
  });

  it('OpenTelemetry: registerInstrumentations reports the app through the MeterProvider', async () => {
    writeSnippet('app-ws');
    const file = writeSnippet('otel');
    const port = await freePort();
    const app = startCli(file, [], { cwd: dir, env: { ...process.env, PORT: String(port) } });
    await pollUntil(
      () =>
        fetch(`http://127.0.0.1:${port}/`).then(
          () => true,
          () => false,
        ),
      (up) => up || app.child.exitCode !== null,
      { timeoutMs: 20_000, description: 'the app to listen' },
    );
    await wsClients(port, 2, 3);
    // The console exporter prints every five seconds: wait for a print with our figures.
    await app.waitForOutput(
      ({ stdout }) =>
        /name: 'realtime\.server\.messages'[\s\S]*?direction: 'in'[\s\S]*?value: 6\b/.test(stdout),
      { timeoutMs: 30_000, description: 'realtime.server.messages in = 6 on the console' },
    );
  });
});
