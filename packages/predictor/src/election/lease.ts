/**
 * The election's lock: one `coordination.k8s.io/v1` Lease, read and written the way
 * client-go's `resourcelock.LeaseLock` does. A write carries the `metadata.resourceVersion` of
 * the object it was computed from, so the API server refuses it (409 Conflict) when anyone
 * wrote in between: that optimistic concurrency, not any clock, is what makes two replicas
 * unable to both take the lease.
 */
import { type KubeApi, statusMessage } from './kube-api.js';

/** The spec fields election reads and writes (client-go's `LeaderElectionRecord`). */
export interface LeaseRecord {
  /** Who holds it; `''` when released. */
  holderIdentity: string;
  /** Seconds a holder keeps it without renewing (what followers wait, on their own clock). */
  leaseDurationSeconds: number;
  /** When the holder took it (the holder's wall clock; for people, never compared). */
  acquireTime: string | null;
  /** When the holder last renewed (the holder's wall clock; for people, never compared). */
  renewTime: string | null;
  /** How often the lease changed hands. */
  leaseTransitions: number;
}

/** A Lease as read: its record and the version any update must carry. */
export interface ObservedLease {
  record: LeaseRecord;
  resourceVersion: string;
}

/** What a get, create or update came to. Only `error` is a failure to talk to the server. */
export type LeaseResult =
  | { status: 'ok'; lease: ObservedLease }
  | { status: 'not-found' }
  | { status: 'conflict'; message: string }
  | { status: 'error'; message: string };

/** Reads and writes one Lease. */
export interface LeaseLock {
  /** `namespace/name`, for logs. */
  readonly describe: string;
  get(timeoutMs: number): Promise<LeaseResult>;
  create(record: LeaseRecord, timeoutMs: number): Promise<LeaseResult>;
  /** Replaces the spec, fenced by `resourceVersion` (409 -> `conflict`). */
  update(record: LeaseRecord, resourceVersion: string, timeoutMs: number): Promise<LeaseResult>;
}

/** A Kubernetes `MicroTime` (RFC 3339 with microseconds) of unix ms `ms`. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const int = (v: unknown, fallback: number) =>
  typeof v === 'number' && Number.isInteger(v) ? v : fallback;
const str = (v: unknown) => (typeof v === 'string' ? v : null);

/** The record and version of a Lease object as the API server returns it. */
export function leaseOf(object: unknown): ObservedLease | undefined {
  const o = object as { metadata?: { resourceVersion?: unknown }; spec?: Record<string, unknown> };
  const rv = o?.metadata?.resourceVersion;
  if (typeof rv !== 'string' || rv === '') return undefined;
  const spec = o.spec ?? {};
  return {
    resourceVersion: rv,
    record: {
      holderIdentity: str(spec.holderIdentity) ?? '',
      leaseDurationSeconds: int(spec.leaseDurationSeconds, 0),
      acquireTime: str(spec.acquireTime),
      renewTime: str(spec.renewTime),
      leaseTransitions: int(spec.leaseTransitions, 0),
    },
  };
}

/** Creates the lock of Lease `name` in `namespace`. */
export function createLeaseLock(api: KubeApi, namespace: string, name: string): LeaseLock {
  const collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  const path = `${collection}/${encodeURIComponent(name)}`;
  const object = (record: LeaseRecord, resourceVersion?: string) => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      ...(record.acquireTime ? { acquireTime: record.acquireTime } : {}),
      ...(record.renewTime ? { renewTime: record.renewTime } : {}),
      leaseTransitions: record.leaseTransitions,
    },
  });

  async function call(
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    timeoutMs: number,
    body?: unknown,
  ): Promise<LeaseResult> {
    let response: Awaited<ReturnType<KubeApi['request']>>;
    try {
      response = await api.request(method, url, { timeoutMs, ...(body ? { body } : {}) });
    } catch (error) {
      return { status: 'error', message: (error as Error).message };
    }
    if (response.status === 404) return { status: 'not-found' };
    // 409 on update: a stale resourceVersion; on create: someone created it first.
    if (response.status === 409) return { status: 'conflict', message: statusMessage(response) };
    if (response.status < 200 || response.status >= 300)
      return { status: 'error', message: `${method} lease: ${statusMessage(response)}` };
    const lease = leaseOf(response.body);
    return lease
      ? { status: 'ok', lease }
      : { status: 'error', message: `${method} lease: the answer is not a Lease` };
  }

  return {
    describe: `${namespace}/${name}`,
    get: (timeoutMs) => call('GET', path, timeoutMs),
    create: (record, timeoutMs) => call('POST', collection, timeoutMs, object(record)),
    update: (record, resourceVersion, timeoutMs) =>
      call('PUT', path, timeoutMs, object(record, resourceVersion)),
  };
}
