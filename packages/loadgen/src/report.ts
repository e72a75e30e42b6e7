/**
 * What a run did: the counters every client updates, and the plain-JSON {@link LoadReport}
 * built from them.
 */
import { LatencyRecorder, type LatencySummary } from './latency.js';
import type { TransportName } from './options.js';

/** Connection counters of a {@link LoadReport}. */
export interface ConnectionCounts {
  /** Connects started, reconnects included (never more than `limits.maxConnections`). */
  attempted: number;
  /** Connects that completed the handshake. */
  opened: number;
  /** Connects that never opened (refused, timed out, reset, or `rejected`). */
  failed: number;
  /** Of `failed`: the handshake got an HTTP error answer (4xx/5xx), e.g. 401. */
  rejected: number;
  /** Opened connections we closed cleanly (close code 1000, Socket.IO disconnect, SSE FIN). */
  closedByClient: number;
  /** Opened connections the server closed, cleanly or not (see `failuresByReason`). */
  closedByServer: number;
  /** Opened connections we ended abruptly on purpose (`dropRatio`): socket destroyed. */
  dropped: number;
  /** Connections that opened again after a failure or an abnormal close. */
  reconnects: number;
  /** Open now. `opened = closedByClient + closedByServer + dropped + open`. */
  open: number;
  /** Most connections open at once. */
  peakOpen: number;
  /** Arrivals not started because `limits.maxConcurrent` clients were alive. */
  skipped: number;
}

/**
 * The report of a run (also the `progress` snapshots). Plain JSON with stable field names;
 * times are ISO-8601, latencies milliseconds (`null` when nothing was measured).
 */
export interface LoadReport {
  transport: TransportName;
  /** The target, as configured (without the token query parameter). */
  url: string;
  /** When `start()` ran; `null` before. */
  startedAt: string | null;
  /** When the run ended; `null` while it runs. */
  endedAt: string | null;
  /** Seconds from start to end (or to now, while running). */
  durationSeconds: number;
  connections: ConnectionCounts;
  /**
   * Failed connects and abnormal closes by reason: `ECONNREFUSED`, `timeout`, `http-401`,
   * `close-1006` (ws close code), `close-transport-close` (Socket.IO disconnect reason),
   * `close-aborted` (SSE stream cut) ...; clean closes are not failures.
   */
  failuresByReason: Record<string, number>;
  /**
   * Data messages: ws frames and Socket.IO events we sent (`join` included) and received;
   * SSE: POSTed messages and `data` events received.
   */
  messages: { sent: number; received: number };
  /**
   * Payload bytes as the server's `realtime_message_bytes_total` counts them: ws frame
   * payloads; Socket.IO encoded packets (`2["msg",{...}]`); SSE whole event blocks.
   */
  bytes: { sent: number; received: number };
  /** Round trip of our own messages coming back (echo, or broadcast to a room we are in). */
  rtt: LatencySummary;
  /** ws: pings we sent and pongs back. Socket.IO: server pings we answered (sent = 0). */
  heartbeats: { sent: number; answered: number };
  /** ws ping to pong round trip. */
  pingRtt: { count: number; p50Ms: number | null; p99Ms: number | null };
}

/** The mutable counters behind a report; clients update fields directly (hot path). */
export class Stats {
  attempted = 0;
  opened = 0;
  failed = 0;
  rejected = 0;
  closedByClient = 0;
  closedByServer = 0;
  dropped = 0;
  reconnects = 0;
  open = 0;
  peakOpen = 0;
  skipped = 0;
  msgSent = 0;
  msgReceived = 0;
  bytesSent = 0;
  bytesReceived = 0;
  hbSent = 0;
  hbAnswered = 0;
  readonly failures = new Map<string, number>();
  readonly rtt = new LatencyRecorder();
  readonly pingRtt = new LatencyRecorder();

  /** Counts one failure under `reason`. */
  fail(reason: string): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }

  /** A connection opened. */
  opens(): void {
    this.opened++;
    if (++this.open > this.peakOpen) this.peakOpen = this.open;
  }

  /** Builds a plain-JSON report. */
  snapshot(
    transport: TransportName,
    url: string,
    startedAt: number | null,
    endedAt: number | null,
  ): LoadReport {
    const end = endedAt ?? Date.now();
    const failuresByReason: Record<string, number> = {};
    for (const k of [...this.failures.keys()].sort()) failuresByReason[k] = this.failures.get(k)!;
    const ping = this.pingRtt.summary();
    return {
      transport,
      url,
      startedAt: startedAt === null ? null : new Date(startedAt).toISOString(),
      endedAt: endedAt === null ? null : new Date(endedAt).toISOString(),
      durationSeconds: startedAt === null ? 0 : Math.max(0, end - startedAt) / 1000,
      connections: {
        attempted: this.attempted,
        opened: this.opened,
        failed: this.failed,
        rejected: this.rejected,
        closedByClient: this.closedByClient,
        closedByServer: this.closedByServer,
        dropped: this.dropped,
        reconnects: this.reconnects,
        open: this.open,
        peakOpen: this.peakOpen,
        skipped: this.skipped,
      },
      failuresByReason,
      messages: { sent: this.msgSent, received: this.msgReceived },
      bytes: { sent: this.bytesSent, received: this.bytesReceived },
      rtt: this.rtt.summary(),
      heartbeats: { sent: this.hbSent, answered: this.hbAnswered },
      pingRtt: { count: ping.count, p50Ms: ping.p50Ms, p99Ms: ping.p99Ms },
    };
  }
}
