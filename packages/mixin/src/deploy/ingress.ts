/**
 * The realtime server's Ingress for ingress-nginx: long timeouts above the heartbeat, HTTP/1.1
 * with the upgrade, unbuffered responses, cookie affinity for long-polling, and a body size for
 * large messages. Each annotation's reason is written above it in `deploy/ingress.yaml`
 * ({@link ingressNotes}) and in docs/ingress.md.
 */
import type { DeployConfig } from './config.js';
import type { IngressConfig } from './ingress-config.js';
import { labels, type Manifest } from './manifests.js';
import type { DeployNote } from './render.js';

/** The annotation prefix of ingress-nginx. */
export const NGINX = 'nginx.ingress.kubernetes.io';

/** A byte count as nginx reads a size: `8m` when whole mebibytes, else `977k` (rounded up). */
export function nginxSize(bytes: number): string {
  const mib = 1024 * 1024;
  return bytes % mib === 0 ? `${bytes / mib}m` : `${Math.ceil(bytes / 1024)}k`;
}

/** The ingress-nginx annotations the config calls for (values are strings, as Kubernetes wants). */
export function ingressAnnotations(c: DeployConfig): Record<string, string> {
  const i = c.ingress;
  const timeout = String(i.timeoutSeconds);
  const affinity: Record<string, string> = i.longPolling
    ? {
        [`${NGINX}/affinity`]: 'cookie',
        [`${NGINX}/affinity-mode`]: 'persistent',
        [`${NGINX}/session-cookie-name`]: i.affinityCookieName,
        [`${NGINX}/session-cookie-change-on-failure`]: 'true',
        ...(i.tlsSecretName !== null ? { [`${NGINX}/session-cookie-secure`]: 'true' } : {}),
      }
    : {};
  return {
    [`${NGINX}/proxy-read-timeout`]: timeout,
    [`${NGINX}/proxy-send-timeout`]: timeout,
    [`${NGINX}/proxy-http-version`]: '1.1',
    [`${NGINX}/proxy-buffering`]: 'off',
    [`${NGINX}/proxy-body-size`]: nginxSize(i.maxBodyBytes),
    ...affinity,
    ...i.annotations,
  };
}

/** The Ingress routing `ingress.host` + `ingress.path` to the server's Service port `http`. */
export function ingress(c: DeployConfig): Manifest {
  const i: IngressConfig = c.ingress;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: c.name,
      namespace: c.namespace,
      labels: labels(c),
      annotations: ingressAnnotations(c),
    },
    spec: {
      ingressClassName: i.className,
      ...(i.tlsSecretName !== null
        ? { tls: [{ hosts: [i.host], secretName: i.tlsSecretName }] }
        : {}),
      rules: [
        {
          host: i.host,
          http: {
            paths: [
              {
                path: i.path,
                pathType: 'Prefix',
                backend: { service: { name: c.name, port: { name: 'http' } } },
              },
            ],
          },
        },
      ],
    },
  };
}

/** The comments written above the annotations in `deploy/ingress.yaml`. */
export function ingressNotes(c: DeployConfig): DeployNote[] {
  const a = (key: string) => ['metadata', 'annotations', `${NGINX}/${key}`];
  const notes: DeployNote[] = [
    {
      path: a('proxy-read-timeout'),
      comment: `Above the server's heartbeat (${c.heartbeatSeconds} s): nginx closes a connection silent this long in one\ndirection (default 60 s). A live connection hears a ping every heartbeat, so it is never cut;\na dead one is found by the heartbeat, not by nginx.`,
    },
    {
      path: a('proxy-http-version'),
      comment:
        'HTTP/1.1 to the pods: the WebSocket upgrade needs it. ingress-nginx already forwards the Upgrade\nand Connection headers for every location; stating the version guards against a controller\nConfigMap that changed it.',
    },
    {
      path: a('proxy-buffering'),
      comment:
        'SSE and long-polling responses must reach the client as written, not when a buffer fills.',
    },
    {
      path: a('proxy-body-size'),
      comment:
        'Largest request body: long-polling and SSE POSTs carry whole messages (WebSocket frames are not limited).',
    },
  ];
  if (c.ingress.longPolling)
    notes.push({
      path: a('affinity'),
      comment:
        'Long-polling (Socket.IO starts with it): every request of a session must reach the pod holding it,\nor Socket.IO answers 400 "Session ID unknown". persistent: scaling out does not move sessions;\nchange-on-failure: a client of a removed pod is pinned to a live one.',
    });
  return notes;
}
