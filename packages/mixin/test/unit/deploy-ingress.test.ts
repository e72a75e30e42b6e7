/**
 * deploy/ingress.yaml: the ingress-nginx annotations follow the deploy config (timeouts above
 * the heartbeat, affinity only with long-polling, the body size), the object validates with
 * kubernetes-models, kubectl's YAML 1.1 reads every annotation as a string, and bad values
 * name their field.
 */
import { readFileSync } from 'node:fs';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { mixinFileConfig } from '../../src/cli/config-file.js';
import {
  type DeployConfigInput,
  deployConfig,
  generateDeployFiles,
  ingress,
  ingressAnnotations,
  nginxSize,
} from '../../src/deploy/index.js';
import { generateMixin } from '../../src/generate.js';

const N = 'nginx.ingress.kubernetes.io';
const annotationsOf = (input: DeployConfigInput = {}) => ingressAnnotations(deployConfig(input));

/** The Ingress as kubectl reads the file: YAML 1.1, where a bare `off` would be a boolean. */
function applied(input: DeployConfigInput = {}): any {
  const text = generateDeployFiles(input).get('deploy/ingress.yaml');
  if (text === undefined) throw new Error('deploy/ingress.yaml not generated');
  const docs = parseAllDocuments(text, { version: '1.1' }) as unknown as { toJS(): any }[];
  expect(docs).toHaveLength(1);
  return docs[0]?.toJS();
}

