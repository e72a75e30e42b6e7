/**
 * `tidewatch-loadgen` as a real process (dist/cli.js; build first with
 * `npx turbo run build --filter=@tidewatch/loadgen`), against a real instrumented server.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pollUntil, runCli, startCli, stopStartedProcesses } from '@tidewatch/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectedServerCounts, type LoadReport, readServerCounts } from '../../src/index.js';
import { startGrpcServer, startMqttServer } from './mqtt-grpc-servers.js';
import { guaranteedFirstMessages, startWsServer, type TestServer } from './servers.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

const loadgen = (...args: string[]) => runCli(CLI, args);

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
  await stopStartedProcesses();
  await srv?.close();
});

describe('tidewatch-loadgen run', () => {
  it('--output json prints only the report, which matches the server, and exits 0 by itself', async () => {
    const before = readServerCounts(await srv.scrape(), [
      'realtime_connections_opened_total',
      'realtime_messages_total{direction="in"}',
    ]);
    // Bounded by count, not by time: 8 attempts, then the run ends by itself once every
    // session has (--duration is only the upper bound).
    const r = await loadgen(
      'run',
      srv.url,
      '--rate',
      '20',
      '--max-connections',
      '8',
      '--duration',
      '60',
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
    expect(report.connections).toMatchObject({ attempted: 8, opened: 8, closedByClient: 8 });
    expect(report.connections.open).toBe(0);
    expect(report.endedAt).not.toBeNull();
    // The same options as the flags above: what the seed guarantees on any machine.
    const seeded = {
      url: srv.url,
      arrivals: { rate: 20 },
      session: { meanSeconds: 0.5, messagesPerSecond: 4 },
      seed: 3,
    };
    expect(report.messages.sent).toBeGreaterThanOrEqual(guaranteedFirstMessages(seeded, 8));
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
    const r = await loadgen(
      'run',
      srv.url,
      '--rate',
      '10',
      '--max-connections',
      '3',
      '--duration',
      '60',
      '--session-seconds',
      '0.2',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^transport {2,}ws$/m);
    expect(r.stdout).toMatch(
      /^connections {2,}attempted 3 {2}opened 3 {2}failed 0 \(rejected 0\)$/m,
    );
    expect(r.stdout).toMatch(/^failures {2,}none$/m);
  });

  it('a bad flag value exits 1 with one line naming the flag', async () => {
    const r = await loadgen('run', srv.url, '--rate', 'abc');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("'--rate <n>'");

    const r2 = await loadgen('run', srv.url, '--rate', '5', '--max-concurrent', '0');
    expect(r2.code).toBe(1);
    expect(r2.stderr).toBe(
      'tidewatch-loadgen: --max-concurrent: limits.maxConcurrent must be a positive integer (at most 1000000)\n',
    );

    const r3 = await loadgen('run', 'ws://10.1.2.3/ws', '--rate', '5');
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(
      /^tidewatch-loadgen: <url>: url host "10\.1\.2\.3" is not loopback.*\n$/,
    );
  });

  it('--transport mqtt|grpc: bad values exit 1 with one line naming the flag', async () => {
    const bad = [
      [['--transport', 'mqtt', '--qos', '3'], '--qos: session.qos must be 0, 1 or 2'],
      [['--qos', '1'], '--qos: session.qos applies to transport "mqtt" only'],
      [
        ['--transport', 'mqtt', '--topic-prefix', 'a/#'],
        '--topic-prefix: session.topicPrefix must not contain the wildcards + and # or NUL',
      ],
    ] as const;
    for (const [flags, line] of bad) {
      const url = flags[1] === 'mqtt' ? 'mqtt://127.0.0.1:1883' : srv.url;
      const r = await loadgen('run', url, '--rate', '5', ...flags);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`tidewatch-loadgen: ${line}\n`);
    }
    const r = await loadgen('run', 'http://127.0.0.1:1/x', '--rate', '5', '--transport', 'grpc');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'tidewatch-loadgen: <url>: url must start with grpc:// or grpcs://, got "http://127.0.0.1:1/x"\n',
    );
  });

  it('--transport mqtt --qos 1 and --transport grpc run against real servers', async () => {
    const broker = await startMqttServer();
    const grpcServer = await startGrpcServer();
    try {
      // Bounded by count, not by time: the run ends once 5 attempts are made and closed
      // (--duration is only the upper bound), so a busy machine cannot change the counts.
      const common = [
        '--rate',
        '20',
        '--max-connections',
        '5',
        '--duration',
        '60',
        '--session-seconds',
        '0.4',
      ];
      const m = await loadgen(
        'run',
        broker.url,
        '--transport',
        'mqtt',
        '--qos',
        '1',
        ...common,
        '--message-rate',
        '5',
        '--output',
        'json',
      );
      expect(m.code).toBe(0);
      const mr = JSON.parse(m.stdout) as LoadReport;
      expect(mr.transport).toBe('mqtt');
      expect(mr.connections.opened).toBe(5);
      expect(mr.connections.closedByClient).toBe(mr.connections.opened);
      expect(broker.qosIn).toEqual([0, mr.messages.sent, 0]);
      const g = await loadgen(
        'run',
        grpcServer.url,
        '--transport',
        'grpc',
        ...common,
        '--message-rate',
        '5',
        '--output',
        'json',
      );
      expect(g.code).toBe(0);
      const gr = JSON.parse(g.stdout) as LoadReport;
      expect(gr.connections.opened).toBe(5);
      expect(gr.messages.received).toBe(gr.messages.sent);
      expect(grpcServer.counts.in).toBe(gr.messages.sent);
    } finally {
      await broker.close();
      await grpcServer.close();
    }
  });

  it('usage errors exit 2: missing url, unknown option, no arrival source', async () => {
    const missing = await loadgen('run');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("tidewatch-loadgen: missing required argument 'url'\n");
    const unknown = await loadgen('run', srv.url, '--rate', '1', '--bogus');
    expect(unknown.code).toBe(2);
    const none = await loadgen('run', srv.url);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('give exactly one of --rate');
  });

  it('a missing --trace file exits 1 naming the flag', async () => {
    const r = await loadgen('run', srv.url, '--trace', '/nonexistent/trace.csv');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'tidewatch-loadgen: --trace: cannot read /nonexistent/trace.csv: file not found\n',
    );
  });

  it('SIGINT stops the run cleanly and still prints the report (exit 130)', async () => {
    const cli = startCli(CLI, [
      'run',
      srv.url,
      '--rate',
      '50',
      '--duration',
      '60',
      '--output',
      'json',
    ]);
    await cli.waitForOutput(({ stderr }) => stderr.includes('\n'), {
      description: 'its first line',
    });
    await pollUntil(
      async () => srv.app.connections,
      (n) => n >= 5,
      { description: '5 connections from the CLI', timeoutMs: 20_000, intervalMs: 50 },
    );
    cli.kill('SIGINT');
    const r = await cli.result;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupted, closing connections');
    const report = JSON.parse(r.stdout) as LoadReport;
    expect(report.connections.opened).toBeGreaterThanOrEqual(5);
    // Everything that opened was closed cleanly by us: none left open, none dropped.
    expect(report.connections.closedByClient).toBe(report.connections.opened);
    expect(report.connections.open).toBe(0);
    const counts = readServerCounts(await srv.settled(), Object.keys(expectedServerCounts(report)));
    expect(
      counts[
        'realtime_connections_closed_total{transport="websocket",reason="abnormal",initiator="client"}'
      ],
    ).toBe(0);
  });
});
