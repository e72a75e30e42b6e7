/**
 * docs/getting-started-grpc.md, run: the service, server and client snippets are written to a
 * project directory and run as the reader would (`node server.mjs`, `node client.mjs`), the
 * client's output compared with the one the guide prints, and the curl/grep of /metrics
 * compared with the lines the guide shows. A snippet edited into something that does not work
 * fails here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil, runCli, startCli, stopStartedProcesses } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docSnippets, ROOT } from './fixtures/doc-snippets.js';

const snippet = docSnippets('getting-started-grpc.md');

// Inside the repo, so `@tidewatch/middleware` etc. resolve from node_modules as they would in
// the reader's project (ESM ignores NODE_PATH).
const dir = mkdtempSync(join(ROOT, '.tmp-getting-started-grpc-'));
let grpcPort = 0;
let metricsPort = 0;

beforeAll(async () => {
  for (const name of ['service', 'server', 'client'])
    writeFileSync(join(dir, `${name}.mjs`), snippet(name));
  const server = startCli('server.mjs', [], {
    cwd: dir,
    env: { ...process.env, GRPC_PORT: '0', METRICS_PORT: '0' },
  });
  const ports = await server.waitForOutput(
    ({ stdout }) => {
      const g = /gRPC on (\d+)/.exec(stdout);
      const m = /metrics on (\d+)/.exec(stdout);
      return g && m ? [Number(g[1]), Number(m[1])] : undefined;
    },
    { timeoutMs: 20_000, description: 'the server snippet to listen on both ports' },
  );
  [grpcPort, metricsPort] = ports as [number, number];
});

afterAll(async () => {
  await stopStartedProcesses();
  rmSync(dir, { recursive: true, force: true });
});

/** `curl -s URL | grep -E 'RE'`, done in-process (curl need not be installed). */
async function curlGrep(command: string): Promise<string[]> {
  const m = /^curl -s (\S+) \| grep -E '([^']+)'$/.exec(command.trim());
  if (!m) throw new Error(`not a "curl -s URL | grep -E 'RE'" line: ${command}`);
  const url = `http://${(m[1] as string).replace('127.0.0.1:9464', `127.0.0.1:${metricsPort}`)}`;
  const text = await (await fetch(url)).text();
  const re = new RegExp(m[2] as string);
  return text.split('\n').filter((l) => re.test(l));
}

describe('docs/getting-started-grpc.md', () => {
  it('has every snippet this test runs', () => {
    expect([...snippet.names].sort()).toEqual(
      [
        'client',
        'client-output',
        'curl-metrics',
        'curl-metrics-output',
        'server',
        'service',
      ].sort(),
    );
  });

  it('the install line names packages that exist', () => {
    const install = /npm install ([^\n]+)/.exec(snippet.markdown)?.[1]?.split(' ') ?? [];
    expect(install).toEqual(['@tidewatch/middleware', 'prom-client', '@grpc/grpc-js']);
    for (const name of install)
      expect(() => import.meta.resolve(`${name}/package.json`)).not.toThrow();
  });

  it('the client prints what the guide shows, and /metrics shows exactly its lines', async () => {
    const run = await runCli('client.mjs', [], {
      cwd: dir,
      env: { ...process.env, GRPC_PORT: String(grpcPort) },
      timeoutMs: 30_000,
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe(snippet('client-output'));
    const want = snippet('curl-metrics-output').split('\n');
    // The close is counted when the HTTP/2 stream closes, which may follow the client's exit.
    const lines = await pollUntil(
      () => curlGrep(snippet('curl-metrics')),
      (got) => got.length === want.length,
      { timeoutMs: 10_000, description: "the guide's lines on /metrics" },
    );
    expect(lines).toEqual(want);
  });
});