describe('deploy/ingress.yaml', () => {
  it('has the annotations of the defaults: 60 s timeouts over a 30 s heartbeat, 1m bodies, cookie affinity', () => {
    expect(applied().metadata.annotations).toEqual({
      [`${N}/proxy-read-timeout`]: '60',
      [`${N}/proxy-send-timeout`]: '60',
      [`${N}/proxy-http-version`]: '1.1',
      [`${N}/proxy-buffering`]: 'off',
      [`${N}/proxy-body-size`]: '1m',
      [`${N}/affinity`]: 'cookie',
      [`${N}/affinity-mode`]: 'persistent',
      [`${N}/session-cookie-name`]: 'realtime-affinity',
      [`${N}/session-cookie-change-on-failure`]: 'true',
      [`${N}/session-cookie-secure`]: 'true',
    });
  });

  it('routes the host over TLS to the Service port the server Deployment exposes', () => {
    const m = applied();
    expect(m.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['realtime.example.com'], secretName: 'realtime-server-tls' }],
      rules: [
        {
          host: 'realtime.example.com',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'realtime-server', port: { name: 'http' } } },
              },
            ],
          },
        },
      ],
    });
    const sidecar = generateDeployFiles().get('deploy/realtime-server-with-sidecar.yaml') ?? '';
    const svc = parseAllDocuments(sidecar)
      .map((d) => d.toJS())
      .find((d) => d.kind === 'Service');
    expect(svc.metadata.name).toBe(m.spec.rules[0].http.paths[0].backend.service.name);
    expect(svc.spec.ports.map((p: { name: string }) => p.name)).toContain('http');
  });

  it('validates with kubernetes-models, and the validation is real', () => {
    for (const input of [{}, { ingress: { tlsSecretName: null, longPolling: false } }])
      new Ingress(applied(input)).validate();
    const bad = applied();
    bad.spec.rules[0].http.paths[0].pathType = 7;
    expect(() => new Ingress(bad).validate()).toThrow(/pathType must be string/);
  });

  it.each([
    [25, '60'],
    [30, '60'],
    [45, '90'],
    [100, '200'],
    [0.5, '60'],
  ])(
    'timeouts follow the heartbeat: %s s -> %s s, always above it',
    (heartbeatSeconds, timeout) => {
      const a = annotationsOf({ heartbeatSeconds });
      expect(a[`${N}/proxy-read-timeout`]).toBe(timeout);
      expect(a[`${N}/proxy-send-timeout`]).toBe(timeout);
      expect(Number(timeout)).toBeGreaterThan(heartbeatSeconds);
    },
  );

  it('takes an explicit timeout above the heartbeat', () => {
    const a = annotationsOf({ heartbeatSeconds: 25, ingress: { timeoutSeconds: 3600 } });
    expect(a[`${N}/proxy-read-timeout`]).toBe('3600');
  });

  it('without long-polling: no affinity and no affinity note; without TLS: no tls, no secure cookie', () => {
    const a = annotationsOf({ ingress: { longPolling: false } });
    expect(Object.keys(a).filter((k) => /affinity|session-cookie/.test(k))).toEqual([]);
    const text = generateDeployFiles({ ingress: { longPolling: false } }).get(
      'deploy/ingress.yaml',
    );
    expect(text).not.toContain('Session ID unknown');
    const plain = deployConfig({ ingress: { tlsSecretName: null } });
    expect(ingress(plain).spec).not.toHaveProperty('tls');
    expect(ingressAnnotations(plain)).not.toHaveProperty(`${N}/session-cookie-secure`);
    expect(
      generateDeployFiles({ ingress: { tlsSecretName: null } }).get('deploy/ingress.yaml'),
    ).toContain('http://realtime.example.com/');
  });

  it('sizes bodies as nginx reads them, and lets extra annotations through last', () => {
    expect(nginxSize(8 * 1024 * 1024)).toBe('8m');
    expect(nginxSize(1_000_000)).toBe('977k');
    expect(nginxSize(1024)).toBe('1k');
    const a = annotationsOf({
      ingress: {
        maxBodyBytes: 8 * 1024 * 1024,
        annotations: {
          'cert-manager.io/cluster-issuer': 'letsencrypt',
          [`${N}/affinity-mode`]: 'balanced',
        },
      },
    });
    expect(a[`${N}/proxy-body-size`]).toBe('8m');
    expect(a['cert-manager.io/cluster-issuer']).toBe('letsencrypt');
    expect(a[`${N}/affinity-mode`]).toBe('balanced');
  });

  it("uses the deploy config's name, namespace, host, class and path", () => {
    const m = applied({
      name: 'chat',
      namespace: 'apps',
      ingress: { host: 'chat.example.org', className: 'nginx-internal', path: '/socket.io' },
    });
    expect(m.metadata).toMatchObject({ name: 'chat', namespace: 'apps' });
    expect(m.spec.ingressClassName).toBe('nginx-internal');
    expect(m.spec.tls).toEqual([{ hosts: ['chat.example.org'], secretName: 'chat-tls' }]);
    expect(m.spec.rules[0].host).toBe('chat.example.org');
    expect(m.spec.rules[0].http.paths[0].path).toBe('/socket.io');
    expect(m.spec.rules[0].http.paths[0].backend.service.name).toBe('chat');
  });

  it.each<[DeployConfigInput, string]>([
    [
      { heartbeatSeconds: 25, ingress: { timeoutSeconds: 25 } },
      'deploy config: ingress.timeoutSeconds must be an integer 26..86400 (above heartbeatSeconds, or nginx cuts idle live connections), got 25',
    ],
    [
      { heartbeatSeconds: 0 },
      'deploy config: heartbeatSeconds must be a number of seconds in (0, 3600], got 0',
    ],
    [
      { ingress: { host: 'Chat_Host' } },
      'deploy config: ingress.host must be a DNS name (lower case, "*." allowed first), got "Chat_Host"',
    ],
    [
      { ingress: { path: 'socket.io' } },
      'deploy config: ingress.path must be a path starting with "/", got "socket.io"',
    ],
    [
      { ingress: { maxBodyBytes: 10 } },
      'deploy config: ingress.maxBodyBytes must be an integer number of bytes 1024..1073741824, got 10',
    ],
    [
      { ingress: { affinityCookieName: 'my cookie' } },
      'deploy config: ingress.affinityCookieName must be a cookie name (letters, digits, no spaces or separators), got "my cookie"',
    ],
    [
      { ingress: { annotations: { a: 1 } as unknown as Record<string, string> } },
      'deploy config: ingress.annotations must be an object of string values, got {"a":1}',
    ],
    [
      { ingress: { longPolling: 'yes' as unknown as boolean } },
      'deploy config: ingress.longPolling must be true or false, got "yes"',
    ],
  ])('a bad value names its field: %j', (input, message) => {
    expect(() => deployConfig(input)).toThrow(message);
    try {
      deployConfig(input);
    } catch (error) {
      expect((error as { field: string }).field).toBe(message.split(' ')[2]);
    }
  });
});

describe('docs/ingress.md', () => {
  const doc = readFileSync(new URL('../../../../docs/ingress.md', import.meta.url), 'utf8');

  it('its config snippet is a valid mixin config file that gives the timeouts it implies', () => {
    const json = /```json\n([\s\S]*?)```/.exec(doc)?.[1];
    if (json === undefined) throw new Error('docs/ingress.md has no json snippet');
    const config = mixinFileConfig(JSON.parse(json));
    const text = generateMixin(config).get('deploy/ingress.yaml') ?? '';
    expect(text).toContain(`${N}/proxy-read-timeout: "60"`);
    expect(text).toContain('host: chat.example.org');
    expect(text).toContain(`${N}/affinity: cookie`);
  });

  it('its table explains every annotation the defaults set', () => {
    const table = doc.slice(doc.indexOf('| annotation'), doc.indexOf('Also set:'));
    const missing = Object.keys(annotationsOf())
      .map((k) => k.slice(N.length + 1))
      .filter((name) => !table.includes(`\`${name}`));
    expect(missing).toEqual([]);
  });
});
