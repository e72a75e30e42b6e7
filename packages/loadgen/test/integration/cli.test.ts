/**
 * `tidewatch-loadgen` as a real process (dist/cli.js; build first with
 * `npx turbo run build --filter=@tidewatch/loadgen`), against a real instrumented server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pollUntil } from '@tidewatch/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectedServerCounts, type LoadReport, readServerCounts } from '../../src/index.js';
import { startWsServer, type TestServer } from './servers.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children: ChildProcess[] = [];

/** Starts the CLI; `started` resolves at its first stderr line, `exit` with the whole run. */
function startCli(args: string[]): {
  child: ChildProcess;
  started: Promise<void>;
  exit: Promise<CliRun>;
} {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  let onStart: () => void = () => {};
  const started = new Promise<void>((r) => {
    onStart = r;
  });
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
    if (stderr.includes('\n')) onStart();
  });
  const exit = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, started, exit };
}

const runCli = (...args: string[]) => startCli(args).exit;

let srv: TestServer & { url: string };
beforeAll(async () => {
  if (!existsSync(CLI)) {
    throw new Error(
      `${CLI} is missing: run \`npx turbo run build --filter=@tidewatch/loadgen\` first`,
    );
  }
  srv = await startWsServer();
});
afterEach(() => {
  srv.app.connections = 0;
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await srv?.close();
});

describe('tidewatch-loadgen run', () => {
  it('--output json prints only the report, which matches the server, and exits 0 by itself', async () => {
    const before = readServerCounts(await srv.scrape(), [
      'realtime_connections_opened_total',
      'realtime_messages_total{direction="in"}',
    ]);
    const r = await runCli(
      'run',
      srv.url,
      '--rate',
      '20',
      '--duration',
      '2',
      '--session-seconds',
      '0.5',
      '--message-rate',
      '4',
      '--seed',
      '3',
      '--output',
      'json',
    );
    expect(r.stderr).toMatch(
      /^tidewatch-loadgen: ws ws:\/\/127\.0\.0\.1:\d+\/ws, arrivals 20\/s\n/,
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as LoadReport;
    expect(report.transport).toBe('ws');
    expect(report.connections.opened).toBeGreaterThan(5);
    expect(report.connections.closedByClient).toBe(report.connections.opened);
    expect(report.connections.open).toBe(0);
    expect(report.endedAt).not.toBeNull();
    // This server is shared by the file's tests: compare the increase of its counters.
    const after = readServerCounts(await srv.scrape(), Object.keys(before));
    expect(
      after.realtime_connections_opened_total! - before.realtime_connections_opened_total!,
    ).toBe(report.connections.opened);
    expect(
      after['realtime_messages_total{direction="in"}']! -
        before['realtime_messages_total{direction="in"}']!,
    ).toBe(report.messages.sent);
  });

  it('prints a table by default', async () => {
    const r = await runCli('run', srv.url, '--rate', '10', '--duration', '1');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^transport {2,}ws$/m);
    expect(r.stdout).toMatch(
      /^connections {2,}attempted \d+ {2}opened \d+ {2}failed 0 \(rejected 0\)$/m,
    );
    expect(r.stdout).toMatch(/^failures {2,}none$/m);
  });

  it('a bad flag value exits 1 with one line naming the flag', async () => {
    const r = await runCli('run', srv.url, '--rate', 'abc');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("'--rate <n>'");

    const r2 = await runCli('run', srv.url, '--rate', '5', '--max-concurrent', '0');
    expect(r2.code).toBe(1);
    expect(r2.stderr).toBe(
      'tidewatch-loadgen: --max-concurrent: limits.maxConcurrent must be a positive integer (at most 1000000)\n',
    );

    const r3 = await runCli('run', 'ws://10.1.2.3/ws', '--rate', '5');
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(
      /^tidewatch-loadgen: <url>: url host "10\.1\.2\.3" is not loopback.*\n$/,
    );
  });

  it('usage errors exit 2: missing url, unknown option, no arrival source', async () => {
    const missing = await runCli('run');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("tidewatch-loadgen: missing required argument 'url'\n");
    const unknown = await runCli('run', srv.url, '--rate', '1', '--bogus');
    expect(unknown.code).toBe(2);
    const none = await runCli('run', srv.url);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('give exactly one of --rate');
  });

  it('a missing --trace file exits 1 naming the flag', async () => {
    const r = await runCli('run', srv.url, '--trace', '/nonexistent/trace.csv');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'tidewatch-loadgen: --trace: cannot read /nonexistent/trace.csv: file not found\n',
    );
  });

  it('SIGINT stops the run cleanly and still prints the report (exit 130)', async () => {
    const cli = startCli(['run', srv.url, '--rate', '50', '--duration', '60', '--output', 'json']);
    await cli.started;
    await pollUntil(
      async () => srv.app.connections,
      (n) => n >= 5,
      { description: '5 connections from the CLI', timeoutMs: 20_000, intervalMs: 50 },
    );
    cli.child.kill('SIGINT');
    const r = await cli.exit;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupted, closing connections');
    const report = JSON.parse(r.stdout) as LoadReport;
    expect(report.connections.opened).toBeGreaterThanOrEqual(5);
    // Everything that opened was closed cleanly by us: none left open, none dropped.
    expect(report.connections.closedByClient).toBe(report.connections.opened);
    expect(report.connections.open).toBe(0);
    expect(report.durationSeconds).toBeLessThan(60);
    const counts = readServerCounts(await srv.scrape(), Object.keys(expectedServerCounts(report)));
    expect(
      counts[
        'realtime_connections_closed_total{transport="websocket",reason="abnormal",initiator="client"}'
      ],
    ).toBe(0);
  });
});
