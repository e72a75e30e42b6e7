import type { Cluster, Worker as ClusterWorker } from 'node:cluster';
import type { Worker as ThreadWorker } from 'node:worker_threads';
import type { Gatherer, Peer, PeerSource } from './gatherer.js';

/**
 * `node:cluster`, loaded on first use rather than at import: this entry also serves
 * worker_threads users, and some application servers (Passenger) break when `cluster` is
 * merely required (the reason prom-client lazy-loads it too).
 */
function loadCluster(): Cluster {
  return process.getBuiltinModule('node:cluster') as unknown as Cluster;
}

/** The workers of this cluster primary, keyed by `worker.id`. */
export function clusterSource(gatherer: Gatherer<number>): PeerSource<number> {
  const cluster = loadCluster();
  const onMessage = (worker: ClusterWorker, message: unknown) => {
    gatherer.response(worker.id, message);
  };
  // `disconnect` comes first when a worker dies; it can no longer answer from then on, and
  // cluster has already removed it from `cluster.workers`. `exit` covers the rest.
  const onGone = (worker: ClusterWorker) => gatherer.gone(worker.id);
  cluster.on('message', onMessage);
  cluster.on('disconnect', onGone);
  cluster.on('exit', onGone);
  return {
    peers() {
      const out: Peer<number>[] = [];
      for (const worker of Object.values(cluster.workers ?? {})) {
        if (!worker || !worker.isConnected() || worker.isDead()) continue;
        out.push({
          key: worker.id,
          send: (message, onError) => {
            // With a callback, a closed channel is reported here instead of as an
            // `error` event that would crash a primary without an error listener.
            worker.send(message, undefined, (err) => {
              if (err) onError(err);
            });
          },
        });
      }
      return out;
    },
    describe: (id) => `worker ${id}`,
    close() {
      cluster.off('message', onMessage);
      cluster.off('disconnect', onGone);
      cluster.off('exit', onGone);
    },
  };
}

/** The threads `workers()` lists, keyed by the `Worker` object. */
export function threadsSource(
  gatherer: Gatherer<ThreadWorker>,
  workers: () => Iterable<ThreadWorker>,
): PeerSource<ThreadWorker> {
  const attached = new Map<ThreadWorker, () => void>();
  const attach = (worker: ThreadWorker) => {
    if (attached.has(worker)) return;
    const onMessage = (message: unknown) => gatherer.response(worker, message);
    const onExit = () => {
      attached.get(worker)?.();
      gatherer.gone(worker);
    };
    worker.on('message', onMessage);
    worker.once('exit', onExit);
    attached.set(worker, () => {
      attached.delete(worker);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
    });
  };
  return {
    peers() {
      const out: Peer<ThreadWorker>[] = [];
      const bad: unknown[] = [];
      for (const worker of workers()) {
        if (typeof worker?.postMessage !== 'function' || typeof worker.on !== 'function') {
          bad.push(worker);
          continue;
        }
        // threadId turns -1 once the thread has exited.
        if (worker.threadId === -1) continue;
        attach(worker);
        out.push({ key: worker, send: (message) => worker.postMessage(message) });
      }
      if (bad.length > 0) {
        gatherer.report(
          new TypeError(`workers() returned ${bad.length} value(s) that are not a Worker`),
          'workers',
        );
      }
      return out;
    },
    describe: (worker) => `thread ${worker.threadId}`,
    close() {
      for (const detach of [...attached.values()]) detach();
    },
  };
}
