import { randomBytes } from 'node:crypto';
import { diag } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { type AggregationErrorHook, aggregate, retire } from './aggregate.js';
import {
  decodeMetrics,
  isResponse,
  type MetricJson,
  type MetricsRequest,
  REQUEST,
} from './protocol.js';

/** One worker (process or thread) that can be asked for its metrics right now. */
export interface Peer<K> {
  readonly key: K;
  /** Sends a request; reports a failed send through `onError`, never as an `error` event. */
  send(message: MetricsRequest, onError: (err: unknown) => void): void;
}

/** Lists live workers; the source calls back `response()` and `gone()` on the gatherer. */
export interface PeerSource<K> {
  peers(): Peer<K>[];
  /** A short name for messages, e.g. `worker 3`. */
  describe(key: K): string;
  close(): void;
}

export interface GathererOptions {
  timeoutMs: number;
  prefix: string;
  keepExitedCounters: boolean;
  onError: AggregationErrorHook | undefined;
}

interface PendingRequest<K> {
  readonly seq: number;
  readonly waiting: Set<K>;
  readonly answered: Set<K>;
  /** Workers that exited during this request: neither stale nor missing, just gone. */
  readonly gone: Set<K>;
  finish: () => void;
}

/** Requests a worker has not answered yet; past this it is hung, stop queueing more. */
const MAX_IN_FLIGHT = 3;
/** Share of the timeout a worker may spend collecting, leaving the rest for the trip back. */
const BUDGET_SHARE = 0.8;

/** Worker counts by state in one aggregation. */
export interface WorkerStates {
  /** Answered this request in time. */
  responding: number;
  /** Did not answer in time; its last good snapshot was used. */
  stale: number;
  /** Has never answered; nothing of it is included. */
  missing: number;
}

/**
 * The aggregating side: asks every live worker for its metrics with a request id, waits
 * at most `timeoutMs`, and aggregates the answers with each worker's last good snapshot
 * standing in for the ones that did not answer in time.
 */
export class Gatherer<K> {
  private readonly options: GathererOptions;
  /** Last good snapshot per worker, with the sequence number of the request it answered. */
  private readonly snapshots = new Map<K, { seq: number; metrics: MetricJson[] }>();
  private readonly inFlight = new Map<K, number>();
  private readonly requests = new Map<string, PendingRequest<K>>();
  /** Summed counters and histograms of workers that are gone. */
  private retired: MetricJson[] = [];
  /** Tells this aggregator's requests from those of another one in the same process. */
  private readonly tag = randomBytes(6).toString('hex');
  private seq = 0;
  private closed = false;
  private source: PeerSource<K> | undefined;

  constructor(options: GathererOptions) {
    this.options = options;
  }

  attach(source: PeerSource<K>): void {
    this.source = source;
  }

  /** Never rejects; answers within `timeoutMs` plus the aggregation itself. */
  async gather(): Promise<{ registry: Registry; states: WorkerStates }> {
    const peers = this.livePeers();
    const seq = ++this.seq;
    const id = `${this.tag}:${seq}`;
    const req: PendingRequest<K> = {
      seq,
      waiting: new Set(),
      answered: new Set(),
      gone: new Set(),
      finish: () => {},
    };
    this.requests.set(id, req);
    const message: MetricsRequest = {
      type: REQUEST,
      id,
      budgetMs: Math.max(1, Math.floor(this.options.timeoutMs * BUDGET_SHARE)),
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      for (const peer of peers) {
        const n = this.inFlight.get(peer.key) ?? 0;
        if (n >= MAX_IN_FLIGHT) continue;
        req.waiting.add(peer.key);
        this.inFlight.set(peer.key, n + 1);
        const failed = (err: unknown) => this.notAnswering(req, peer.key, err);
        try {
          peer.send(message, failed);
        } catch (err) {
          failed(err);
        }
      }
      if (req.waiting.size > 0) {
        await new Promise<void>((resolve) => {
          req.finish = resolve;
          timer = setTimeout(resolve, this.options.timeoutMs);
        });
      }
    } finally {
      clearTimeout(timer);
      this.requests.delete(id);
    }

    const states: WorkerStates = { responding: 0, stale: 0, missing: 0 };
    const inputs: MetricJson[][] = [];
    for (const peer of peers) {
      if (req.gone.has(peer.key)) continue;
      const snap = this.snapshots.get(peer.key);
      if (req.answered.has(peer.key)) states.responding++;
      else if (snap) states.stale++;
      else states.missing++;
      if (snap) inputs.push(snap.metrics);
    }
    if (this.options.keepExitedCounters && this.retired.length > 0) inputs.push(this.retired);
    const registry = aggregate(inputs, this.report);
    this.addStatesGauge(registry, states);
    return { registry, states };
  }

