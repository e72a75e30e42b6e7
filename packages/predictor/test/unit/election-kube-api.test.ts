/**
 * The API client election uses: bearer token from the token file, JSON both ways, every
 * request under its own deadline (a server that never answers costs `timeoutMs`, not forever),
 * and the in-cluster address from the environment.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiServerUrl, createKubeApi, KubeConfigError } from '../../src/election/kube-api.js';

let server: http.Server;
let base: string;
const seen: { method: string; url: string; auth: string | undefined; body: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        auth: req.headers.authorization,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (req.url === '/hang') return; // never answers
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('kube API client', () => {
  it('sends the token and JSON, and parses the answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-kube-api-'));
    writeFileSync(join(dir, 'token'), 'secret-token\n');
    const api = createKubeApi({ apiServer: `${base}/`, tokenFile: join(dir, 'token') });
    const r = await api.request('POST', '/x', { body: { a: 1 }, timeoutMs: 2000 });
    expect(r).toEqual({ status: 201, body: { ok: true } });
    expect(seen.at(-1)).toEqual({
      method: 'POST',
      url: '/x',
      auth: 'Bearer secret-token',
      body: '{"a":1}',
    });
  });

  it('gives up on a server that never answers after its own deadline', async () => {
    const api = createKubeApi({ apiServer: base, tokenFile: '/nonexistent' });
    await expect(api.request('GET', '/hang', { timeoutMs: 200 })).rejects.toThrow(
      'GET /hang: timed out after 200 ms',
    );
    expect(seen.at(-1)?.auth).toBeUndefined();
  });

  it('finds the in-cluster address, or says it is not in a pod', () => {
    expect(
      apiServerUrl(undefined, {
        KUBERNETES_SERVICE_HOST: '10.0.0.1',
        KUBERNETES_SERVICE_PORT: '443',
      }),
    ).toBe('https://10.0.0.1:443');
    expect(
      apiServerUrl(undefined, {
        KUBERNETES_SERVICE_HOST: 'fd00::1',
        KUBERNETES_SERVICE_PORT: '443',
      }),
    ).toBe('https://[fd00::1]:443');
    expect(() => apiServerUrl(undefined, {})).toThrow(KubeConfigError);
  });
});
