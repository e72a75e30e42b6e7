/**
 * Zero-code instrumentation: unmodified ws and Socket.IO apps run as child processes with
 * `--import`/`--require @tidewatch/middleware/register` (the built package, resolved through
 * the workspace link as a user's project resolves it), driven by real clients, scraped on the
 * metrics port the test picked.
 */
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  type CliProcess,
  freePort,
  startCli,
  stopStartedProcesses,
  sumSamples,
} from '@tidewatch/test-utils';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

const FIXTURES = fileURLToPath(new URL('../fixtures/register/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});
afterAll(() => stopStartedProcesses());

interface App {
  proc: CliProcess;
  mport: number;
  /** `path -> port` of every server the app announced. */
  servers: Map<string, number>;
}

/** Starts `fixture` with the hook flag and waits for `count` servers to listen. */
async function startApp(
  fixture: string,
  flag: '--import' | '--require' | null,
  env: Record<string, string> = {},
  count = 1,
  cwd = FIXTURES,
): Promise<App> {
  const mport = await freePort();
  const proc = startCli(`${FIXTURES}${fixture}`, [], {
    cwd,
    nodeArgs: flag ? [flag, '@tidewatch/middleware/register'] : [],
    env: { ...process.env, TIDEWATCH_METRICS_PORT: String(mport), ...env },
  });
  const lines = await proc.waitForOutput(
    ({ stdout }) => {
      const found = [...stdout.matchAll(/^listening \w+ (\d+) (\S+)$/gm)];
      return found.length >= count && found;
    },
    { description: `${fixture} to start ${count} server(s)` },
  );
  return { proc, mport, servers: new Map(lines.map((m) => [m[2] as string, Number(m[1])])) };
}

/** `n` ws clients on `path`, each sending `m` messages and awaiting every echo; left open. */
async function wsTraffic(port: number, path: string, n: number, m: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    open.push(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    for (let j = 0; j < m; j++) {
      const echo = new Promise((resolve) => ws.once('message', resolve));
      ws.send(`m${j}`);
      await echo;
    }
  }
}

async function sioTraffic(port: number, n: number, m: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const s: Socket = ioClient(`http://127.0.0.1:${port}`, { transports: ['websocket'] });
    open.push({ close: () => s.disconnect() });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    for (let j = 0; j < m; j++) {
      const echo = new Promise((resolve) => s.once('msg', resolve));
      s.emit('msg', `m${j}`);
      await echo;
    }
  }
}

async function scrape(app: App, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${app.mport}/metrics`, { headers });
  expect(res.status).toBe(200);
  return res.text();
}

const sum = (text: string, name: string, labels: Record<string, string> = {}) =>
  sumSamples(text, name, labels);

describe.each([
  ['ESM', 'ws-app.mjs', '--import'],
  ['CommonJS', 'ws-app.cjs', '--require'],
] as const)('an unmodified ws app (%s)', (_kind, fixture, flag) => {
  it('is counted exactly; only GET /metrics answers', async () => {
    const app = await startApp(fixture, flag);
    await wsTraffic(app.servers.get('/ws0')!, '/ws0', 3, 4);
    const text = await scrape(app);
    expect(sum(text, 'realtime_connections', { transport: 'websocket', endpoint: '/ws0' })).toBe(3);
    expect(sum(text, 'realtime_messages_total', { direction: 'in' })).toBe(12);
    expect(sum(text, 'realtime_messages_total', { direction: 'out' })).toBe(12);
    expect((await fetch(`http://127.0.0.1:${app.mport}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${app.mport}/metrics/x`)).status).toBe(404);
    const post = await fetch(`http://127.0.0.1:${app.mport}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(app.proc.stderr()).toBe('');
  });
});

describe.each([
  ['ESM', 'sio-app.mjs', '--import'],
  ['CommonJS', 'sio-app.cjs', '--require'],
] as const)('an unmodified Socket.IO app (%s)', (_kind, fixture, flag) => {
  it('is counted exactly, and engine.io’s own ws server is not counted again', async () => {
    const app = await startApp(fixture, flag);
    await sioTraffic(app.servers.get('/')!, 2, 3);
    const text = await scrape(app);
    expect(sum(text, 'realtime_connections', { transport: 'socketio_websocket' })).toBe(2);
    expect(sum(text, 'realtime_connections')).toBe(2);
    expect(sum(text, 'realtime_messages_total', { direction: 'in' })).toBe(6);
    expect(sum(text, 'realtime_connections_opened_total', { transport: 'websocket' })).toBe(0);
    expect(app.proc.stderr()).toBe('');
  });
});

describe('servers made before or after the hook loads', () => {
  it.each([
    ['made and listening before a late import() of the hook (ESM)', 'ws-before.mjs', null, {}],
    [
      'made and listening before a late require() of the hook (CommonJS)',
      'ws-before.cjs',
      null,
      {},
    ],
    [
      'hook imported at the top of an ESM app, after its static imports loaded',
      'ws-top.mjs',
      null,
      {},
    ],
    ['made on a later tick (ESM, --import)', 'ws-app.mjs', '--import', { APP_LAZY: '1' }],
    ['made on a later tick (CommonJS, --require)', 'ws-app.cjs', '--require', { APP_LAZY: '1' }],
  ] as const)('%s: counted exactly', async (_name, fixture, flag, env) => {
    const app = await startApp(fixture, flag, env);
    await wsTraffic(app.servers.get('/ws0')!, '/ws0', 2, 3);
    const text = await scrape(app);
    expect(sum(text, 'realtime_connections', { transport: 'websocket' })).toBe(2);
    expect(sum(text, 'realtime_messages_total', { direction: 'in' })).toBe(6);
    expect(app.proc.stderr()).toBe('');
  });
});

it('a Socket.IO server made before the hook: caught at its first connection, exactly', async () => {
  const app = await startApp('sio-before.cjs', null);
  await sioTraffic(app.servers.get('/')!, 3, 2);
  const text = await scrape(app);
  expect(sum(text, 'realtime_connections')).toBe(3);
  expect(sum(text, 'realtime_messages_total', { direction: 'in' })).toBe(6);
  expect(sum(text, 'realtime_connections_opened_total', { transport: 'websocket' })).toBe(0);
  expect(app.proc.stderr()).toBe('');
});

it('an app with two servers: each counted under its own endpoint', async () => {
  const app = await startApp('ws-app.mjs', '--import', { APP_SERVERS: '2' }, 2);
  await wsTraffic(app.servers.get('/ws0')!, '/ws0', 2, 1);
  await wsTraffic(app.servers.get('/ws1')!, '/ws1', 3, 2);
  const text = await scrape(app);
  expect(sum(text, 'realtime_connections', { endpoint: '/ws0' })).toBe(2);
  expect(sum(text, 'realtime_connections', { endpoint: '/ws1' })).toBe(3);
  expect(sum(text, 'realtime_messages_total', { direction: 'in', endpoint: '/ws0' })).toBe(2);
  expect(sum(text, 'realtime_messages_total', { direction: 'in', endpoint: '/ws1' })).toBe(6);
});

describe('the metrics port already taken', () => {
  let blocker: Server | undefined;
  afterEach(() => blocker?.close());

  it('the app keeps serving its clients; one stderr line says why and what to change', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    const app = await startApp('ws-app.mjs', '--import', {
      TIDEWATCH_METRICS_PORT: String(taken),
    });
    const line = await app.proc.waitForOutput(({ stderr }) => stderr.trim(), {
      description: 'the port-in-use line',
    });
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain(`127.0.0.1:${taken} is already in use`);
    expect(line).toContain('TIDEWATCH_METRICS_PORT');
    await wsTraffic(app.servers.get('/ws0')!, '/ws0', 2, 2);
    expect(app.proc.child.exitCode).toBe(null);
  });
});

it('TIDEWATCH_METRICS_TOKEN: 401 without the bearer token, metrics with it', async () => {
  const app = await startApp('ws-app.cjs', '--require', { TIDEWATCH_METRICS_TOKEN: 's3cret' });
  const url = `http://127.0.0.1:${app.mport}/metrics`;
  expect((await fetch(url)).status).toBe(401);
  expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  const text = await scrape(app, { authorization: 'Bearer s3cret' });
  expect(text).toContain('realtime_connections');
});

describe('bad TIDEWATCH_* variables stop the app with one line naming the variable', () => {
  it.each([
    ['TIDEWATCH_METRICS_PORT', 'abc', 'an integer from 0 to 65535'],
    ['TIDEWATCH_METRICS_PORT', '70000', 'an integer from 0 to 65535'],
    ['TIDEWATCH_METRICS_TOKEN', '', 'a non-empty token'],
    ['TIDEWATCH_PREFIX', 'bad-prefix', 'a Prometheus name prefix'],
    ['TIDEWATCH_IDLE_AFTER_MS', '-5', 'an integer from 1'],
    ['TIDEWATCH_SERIES_CAP', '5', 'must be at least'],
    ['TIDEWATCH_INSTRUMENT', 'ws,grpc', 'a comma-separated list of ws, socket.io'],
  ])('%s=%j', async (variable, value, expected) => {
    for (const [fixture, flag] of [
      ['ws-app.mjs', '--import'],
      ['ws-app.cjs', '--require'],
    ] as const) {
      const proc = startCli(`${FIXTURES}${fixture}`, [], {
        cwd: FIXTURES,
        nodeArgs: [flag, '@tidewatch/middleware/register'],
        env: { ...process.env, [variable]: value },
      });
      const r = await proc.result;
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^tidewatch: ${variable} `));
      expect(lines[0]).toContain(expected);
    }
  });
});

it('the metrics server does not keep a finished app alive', async () => {
  const mport = await freePort();
  // An app with nothing left to do exits by itself, /metrics or not.
  const done = startCli('-e', ['console.log("done")'], {
    cwd: FIXTURES,
    nodeArgs: ['--require', '@tidewatch/middleware/register'],
    env: { ...process.env, TIDEWATCH_METRICS_PORT: String(mport) },
    timeoutMs: 20_000,
  });
  const r = await done.result;
  expect(r).toEqual({ code: 0, stdout: 'done\n', stderr: '' });
});

it('acceptance: from the project root, --import serves a plain ws app’s exact counts', async () => {
  const app = await startApp('ws-app.mjs', '--import', {}, 1, ROOT);
  await wsTraffic(app.servers.get('/ws0')!, '/ws0', 4, 5);
  const text = await scrape(app);
  expect(sum(text, 'realtime_connections', { transport: 'websocket' })).toBe(4);
  expect(sum(text, 'realtime_messages_total', { direction: 'in' })).toBe(20);
});
