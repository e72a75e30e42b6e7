/**
 * A fake Kubernetes API server on loopback for the leader-election tests: Leases
 * (`coordination.k8s.io/v1`) and ConfigMaps with get/create/update and REAL optimistic
 * concurrency (one resourceVersion counter; an update carrying another version is a 409, a
 * create of an existing object a 409). Each client gets its own listener
 * ({@link FakeLeaseApi.clientUrl}), so faults can hit one replica only: `cut` closes its
 * listener (connection refused), `delayMs` holds its answers, `fail` answers 500. Every write
 * is logged with the server's own monotonic time and who held the lease after it.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One write the fake accepted or refused. */
export interface WriteRecord {
  /** `performance.now()` of the fake when it answered, ms. */
  atMs: number;
  /** The client's name (its listener). */
  client: string;
  kind: 'lease' | 'configmap';
  verb: 'create' | 'update';
  name: string;
  /** HTTP status answered. */
  status: number;
  /** The lease's holder after the write (leases only; `''` released). */
  holder?: string;
  resourceVersion?: string;
  /** Bytes of the ConfigMap's data + binaryData (configmaps only). */
  bytes?: number;
}

/** Faults of one client. */
export interface ClientFaults {
  /** Hold every answer this long, ms. */
  delayMs: number;
  /** Answer every request with this status (e.g. 500) instead. */
  fail?: number;
}

interface Stored {
  object: Record<string, unknown> & { metadata: Record<string, unknown> };
}

/** A running fake. */
export interface FakeLeaseApi {
  /** The base URL for client `name` (its own listener; created on first use). */
  clientUrl(name: string): Promise<string>;
  /** Closes `name`'s listener and its connections: its requests are refused. */
  cut(name: string): Promise<void>;
  /** Opens `name`'s listener again on the same port. */
  restore(name: string): Promise<void>;
  /** Faults of client `name` (mutable). */
  faults(name: string): ClientFaults;
  /**
   * Shifts the `renewTime`/`acquireTime` stored for writes by lease holder `holder` by
   * `offsetMs` (a replica whose wall clock is off).
   */
  skewClock(holder: string, offsetMs: number): void;
  /** Every write so far, in order. */
  readonly writes: WriteRecord[];
  /** The stored object at `path` (e.g. the lease's), if any. */
  object(kind: 'lease' | 'configmap', namespace: string, name: string): unknown;
  close(): Promise<void>;
}

const LEASES = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/;
const CONFIGMAPS = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps(?:\/([^/]+))?$/;

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message };
}