  /** An answer (or any message) from worker `key`. */
  response(key: K, message: unknown): void {
    if (!isResponse(message) || !message.id.startsWith(`${this.tag}:`)) return;
    const n = this.inFlight.get(key);
    if (n !== undefined) this.inFlight.set(key, Math.max(0, n - 1));
    const req = this.requests.get(message.id);
    // Late (its request has been answered already) or duplicate: ignored, so nothing is
    // ever counted twice.
    if (!req || !req.waiting.delete(key)) return;
    if (typeof message.error === 'string') {
      this.report(new Error(`${this.describe(key)}: ${message.error}`), 'worker');
    } else {
      const problems: string[] = [];
      const metrics = decodeMetrics(message.metrics, problems);
      if (problems.length > 0) {
        this.report(new Error(`${this.describe(key)}: ${problems.join('; ')}`), 'decode');
      }
      const prev = this.snapshots.get(key);
      // Concurrent scrapes: an older request answered last must not roll counters back.
      if (!prev || prev.seq < req.seq) {
        const failed = Array.isArray(message.failed)
          ? new Set(message.failed.filter((f): f is string => typeof f === 'string'))
          : undefined;
        if (prev && failed && failed.size > 0) {
          // A family whose collector failed this time keeps its last good values.
          const have = new Set(metrics.map((m) => m.name));
          for (const m of prev.metrics) {
            if (failed.has(m.name) && !have.has(m.name)) metrics.push(m);
          }
        }
        this.snapshots.set(key, { seq: req.seq, metrics });
      }
      req.answered.add(key);
    }
    if (req.waiting.size === 0) req.finish();
  }

  /** Worker `key` exited or lost its channel: drop its snapshot, keep its counters. */
  gone(key: K): void {
    const snap = this.snapshots.get(key);
    this.snapshots.delete(key);
    this.inFlight.delete(key);
    for (const req of this.requests.values()) {
      req.gone.add(key);
      if (req.waiting.delete(key) && req.waiting.size === 0) req.finish();
    }
    if (snap && this.options.keepExitedCounters) {
      this.retired = retire(this.retired, snap.metrics, this.report);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.source?.close();
    for (const req of this.requests.values()) req.finish();
    this.snapshots.clear();
    this.inFlight.clear();
    this.retired = [];
  }

  private livePeers(): Peer<K>[] {
    if (this.closed || !this.source) return [];
    try {
      return this.source.peers();
    } catch (err) {
      this.report(err, 'workers');
      return [];
    }
  }

  private notAnswering(req: PendingRequest<K>, key: K, err: unknown): void {
    if (!req.waiting.delete(key)) return;
    const n = this.inFlight.get(key);
    if (n !== undefined) this.inFlight.set(key, Math.max(0, n - 1));
    this.report(err, 'send');
    if (req.waiting.size === 0) req.finish();
  }

  private describe(key: K): string {
    try {
      return this.source?.describe(key) ?? 'worker';
    } catch {
      return 'worker';
    }
  }

  /** Reports an error caught on the aggregating side; never throws. */
  readonly report: AggregationErrorHook = (error, site) => {
    try {
      diag.error(`tidewatch: cluster ${site}`, error);
      this.options.onError?.(error, site);
    } catch {
      // A throwing hook must not fail the scrape.
    }
  };

  private addStatesGauge(registry: Registry, states: WorkerStates): void {
    const name = `${this.options.prefix}cluster_workers`;
    // Only the aggregating side knows its workers; whatever a worker reports under this
    // name (e.g. a nested primary) would be a different fact.
    registry.removeSingleMetric(name);
    const data = {
      name,
      help: 'Workers asked for metrics in this scrape: responding = answered in time; stale = did not, its last good snapshot is used; missing = never answered, not included.',
      type: 'gauge' as const,
      aggregator: 'sum' as const,
      values: (['responding', 'stale', 'missing'] as const).map((state) => ({
        value: states[state],
        labels: { state },
      })),
    };
    registry.registerMetric({ ...data, get: () => data } as never);
  }
}
