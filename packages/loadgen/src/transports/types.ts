/**
 * The seam between a simulated client's session logic ({@link Client}) and a wire protocol.
 * A driver opens connections; each connection reports back through {@link ConnectionHooks}
 * exactly one terminal event: `failed` (never opened) or `closed` (after `opened`).
 */
import type { MessageFactory, Room } from '../message.js';
import type { ResolvedOptions } from '../options.js';
import type { Stats } from '../report.js';

/** How an open connection ended, from the client's point of view. */
export type CloseKind =
  /** We closed it cleanly (`close()`). */
  | 'client'
  /** We destroyed the socket (`drop()`). */
  | 'drop'
  /** The server closed it cleanly (ws 1000/1001, Socket.IO server disconnect, SSE end). */
  | 'server'
  /** The server closed it for auth reasons (ws 1008, 3000, 3003, 4401, 4403): no reconnect. */
  | 'server-auth'
  /** Anything else: the server died or cut it. Reconnects. */
  | 'abnormal';

/** Callbacks a connection calls on its client. */
export interface ConnectionHooks {
  /** Unique client id; own messages carry ids `<cid>-<seq>`. */
  readonly cid: string;
  /**
   * Transport state kept across this client's reconnects: the SSE `Last-Event-ID`.
   * `null` until the transport sets it.
   */
  resumeId: string | null;
  opened(): void;
  /** Our own message `seq` came back (RTT). */
  own(seq: number): void;
  /** A ws pong came back after `rttMs`. */
  pong(rttMs: number): void;
  /**
   * The connect failed. `status` is the HTTP status of a refused handshake, 0 when there
   * was no HTTP answer (refused, reset, timeout).
   */
  failed(reason: string, status: number): void;
  /** The open connection ended; `reason` is the failure reason for abnormal and auth closes. */
  closed(kind: CloseKind, reason: string): void;
}

/** One connection attempt. Methods are no-ops when they do not apply to the state. */
export interface Connection {
  /** Sends a room join (counted as a data message where the server counts it). */
  join(room: Room): void;
  /** Sends our message number `seq` to `room`. */
  send(room: Room, seq: number): void;
  /** Sends a heartbeat ping if the transport has client pings; false when it has none. */
  ping(): boolean;
  /** Closes cleanly; `closed('client')` follows. */
  close(): void;
  /** Ends abruptly (socket destroyed, no close handshake); `closed('drop')` follows. */
  drop(): void;
  /** Destroys everything now without reporting anything (end of run, past the grace). */
  abort(): void;
}

/** What drivers share: options, counters and the message builder. */
export interface DriverContext {
  readonly options: ResolvedOptions;
  readonly stats: Stats;
  readonly messages: MessageFactory;
}

/** A transport: opens connections for clients. */
export interface Driver {
  /**
   * True when a clean close can lose messages the server sent before it saw the close
   * (Socket.IO drops packets once disconnect() ran): the client waits for its own
   * messages to come back first.
   */
  readonly settleBeforeClose: boolean;
  /** Starts a connection attempt for `hooks`, joined to `rooms` where the URL carries them (SSE). */
  connect(hooks: ConnectionHooks, rooms: readonly Room[]): Connection;
  /** Releases shared resources (agents). */
  close(): void;
}