/** Starts the fake (no listener until a client URL is asked for). */
export async function startFakeLeaseApi(): Promise<FakeLeaseApi> {
  const store = new Map<string, Stored>();
  const writes: WriteRecord[] = [];
  const skews = new Map<string, number>();
  const clients = new Map<
    string,
    { server: http.Server; port: number; sockets: Set<Socket>; faults: ClientFaults }
  >();
  let version = 100;

  async function handle(
    client: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const faults = clients.get(client)?.faults;
    if (faults && faults.delayMs > 0) await new Promise((r) => setTimeout(r, faults.delayMs));
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (faults?.fail !== undefined)
      return send(faults.fail, status(faults.fail, 'InternalError', 'injected failure'));
    const url = new URL(req.url ?? '/', 'http://x');
    const lease = LEASES.exec(url.pathname);
    const cm = lease ? undefined : CONFIGMAPS.exec(url.pathname);
    const match = lease ?? cm;
    if (!match) return send(404, status(404, 'NotFound', `no route ${url.pathname}`));
    const kind = lease ? 'lease' : 'configmap';
    const [, namespace, name] = match;
    const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const key = (n: string) => `${kind}/${namespace}/${n}`;
    const log = (verb: WriteRecord['verb'], n: string, code: number, object?: Stored['object']) => {
      const spec = object?.spec as { holderIdentity?: string } | undefined;
      const data = { ...(object?.data ?? {}), ...(object?.binaryData ?? {}) } as Record<
        string,
        string
      >;
      writes.push({
        atMs: performance.now(),
        client,
        kind,
        verb,
        name: n,
        status: code,
        ...(kind === 'lease' && object ? { holder: spec?.holderIdentity ?? '' } : {}),
        ...(object ? { resourceVersion: object.metadata.resourceVersion as string } : {}),
        ...(kind === 'configmap' && object
          ? { bytes: Object.values(data).reduce((n, v) => n + v.length, 0) }
          : {}),
      });
    };
    /** What is stored: the body with a new version (and skewed times for a skewed holder). */
    const stored = (n: string): Stored['object'] => {
      const object = structuredClone(body) as Stored['object'];
      object.metadata = {
        ...object.metadata,
        name: n,
        namespace,
        resourceVersion: String(++version),
      };
      const spec = object.spec as Record<string, unknown> | undefined;
      const skew = spec ? skews.get(String(spec.holderIdentity)) : undefined;
      if (spec && skew)
        for (const f of ['renewTime', 'acquireTime'])
          if (typeof spec[f] === 'string')
            spec[f] = new Date(Date.parse(spec[f] as string) + skew).toISOString();
      return object;
    };
    if (req.method === 'GET' && name) {
      const s = store.get(key(name));
      return s
        ? send(200, s.object)
        : send(404, status(404, 'NotFound', `${kind} "${name}" not found`));
    }
    if (req.method === 'POST' && !name) {
      const n = (body as { metadata?: { name?: string } })?.metadata?.name ?? '';
      if (store.has(key(n))) {
        log('create', n, 409);
        return send(409, status(409, 'AlreadyExists', `${kind} "${n}" already exists`));
      }
      const object = stored(n);
      store.set(key(n), { object });
      log('create', n, 201, object);
      return send(201, object);
    }
    if (req.method === 'PUT' && name) {
      const current = store.get(key(name));
      if (!current) {
        log('update', name, 404);
        return send(404, status(404, 'NotFound', `${kind} "${name}" not found`));
      }
      const rv = (body as { metadata?: { resourceVersion?: string } })?.metadata?.resourceVersion;
      if (rv !== current.object.metadata.resourceVersion) {
        log('update', name, 409);
        return send(
          409,
          status(
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${kind} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
          ),
        );
      }
      const object = stored(name);
      current.object = object;
      log('update', name, 200, object);
      return send(200, object);
    }
    return send(405, status(405, 'MethodNotAllowed', `${req.method} ${url.pathname}`));
  }

  async function listen(name: string, port: number): Promise<void> {
    const entry = clients.get(name);
    const server = http.createServer((req, res) => {
      handle(name, req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(error));
      });
    });
    const sockets = new Set<Socket>();
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    clients.set(name, {
      server,
      port: (server.address() as AddressInfo).port,
      sockets,
      faults: entry?.faults ?? { delayMs: 0 },
    });
  }

  async function shut(name: string): Promise<void> {
    const c = clients.get(name);
    if (!c?.server.listening) return;
    const closed = new Promise<void>((r) => c.server.close(() => r()));
    for (const s of c.sockets) s.destroy();
    await closed;
  }

  return {
    async clientUrl(name) {
      if (!clients.has(name)) await listen(name, 0);
      return `http://127.0.0.1:${clients.get(name)?.port}`;
    },
    cut: shut,
    async restore(name) {
      const c = clients.get(name);
      if (c && !c.server.listening) await listen(name, c.port);
    },
    faults(name) {
      const c = clients.get(name);
      if (!c) throw new Error(`no client ${name}: ask for its URL first`);
      return c.faults;
    },
    skewClock(holder, offsetMs) {
      skews.set(holder, offsetMs);
    },
    writes,
    object(kind, namespace, name) {
      return store.get(`${kind}/${namespace}/${name}`)?.object;
    },
    async close() {
      for (const name of clients.keys()) await shut(name);
    },
  };
}
