/**
 * Publishing dashboards through Grafana's HTTP API (`POST /api/dashboards/db`).
 *
 * grafana-dash-gen's own `publish()` authenticates with a cookie, gives up after 1 s and
 * cannot choose a folder; this one uses a service-account token (Bearer), a folder uid, an
 * overwrite flag and a version message, and turns every non-2xx answer into an error that
 * names the status and Grafana's own message.
 */
import { readFile } from 'node:fs/promises';
import type { DashboardJson, VariableJson } from './grafana/types.js';
import { DS_INPUT_PLACEHOLDER } from './grafana/variables.js';

/** Options of {@link publishDashboard}. */
export interface PublishOptions {
  /** Grafana base URL, e.g. `https://grafana.example.com` or `http://host/grafana/`. */
  url: string;
  /** Service-account token, sent as `Authorization: Bearer <token>`. */
  token: string;
  /** Folder to file the dashboard in; omitted: the General folder. */
  folderUid?: string;
  /** Replace an existing dashboard with the same uid regardless of version. Default true. */
  overwrite?: boolean;
  /** Version history message. Default `Published by @tidewatch/mixin`. */
  message?: string;
  /**
   * Datasource uid the `datasource` variable starts on. The API does not substitute
   * `${DS_PROMETHEUS}` as the import dialog does; without this, Grafana picks its default.
   */
  datasourceUid?: string;
  /** Abort after this long. Default 10 000 ms. */
  timeoutMs?: number;
  /** fetch implementation (tests, proxies). Default the global fetch. */
  fetch?: typeof fetch;
}

/** Grafana's answer to a successful save. */
export interface PublishResult {
  id: number;
  uid: string;
  url: string;
  status: string;
  version: number;
  slug?: string;
}

/** A rejected publish: the HTTP status and what Grafana said. */
export class GrafanaPublishError extends Error {
  override readonly name = 'GrafanaPublishError';

