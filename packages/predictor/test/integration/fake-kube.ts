/**
 * A fake Kubernetes API server on loopback for patch-mode tests: it serves an HPA and a KEDA
 * ScaledObject by path, records every request, and can refuse or delay per method. The real
 * @kubernetes/client-node builds and sends the requests through the returned KubeConfig.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { pollUntil, startHttpServer } from '@tidewatch/test-utils';

/** One request the fake received. */
export interface Recorded {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

export const HPA_PATH =
  '/apis/autoscaling/v2/namespaces/realtime/horizontalpodautoscalers/realtime-server';
export const SO_PATH = '/apis/keda.sh/v1alpha1/namespaces/realtime/scaledobjects/realtime-server';

/** What the fake serves: objects by path, and statuses to answer instead per method. */
export interface FakeKubeState {
  objects: Map<string, unknown>;
  refuse: Map<string, number>;
  delayMs: number;
  requests: Recorded[];
  /**
   * Apply JSON patches like the API server (default false: record only): `test` ops are
   * checked (a failed one answers 422, as the API server does), `replace`/`add` applied, and
   * `metadata.resourceVersion` bumped on every write.
   */
  apply: boolean;
  /** Runs before a PATCH is applied (another writer racing the patcher); applied only with `apply`. */
  beforePatch: ((objects: Map<string, unknown>, path: string) => void) | undefined;
}

/** Sets `metadata.resourceVersion` (as the API server does on every write). */
export function bumpResourceVersion(object: unknown): void {
  const meta = (object as { metadata: { resourceVersion?: string } }).metadata;
  meta.resourceVersion = String(Number(meta.resourceVersion ?? '0') + 1);
}

/** Applies an RFC 6902 patch (test, replace, add) in place; the failing op's message or null. */
function applyJsonPatch(
  object: unknown,
  ops: Array<{ op: string; path: string; value: unknown }>,
): string | null {
  const draft = structuredClone(object) as Record<string, unknown>;
  for (const { op, path, value } of ops) {
    const keys = path
      .split('/')
      .slice(1)
      .map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = keys.pop() as string;
    let parent: any = draft;
    for (const k of keys) parent = parent?.[k];
    if (parent === undefined || parent === null) return `path ${path} does not exist`;
    if (op === 'test') {
      if (JSON.stringify(parent[last]) !== JSON.stringify(value))
        return `testing value ${path} failed`;
    } else if (op === 'replace' || op === 'add') {
      if (op === 'replace' && !(last in parent)) return `replace ${path}: missing`;
      parent[last] = value;
    } else return `op ${op} not supported by the fake`;
  }
  Object.assign(object as object, draft);
  return null;
}

/** An HPA with the predicted and the actual external metric (the actual's target given). */
export function hpa(averageValue: string): unknown {
  const external = (name: string, value: string) => ({
    type: 'External',
    external: {
      metric: { name, selector: { matchLabels: { job: 'realtime-server' } } },
      target: { type: 'AverageValue', averageValue: value },
    },
  });
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'realtime-server', namespace: 'realtime' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'realtime-server' },
      maxReplicas: 50,
      metrics: [
        external('tidewatch_predicted_load', '350'),
        external('tidewatch_actual_load', averageValue),
      ],
    },
  };
}

/** A ScaledObject with the predicted and the actual trigger (the actual's threshold given). */
export function scaledObject(threshold: string): unknown {
  const trigger = (name: string, value: string) => ({
    type: 'prometheus',
    name,
    metadata: { serverAddress: 'http://prom:9090', query: 'sum(x)', threshold: value },
  });
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: 'realtime-server', namespace: 'realtime' },
    spec: {
      scaleTargetRef: { name: 'realtime-server' },
      triggers: [trigger('predicted-load', '350'), trigger('actual-load', threshold)],
    },
  };
}

function forbidden(verb: string, path: string) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    message: `${path.includes('keda') ? 'scaledobjects.keda.sh' : 'horizontalpodautoscalers.autoscaling'} "realtime-server" is forbidden: User "system:serviceaccount:realtime:realtime-server-predictor" cannot ${verb} resource`,
    reason: 'Forbidden',
    code: 403,
  };
}

async function handle(
  state: FakeKubeState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const url = new URL(req.url ?? '/', 'http://x');
  const text = Buffer.concat(chunks).toString('utf8');
  state.requests.push({
    method: req.method ?? '',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    contentType: req.headers['content-type'],
    authorization: req.headers.authorization,
    body: text === '' ? undefined : JSON.parse(text),
  });
  if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const refused = state.refuse.get(req.method ?? '');
  if (refused === 403)
    return send(403, forbidden(req.method === 'GET' ? 'get' : 'patch', url.pathname));
  if (refused !== undefined) return send(refused, { kind: 'Status', code: refused, message: 'no' });
  const object = state.objects.get(url.pathname);
  if (object === undefined) return send(404, { kind: 'Status', code: 404, reason: 'NotFound' });
  if (req.method === 'PATCH' && state.apply) {
    state.beforePatch?.(state.objects, url.pathname);
    const live = state.objects.get(url.pathname);
    const failed = applyJsonPatch(live, JSON.parse(text));
    if (failed !== null)
      return send(422, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message: `the server rejected our request due to an error in our request: ${failed}`,
        reason: 'Invalid',
        code: 422,
      });
    bumpResourceVersion(live);
    return send(200, live);
  }
  // Without `apply` the fake changes nothing: the recorded request is what the tests check.
  send(200, object);
}

/** A running fake API server. */
export interface FakeKube {
  readonly state: FakeKubeState;
  /** Points at the fake with a bearer token `test-token`. */
  readonly kubeConfig: KubeConfig;
  /** Restores both objects (target 350), no refusals, no delay, no recorded requests, no apply. */
  reset(): void;
  /** Resolves once every request that reached the fake has been answered (or abandoned). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the fake on 127.0.0.1 (any free port), already reset. */
export async function startFakeKube(): Promise<FakeKube> {
  const state: FakeKubeState = {
    objects: new Map(),
    refuse: new Map(),
    delayMs: 0,
    requests: [],
    apply: false,
    beforePatch: undefined,
  };
  let inFlight = 0;
  const server = await startHttpServer((req, res) => {
    inFlight++;
    handle(state, req, res)
      .catch((error: unknown) => {
        res.writeHead(500);
        res.end(String(error));
      })
      .finally(() => {
        inFlight--;
      });
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'predictor', token: 'test-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'predictor' }],
    currentContext: 'fake',
  });
  const reset = () => {
    state.objects = new Map<string, unknown>([
      [HPA_PATH, hpa('350')],
      [SO_PATH, scaledObject('350')],
    ]);
    state.refuse.clear();
    state.delayMs = 0;
    state.requests = [];
    state.apply = false;
    state.beforePatch = undefined;
  };
  reset();
  return {
    state,
    kubeConfig,
    reset,
    async idle() {
      await pollUntil(
        async () => inFlight,
        (n) => n === 0,
        { timeoutMs: 10_000, intervalMs: 10, description: 'the fake API to answer every request' },
      );
    },
    close: () => server.close(),
  };
}
