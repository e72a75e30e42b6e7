/**
 * The Ingress part of the deploy config: what ingress-nginx needs to carry long-lived
 * WebSocket, SSE and Socket.IO connections (docs/ingress.md says why each setting is there).
 * Filled and validated by `deployConfig()`, errors naming the field (`ingress.host`).
 */
import { type Check, isInt, isNum } from '../validate.js';

/** The resolved `ingress` group of the deploy config. */
export interface IngressConfig {
  /** Host the Ingress routes. Default `realtime.example.com`. */
  host: string;
  /** `spec.ingressClassName`. Default `nginx` (the ingress-nginx controller's class). */
  className: string;
  /** Path prefix routed to the server. Default `/`. */
  path: string;
  /**
   * Secret holding the host's certificate (cert-manager or `kubectl create secret tls`);
   * `null`: no TLS section (plain `ws://`). Default `<name>-tls`.
   */
  tlsSecretName: string | null;
  /**
   * ingress-nginx `proxy-read-timeout` and `proxy-send-timeout`, whole seconds: how long a
   * connection may stay silent in one direction before nginx closes it. Must be above the
   * deploy config's `heartbeatSeconds`, so a live but idle connection is never cut. Default
   * max(60, 2 x heartbeatSeconds): one lost ping is tolerated, never below nginx's own 60 s.
   */
  timeoutSeconds: number;
  /**
   * Clients may use HTTP long-polling (Socket.IO's default starts with it, and falls back to it
   * when WebSockets are blocked): every request of a polling session must reach the pod that
   * holds it, so cookie affinity is turned on. False for plain WebSocket/SSE servers or Socket.IO
   * clients with `transports: ['websocket']`. Default true.
   */
  longPolling: boolean;
  /** The affinity cookie's name (with `longPolling`). Default `realtime-affinity`. */
  affinityCookieName: string;
  /**
   * Largest HTTP request body, bytes (ingress-nginx `proxy-body-size`): long-polling POSTs and
   * SSE's message POSTs carry whole messages in one body. WebSocket frames after the upgrade are
   * not limited by it. Default 1 MiB, above Socket.IO's `maxHttpBufferSize` (1e6).
   */
  maxBodyBytes: number;
  /** Extra annotations (e.g. `cert-manager.io/cluster-issuer`), applied last. Default none. */
  annotations: Record<string, string>;
}

/** What a caller passes: any subset. */
export type IngressConfigInput = Partial<IngressConfig>;

/** Defaults of every field but `tlsSecretName` (from the name) and `timeoutSeconds` (from the heartbeat). */
export const DEFAULT_INGRESS: Readonly<Omit<IngressConfig, 'tlsSecretName' | 'timeoutSeconds'>> = {
  host: 'realtime.example.com',
  className: 'nginx',
  path: '/',
  longPolling: true,
  affinityCookieName: 'realtime-affinity',
  maxBodyBytes: 1_048_576,
  annotations: {},
};

/** The server's heartbeat default, seconds: the middleware's ws adapter pings every 30 s. */
export const DEFAULT_HEARTBEAT_SECONDS = 30;

/** The timeout a heartbeat interval calls for: max(60, 2 x heartbeat), whole seconds. */
export function defaultTimeoutSeconds(heartbeatSeconds: number): number {
  return Math.max(60, Math.ceil(2 * heartbeatSeconds));
}

/** Fills the group's defaults (`name` gives the TLS secret's, `heartbeatSeconds` the timeout). */
export function resolveIngress(
  input: IngressConfigInput | undefined,
  name: string,
  heartbeatSeconds: number,
): IngressConfig {
  const given = Object.fromEntries(
    Object.entries(input ?? {}).filter(([, v]) => v !== undefined),
  ) as IngressConfigInput;
  return {
    ...DEFAULT_INGRESS,
    tlsSecretName: `${name}-tls`,
    timeoutSeconds: isNum(heartbeatSeconds)
      ? defaultTimeoutSeconds(heartbeatSeconds)
      : DEFAULT_HEARTBEAT_SECONDS * 2,
    ...given,
  };
}

/** An RFC 1123 subdomain, optionally a wildcard's `*.` first (what Ingress hosts may be). */
const isHost = (v: unknown): v is string =>
  typeof v === 'string' &&
  v.length <= 253 &&
  /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v);

/** A cookie name: an RFC 6265 token. */
const isCookieName = (v: unknown): v is string =>
  typeof v === 'string' && /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(v);

/**
 * Validates the heartbeat and the `ingress` group.
 * @throws ConfigError (through `check`) naming the first bad field, e.g.
 *   `deploy config: ingress.timeoutSeconds must be an integer 31..86400 (above heartbeatSeconds), got 30`.
 */
export function checkIngress(check: Check, heartbeatSeconds: number, i: IngressConfig): void {
  check(
    'heartbeatSeconds',
    heartbeatSeconds,
    isNum(heartbeatSeconds) && heartbeatSeconds > 0 && heartbeatSeconds <= 3600,
    'a number of seconds in (0, 3600]',
  );
  check('ingress.host', i.host, isHost(i.host), 'a DNS name (lower case, "*." allowed first)');
  check('ingress.className', i.className, isHost(i.className), 'an IngressClass name');
  check(
    'ingress.path',
    i.path,
    typeof i.path === 'string' && /^\/\S*$/.test(i.path),
    'a path starting with "/"',
  );
  check(
    'ingress.tlsSecretName',
    i.tlsSecretName,
    i.tlsSecretName === null || isHost(i.tlsSecretName),
    'a Secret name, or null for no TLS',
  );
  const least = Math.floor(heartbeatSeconds) + 1;
  check(
    'ingress.timeoutSeconds',
    i.timeoutSeconds,
    isInt(i.timeoutSeconds, least, 86_400),
    `an integer ${least}..86400 (above heartbeatSeconds, or nginx cuts idle live connections)`,
  );
  check('ingress.longPolling', i.longPolling, typeof i.longPolling === 'boolean', 'true or false');
  check(
    'ingress.affinityCookieName',
    i.affinityCookieName,
    isCookieName(i.affinityCookieName),
    'a cookie name (letters, digits, no spaces or separators)',
  );
  check(
    'ingress.maxBodyBytes',
    i.maxBodyBytes,
    isInt(i.maxBodyBytes, 1024, 1024 ** 3),
    'an integer number of bytes 1024..1073741824',
  );
  const annotations = i.annotations as unknown;
  check(
    'ingress.annotations',
    annotations,
    typeof annotations === 'object' &&
      annotations !== null &&
      !Array.isArray(annotations) &&
      Object.values(annotations).every((v) => typeof v === 'string'),
    'an object of string values',
  );
}