  /**
   * @param status - HTTP status code.
   * @param grafanaMessage - Grafana's `message` (or the raw body when it is not JSON).
   * @param grafanaStatus - Grafana's `status` code word, e.g. `version-mismatch`.
   * @param message - the full human-readable message.
   */
  constructor(
    readonly status: number,
    readonly grafanaMessage: string,
    readonly grafanaStatus: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** What to do about a status, appended to the error message. */
function hint(status: number, grafanaStatus: string | undefined): string {
  if (status === 401) return 'check the token (expired or wrong Grafana instance)';
  if (status === 403) return 'the token lacks permission to write dashboards in this folder';
  if (status === 404) return 'no such folder, or the URL is not a Grafana';
  if (status === 412 && grafanaStatus === 'version-mismatch')
    return 'the dashboard was changed in Grafana since; publish with overwrite to replace it';
  if (status === 412 && grafanaStatus === 'name-exists')
    return 'another dashboard in this folder has the same title';
  if (status === 412) return 'precondition failed; publish with overwrite to replace it';
  if (status >= 500) return 'Grafana failed; retry later';
  return 'Grafana rejected the request';
}

/**
 * The dashboard as the API wants it: import metadata (`__inputs`, `__requires`,
 * `__elements`) removed, `id` null (the uid identifies it), and the datasource variable
 * pointed at `datasourceUid` (or cleared, so Grafana uses its default) instead of the
 * `${DS_PROMETHEUS}` placeholder only the import dialog substitutes.
 */
export function dashboardForApi(dashboard: DashboardJson, datasourceUid?: string): DashboardJson {
  const { __inputs: _i, __requires: _r, __elements: _e, ...rest } = dashboard;
  const list = (rest.templating?.list ?? []).map((v): VariableJson => {
    if (v.type !== 'datasource') return v;
    const { current: _c, ...withoutCurrent } = v;
    if (datasourceUid === undefined) return withoutCurrent;
    return {
      ...withoutCurrent,
      current: { selected: true, text: datasourceUid, value: datasourceUid },
    };
  });
  const out: DashboardJson = { ...rest, id: null };
  if (rest.templating) out.templating = { ...rest.templating, list };
  // A placeholder left anywhere else would reach Grafana literally.
  if (JSON.stringify(out).includes(DS_INPUT_PLACEHOLDER))
    throw new TypeError(
      `dashboard "${String(rest.uid)}" references ${DS_INPUT_PLACEHOLDER} outside the datasource variable`,
    );
  return out;
}

/**
 * Saves `dashboard` through `POST <url>/api/dashboards/db`.
 * @returns Grafana's answer (id, uid, url, version).
 * @throws GrafanaPublishError for any non-2xx answer, naming the status, Grafana's message
 *   and what to do; Error when Grafana cannot be reached or does not answer in time.
 */
export async function publishDashboard(
  dashboard: DashboardJson,
  opts: PublishOptions,
): Promise<PublishResult> {
  if (!opts.token) throw new TypeError('publishDashboard: token is required');
  const base = opts.url.endsWith('/') ? opts.url : `${opts.url}/`;
  const endpoint = new URL('api/dashboards/db', base);
  const body: Record<string, unknown> = {
    dashboard: dashboardForApi(dashboard, opts.datasourceUid),
    message: opts.message ?? 'Published by @tidewatch/mixin',
    overwrite: opts.overwrite ?? true,
  };
  if (opts.folderUid !== undefined) body.folderUid = opts.folderUid;
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let response: Response;
  try {
    response = await doFetch(endpoint, {
      body: JSON.stringify(body),
      headers: {
        Accept: 'application/json',
        Authorization: `Bearer ${opts.token}`,
        'Content-Type': 'application/json',
      },
      method: 'POST',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`publish to ${endpoint.origin}${endpoint.pathname} failed: ${why}`, {
      cause: error,
    });
  }
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const grafanaMessage =
      typeof json?.message === 'string' ? json.message : text.trim().slice(0, 500);
    const grafanaStatus = typeof json?.status === 'string' ? json.status : undefined;
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    throw new GrafanaPublishError(
      response.status,
      grafanaMessage,
      grafanaStatus,
      `Grafana rejected dashboard "${String(dashboard.uid)}" (POST ${endpoint.pathname}): ${status}` +
        `${grafanaStatus ? ` [${grafanaStatus}]` : ''}: ${grafanaMessage || '(empty body)'} - ${hint(response.status, grafanaStatus)}`,
    );
  }
  if (!json)
    throw new Error(
      `Grafana answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
    );
  return json as unknown as PublishResult;
}

/** Where {@link runPublishCommand} reads its environment and writes its output. */
export interface PublishCommandIo {
  env: Readonly<Record<string, string | undefined>>;
  log(line: string): void;
  fetch?: typeof fetch;
}

/**
 * `publish [--url URL] [--folder-uid UID] [--message TEXT] [--datasource-uid UID]
 * [--no-overwrite] FILE.json...`: publishes each file. The token comes only from
 * `GRAFANA_TOKEN` (a flag would leak into shell history and `ps`); the URL from `--url` or
 * `GRAFANA_URL`.
 * @returns The results, one per file, in order.
 * @throws Error for bad arguments (naming the flag) or the first failed publish.
 */
export async function runPublishCommand(
  args: readonly string[],
  io: PublishCommandIo,
): Promise<PublishResult[]> {
  const files: string[] = [];
  const flags: Record<string, string> = {};
  let overwrite = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--no-overwrite') overwrite = false;
    else if (['--url', '--folder-uid', '--message', '--datasource-uid'].includes(a)) {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`publish: ${a} needs a value`);
      flags[a] = v;
    } else if (a.startsWith('--')) throw new Error(`publish: unknown option ${a}`);
    else files.push(a);
  }
  const url = flags['--url'] ?? io.env.GRAFANA_URL;
  const token = io.env.GRAFANA_TOKEN;
  if (!url) throw new Error('publish: --url or GRAFANA_URL is required');
  if (!token) throw new Error('publish: GRAFANA_TOKEN is required (a service-account token)');
  if (files.length === 0) throw new Error('publish: no dashboard files given');
  const results: PublishResult[] = [];
  for (const file of files) {
    const dashboard = JSON.parse(await readFile(file, 'utf8')) as DashboardJson;
    const result = await publishDashboard(dashboard, {
      datasourceUid: flags['--datasource-uid'],
      fetch: io.fetch,
      folderUid: flags['--folder-uid'],
      message: flags['--message'],
      overwrite,
      token,
      url,
    });
    io.log(`published ${file}: ${result.url} (version ${result.version})`);
    results.push(result);
  }
  return results;
}
