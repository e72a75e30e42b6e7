import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type HttpServerHandle, startHttpServer } from '@tidewatch/test-utils';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { fleetDashboard } from '../../src/dashboards/index.js';
import {
  dashboardForApi,
  GrafanaPublishError,
  publishDashboard,
  runPublishCommand,
} from '../../src/publish.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Record<string, any>;
}

/** A stand-in for Grafana on 127.0.0.1: records requests, answers with `reply`. */
let server: HttpServerHandle;
let base: string;
let seen: Seen[] = [];
let reply: { status: number; body: string } = { body: '{}', status: 200 };

beforeAll(async () => {
  server = await startHttpServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      raw += chunk;
    });
    req.on('end', () => {
      seen.push({
        body: JSON.parse(raw || '{}'),
        headers: req.headers,
        method: req.method ?? '',
        url: req.url ?? '',
      });
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(reply.body);
    });
  });
  base = server.url;
});
afterAll(() => server.close());

/** What the stand-in Grafana answers by default: its reply to a saved dashboard. */
const GRAFANA_REPLY = {
  id: 7,
  slug: 'realtime-fleet',
  status: 'success',
  uid: 'tidewatch-realtime-fleet',
  url: '/d/tidewatch-realtime-fleet/realtime-fleet',
  version: 3,
} as const;

beforeEach(() => {
  seen = [];
  reply = {
    body: JSON.stringify(GRAFANA_REPLY),
    status: 200,
  };
});

const dashboard = () => fleetDashboard(DEFAULT_CONFIG);

