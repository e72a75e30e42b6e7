/**
 * The combination docs/getting-started.md leads to: `/metrics` protected by a bearer token,
 * the sidecar started with `--scrape URL` and the token in `TIDEWATCH_SOURCE_BEARER_TOKEN`.
 * The configuration loaded from those reaches a real scrape source, which is let in (it was
 * answered 401 at every collection when the flag dropped the variable's token).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServeConfig, type ServeFlags } from '../../src/serve/config.js';
import { DEFAULT_SOURCES } from '../../src/sources/index.js';

const TOKEN = 'getting-started-token';
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401).end('unauthorized');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end('# TYPE realtime_connections gauge\nrealtime_connections 7\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** One read of the source the loaded configuration makes. */
async function scrapeWith(flags: ServeFlags, env: Record<string, string>) {
  const config = loadServeConfig({ flags, env, onWarning: () => {} });
  const kind = DEFAULT_SOURCES.require(config.source.kind);
  const source = kind.create(config.source, {
    metric: config.metric,
    stepMs: config.stepSeconds * 1000,
    now: Date.now,
  });
  const series = await source.read();
  return Array.from(series.values);
}

describe('a token-protected /metrics', () => {
  it('--scrape URL with TIDEWATCH_SOURCE_BEARER_TOKEN: the token is sent', async () => {
    expect(await scrapeWith({ scrape: [url] }, { TIDEWATCH_SOURCE_BEARER_TOKEN: TOKEN })).toEqual([
      7,
    ]);
  });

  it('without the token the target refuses (the server really checks)', async () => {
    await expect(scrapeWith({ scrape: [url] }, {})).rejects.toThrow(/401/);
  });
});
