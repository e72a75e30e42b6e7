/**
 * The few Kubernetes API calls leader election needs (Lease and ConfigMap get/create/update),
 * over plain `node:http`/`node:https`.
 *
 * Why not `@kubernetes/client-node`: it is an optional peer dependency that only patch mode
 * loads (lazily, see ../patch/patcher.ts), and election must work in a sidecar that has patch
 * mode off and that package not installed. Election needs four verbs on two object kinds,
 * JSON in and out, a bearer token and a CA: a hundred lines, with every request under a
 * deadline this code owns (the elector's safety depends on requests not outliving it).
 *
 * Deadlines are a timer plus an AbortController, never `AbortSignal.timeout()` /
 * `AbortSignal.any()`: on Node 20 those signals can be collected while a request still waits
 * on them, and the abort then never fires.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

/** Where the service account's token, CA and namespace are mounted in a pod. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Options of {@link createKubeApi}. */
export interface KubeApiOptions {
  /**
   * Base URL of the API server, e.g. `http://127.0.0.1:8001` (tests, `kubectl proxy`). Default
   * in-cluster: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`.
   */
  apiServer?: string;
  /** Bearer token file, re-read at most once a minute (bound tokens rotate). Default the service account's, when it exists. */
  tokenFile?: string;
  /** CA bundle file for https. Default the service account's `ca.crt`, when it exists. */
  caFile?: string;
  /** The environment (for the in-cluster address). Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** `User-Agent` of every request. Default `tidewatch-predictor`. */
  userAgent?: string;
}

/** An answer of the API server (any status: callers decide what 404 or 409 means). */
export interface KubeResponse {
  status: number;
  /** The parsed JSON body, or `undefined` when it was empty or not JSON. */
  body: unknown;
}

/** A thin client of the API server. */
export interface KubeApi {
  /** The base URL requests go to. */
  readonly baseUrl: string;
  /**
   * Sends one request with a JSON body (if any) and waits at most `timeoutMs` for the whole
   * answer.
   * @throws Error when the request could not be sent, got no answer in time (`timed out
   *   after N ms`) or was aborted by `signal`.
   */
  request(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    options: { body?: unknown; timeoutMs: number; signal?: AbortSignal },
  ): Promise<KubeResponse>;
}

/** Thrown when the in-cluster address cannot be found. */
export class KubeConfigError extends Error {}

/** The API server's base URL: `apiServer`, else the in-cluster service address. */
export function apiServerUrl(
  apiServer: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  if (apiServer) return apiServer.replace(/\/+$/, '');
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port)
    throw new KubeConfigError(
      'election.apiServer is not set and KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not in the environment (not in a pod?)',
    );
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function readIfExists(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Token files are re-read after this long: the kubelet rotates bound tokens (hourly by default). */
const TOKEN_TTL_MS = 60_000;

/**
 * Creates a client of the API server.
 * @throws KubeConfigError when no API server address is known.
 */
export function createKubeApi(options: KubeApiOptions = {}): KubeApi {
  const baseUrl = apiServerUrl(options.apiServer, options.env);
  const tokenFile = options.tokenFile ?? `${SERVICE_ACCOUNT_DIR}/token`;
  const ca = readIfExists(options.caFile ?? `${SERVICE_ACCOUNT_DIR}/ca.crt`);
  const userAgent = options.userAgent ?? 'tidewatch-predictor';
  let token: { value: string | undefined; readAtMs: number } | undefined;
  const bearer = (): string | undefined => {
    const t = Date.now();
    if (!token || t - token.readAtMs > TOKEN_TTL_MS)
      token = { value: readIfExists(tokenFile)?.trim() || undefined, readAtMs: t };
    return token.value;
  };
  // keepAlive: a renew every retry period must not pay a TLS handshake each time.
  const agent = baseUrl.startsWith('https:')
    ? new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}) })
    : new http.Agent({ keepAlive: true });

  return {
    baseUrl,
    request(method, path, { body, timeoutMs, signal }) {
      const url = new URL(baseUrl + path);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const t = bearer();
      const headers: Record<string, string> = {
        accept: 'application/json',
        'user-agent': userAgent,
        ...(t ? { authorization: `Bearer ${t}` } : {}),
        ...(payload !== undefined
          ? {
              'content-type': 'application/json',
              'content-length': String(Buffer.byteLength(payload)),
            }
          : {}),
      };
      return new Promise<KubeResponse>((resolve, reject) => {
        const controller = new AbortController();
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, timeoutMs);
        const onAbort = () => controller.abort();
        if (signal?.aborted) controller.abort();
        else signal?.addEventListener('abort', onAbort, { once: true });
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        };
        const fail = (error: unknown) => {
          done();
          reject(
            timedOut
              ? new Error(`${method} ${path}: timed out after ${timeoutMs} ms`)
              : new Error(`${method} ${path}: ${(error as Error)?.message ?? String(error)}`),
          );
        };
        const send = url.protocol === 'https:' ? https.request : http.request;
        const req = send(url, { method, headers, agent, signal: controller.signal }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('end', () => {
            done();
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        });
        req.on('error', fail);
        req.end(payload);
      });
    },
  };
}

/** The API server's message in a `Status` body, or the HTTP status. */
export function statusMessage(response: KubeResponse): string {
  const message = (response.body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message !== ''
    ? `HTTP ${response.status}: ${message}`
    : `HTTP ${response.status}`;
}