describe('publishDashboard against a local HTTP server', () => {
  it('POSTs /api/dashboards/db with the bearer token, folderUid, overwrite and message', async () => {
    const result = await publishDashboard(dashboard(), {
      folderUid: 'tidewatch',
      message: 'v1',
      token: 'glsa_secret',
      url: base,
    });
    expect(result).toEqual(GRAFANA_REPLY);
    expect(seen.length).toBe(1);
    const req = seen[0] as Seen;
    expect([req.method, req.url]).toEqual(['POST', '/api/dashboards/db']);
    expect(req.headers.authorization).toBe('Bearer glsa_secret');
    expect(req.headers['content-type']).toBe('application/json');
    expect(Object.keys(req.body).sort()).toEqual([
      'dashboard',
      'folderUid',
      'message',
      'overwrite',
    ]);
    expect([req.body.folderUid, req.body.overwrite, req.body.message]).toEqual([
      'tidewatch',
      true,
      'v1',
    ]);
    expect(req.body.dashboard.uid).toBe('tidewatch-realtime-fleet');
    expect(req.body.dashboard.id).toBe(null);
    expect(req.body.dashboard.__inputs).toBeUndefined();
    expect(req.body.dashboard.__requires).toBeUndefined();
    expect(req.body.dashboard.panels.length).toBe(dashboard().panels?.length);
  });

  it('keeps a base path, omits folderUid when not given, and sends overwrite false', async () => {
    await publishDashboard(dashboard(), { overwrite: false, token: 't', url: `${base}/grafana` });
    const req = seen[0] as Seen;
    expect(req.url).toBe('/grafana/api/dashboards/db');
    expect('folderUid' in req.body).toBe(false);
    expect([req.body.overwrite, req.body.message]).toEqual([
      false,
      'Published by @tidewatch/mixin',
    ]);
  });

  it('points the datasource variable at datasourceUid, or clears it', () => {
    const withUid = dashboardForApi(dashboard(), 'P1809F7CD0C75ACF3');
    expect(withUid.templating?.list?.[0]?.current).toEqual({
      selected: true,
      text: 'P1809F7CD0C75ACF3',
      value: 'P1809F7CD0C75ACF3',
    });
    const without = dashboardForApi(dashboard());
    expect(without.templating?.list?.[0]).not.toHaveProperty('current');
    expect(JSON.stringify(without)).not.toContain('DS_PROMETHEUS');
  });

  it("a 403 is an error naming the status and Grafana's message", async () => {
    reply = { body: JSON.stringify({ message: 'Access denied to save dashboard' }), status: 403 };
    const error = await publishDashboard(dashboard(), {
      folderUid: 'x',
      token: 'viewer',
      url: base,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrafanaPublishError);
    const e = error as GrafanaPublishError;
    expect([e.status, e.grafanaMessage, e.grafanaStatus]).toEqual([
      403,
      'Access denied to save dashboard',
      undefined,
    ]);
    expect(e.message).toBe(
      'Grafana rejected dashboard "tidewatch-realtime-fleet" (POST /api/dashboards/db): 403 Forbidden: Access denied to save dashboard - the token lacks permission to write dashboards in this folder',
    );
  });

  it('a 412 version-mismatch says someone changed it and how to replace it', async () => {
    reply = {
      body: JSON.stringify({
        message: 'The dashboard has been changed by someone else',
        status: 'version-mismatch',
      }),
      status: 412,
    };
    const error = (await publishDashboard(dashboard(), {
      overwrite: false,
      token: 't',
      url: base,
    }).catch((e: unknown) => e)) as GrafanaPublishError;
    expect([error.status, error.grafanaStatus]).toEqual([412, 'version-mismatch']);
    expect(error.message).toBe(
      'Grafana rejected dashboard "tidewatch-realtime-fleet" (POST /api/dashboards/db): 412 Precondition Failed [version-mismatch]: The dashboard has been changed by someone else - the dashboard was changed in Grafana since; publish with overwrite to replace it',
    );
  });

  it('a non-JSON error body is quoted as it is', async () => {
    reply = { body: 'upstream connect error', status: 401 };
    await expect(publishDashboard(dashboard(), { token: 't', url: base })).rejects.toThrow(
      '401 Unauthorized: upstream connect error - check the token (expired or wrong Grafana instance)',
    );
  });

  it('an unreachable Grafana is an error naming the URL', async () => {
    const port = await freePort(); // nothing listens there
    await expect(
      publishDashboard(dashboard(), { token: 't', url: `http://127.0.0.1:${port}` }),
    ).rejects.toThrow(`publish to http://127.0.0.1:${port}/api/dashboards/db failed: fetch failed`);
  });

  it('refuses to send without a token', async () => {
    await expect(publishDashboard(dashboard(), { token: '', url: base })).rejects.toThrow(
      'publishDashboard: token is required',
    );
    expect(seen).toEqual([]);
  });
});

describe('runPublishCommand', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidewatch-publish-'));
  const file = join(dir, 'realtime-fleet.json');
  writeFileSync(file, JSON.stringify(dashboard()));
  afterAll(() => rmSync(dir, { force: true, recursive: true }));

  it('publishes each file with the token from GRAFANA_TOKEN', async () => {
    const lines: string[] = [];
    const results = await runPublishCommand(
      ['--url', base, '--folder-uid', 'tw', '--no-overwrite', file],
      {
        env: { GRAFANA_TOKEN: 'from-env' },
        log: (l) => lines.push(l),
      },
    );
    expect(results.map((r) => r.version)).toEqual([3]);
    expect(lines).toEqual([
      `published ${file}: /d/tidewatch-realtime-fleet/realtime-fleet (version 3)`,
    ]);
    const req = seen[0] as Seen;
    expect([req.headers.authorization, req.body.folderUid, req.body.overwrite]).toEqual([
      'Bearer from-env',
      'tw',
      false,
    ]);
  });

  it('explains missing settings and unknown flags', async () => {
    const io = { env: {}, log: () => {} };
    await expect(runPublishCommand([file], io)).rejects.toThrow(
      'publish: --url or GRAFANA_URL is required',
    );
    await expect(runPublishCommand([file], { ...io, env: { GRAFANA_URL: base } })).rejects.toThrow(
      'publish: GRAFANA_TOKEN is required',
    );
    await expect(runPublishCommand(['--token', 'x', file], io)).rejects.toThrow(
      'publish: unknown option --token',
    );
    await expect(runPublishCommand(['--url'], io)).rejects.toThrow('publish: --url needs a value');
    expect(seen).toEqual([]);
  });
});
