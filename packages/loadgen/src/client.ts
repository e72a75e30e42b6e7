/**
 * One simulated user: connects, joins rooms, sends messages and heartbeats for a session,
 * then closes (or drops); on an abnormal close or a failed connect it retries with
 * exponential backoff and full jitter, as real clients do.
 */
import type { Clock } from './arrivals.js';
import { backoffDelay } from './backoff.js';
import { NO_ROOM, type Room } from './message.js';
import type { ResolvedOptions } from './options.js';
import { exponential, type Random } from './random.js';
import type { Stats } from './report.js';
import type { CloseKind, Connection, ConnectionHooks, Driver } from './transports/types.js';

/** What the generator gives its clients. */
export interface ClientContext {
  readonly options: ResolvedOptions;
  readonly stats: Stats;
  readonly driver: Driver;
  readonly clock: Clock;
  readonly rooms: readonly Room[];
  /**
   * Whether the server sends our own messages back, learnt during the run: `seen` once any
   * client got one back, `absent` once a client waited for one in vain and none ever came.
   */
  readonly echo: { seen: boolean; absent: boolean };
  /** True once the run is ending: no new connects, open sessions close. */
  readonly stopping: boolean;
  /** Reserves one connection attempt; false when `limits.maxConnections` is used up. */
  takeAttempt(): boolean;
  /** The client is finished (closed for good or given up). */
  finished(client: Client): void;
}

/** Send times of recent messages, indexed by `seq & RING_MASK` (RTT lookup). */
const RING = 64;
const RING_MASK = RING - 1;
/** How long a closing client waits for its own messages to come back (see settleBeforeClose). */
const SETTLE_MS = 1000;

type State = 'idle' | 'connecting' | 'open' | 'closing' | 'waiting' | 'done';

/** A simulated client; created per arrival by the generator. */
export class Client implements ConnectionHooks {
  readonly cid: string;
  resumeId: string | null = null;
  private readonly ctx: ClientContext;
  private readonly random: Random;
  private readonly sessionMs: number;
  private readonly drops: boolean;
  private readonly joined: readonly Room[];
  private state: State = 'idle';
  private conn: Connection | null = null;
  private deadline = Number.POSITIVE_INFINITY;
  private attempt = 0;
  private retrying = false;
  private msgTimer: unknown;
  private hbTimer: unknown;
  private endTimer: unknown;
  private retryTimer: unknown;
  private settleTimer: unknown;
  private seq = 0;
  private acked = 0;
  private settling: (() => void) | null = null;
  private readonly sentAt = new Float64Array(RING);

  /**
   * @param ctx - The generator's shared state.
   * @param cid - Unique id (no `-`), used in message ids `<cid>-<seq>`.
   * @param random - This client's own random stream.
   */
  constructor(ctx: ClientContext, cid: string, random: Random) {
    this.ctx = ctx;
    this.cid = cid;
    this.random = random;
    const { session, dropRatio } = ctx.options;
    // Drawn up front, in a fixed order, so a seeded run gives each client the same session.
    this.sessionMs = exponential(random, session.meanSeconds * 1000);
    this.drops = dropRatio > 0 && random() < dropRatio;
    const pool = [...ctx.rooms];
    const joined: Room[] = [];
    for (let i = 0; i < session.joinRooms; i++) {
      const k = i + Math.floor(random() * (pool.length - i));
      [pool[i], pool[k]] = [pool[k]!, pool[i]!];
      joined.push(pool[i]!);
    }
    this.joined = joined;
  }

  /** Starts the first connect. */
  start(): void {
    this.connect();
  }

  private connect(): void {
    if (this.ctx.stopping || !this.ctx.takeAttempt()) {
      this.finish();
      return;
    }
    this.state = 'connecting';
    this.ctx.stats.attempted++;
    this.conn = this.ctx.driver.connect(this, this.joined);
  }

  /** @internal ConnectionHooks */
  opened(): void {
    if (this.state !== 'connecting') return;
    const { stats, clock, options } = this.ctx;
    this.state = 'open';
    stats.opens();
    if (this.retrying) stats.reconnects++;
    this.retrying = false;
    this.attempt = 0;
    const now = clock.now();
    if (this.deadline === Number.POSITIVE_INFINITY) this.deadline = now + this.sessionMs;
    if (this.ctx.stopping) {
      this.end();
      return;
    }
    const conn = this.conn!;
    for (const r of this.joined) conn.join(r);
    if (options.session.messagesPerSecond > 0) this.armMessage();
    if (options.session.heartbeatSeconds > 0) this.armHeartbeat();
    this.endTimer = clock.setTimeout(() => this.end(), Math.max(0, this.deadline - now));
  }

  private armMessage(): void {
    const mean = 1000 / this.ctx.options.session.messagesPerSecond;
    this.msgTimer = this.ctx.clock.setTimeout(
      () => this.sendMessage(),
      exponential(this.random, mean),
    );
  }

  private sendMessage(): void {
    this.msgTimer = undefined;
    if (this.state !== 'open') return;
    const n = this.joined.length;
    const r =
      n === 0 ? NO_ROOM : n === 1 ? this.joined[0]! : this.joined[Math.floor(this.random() * n)]!;
    const seq = ++this.seq;
    this.sentAt[seq & RING_MASK] = performance.now();
    this.conn!.send(r, seq);
    this.armMessage();
  }

  private armHeartbeat(): void {
    const ms = this.ctx.options.session.heartbeatSeconds * 1000;
    this.hbTimer = this.ctx.clock.setTimeout(() => {
      this.hbTimer = undefined;
      if (this.state !== 'open') return;
      if (this.conn!.ping()) this.armHeartbeat();
    }, ms);
  }

  /** @internal ConnectionHooks */
  own(seq: number): void {
    if (seq <= this.acked || seq > this.seq) return;
    if (this.seq - seq < RING)
      this.ctx.stats.rtt.record(performance.now() - this.sentAt[seq & RING_MASK]!);
    this.acked = seq;
    this.ctx.echo.seen = true;
    if (this.settling !== null && this.acked >= this.seq) this.settled();
  }

  /** @internal ConnectionHooks (pongs are counted by the transport) */
  pong(): void {}

  /** @internal ConnectionHooks */
  failed(reason: string, status: number): void {
    if (this.state !== 'connecting') return;
    const stats = this.ctx.stats;
    this.conn = null;
    stats.failed++;
    if (status > 0) stats.rejected++;
    stats.fail(reason);
    // 4xx means "not you, not like this" (401, 403, 404): retrying would be a storm.
    const retryable = status === 0 || status >= 500 || status === 408 || status === 429;
    this.retryOrFinish(retryable);
  }

  /** @internal ConnectionHooks */
  closed(kind: CloseKind, reason: string): void {
    if (this.state !== 'open' && this.state !== 'closing') return;
    const stats = this.ctx.stats;
    this.clearTimers();
    this.conn = null;
    stats.open--;
    if (kind === 'client') stats.closedByClient++;
    else if (kind === 'drop') stats.dropped++;
    else {
      stats.closedByServer++;
      if (kind !== 'server') stats.fail(reason);
    }
    const now = this.ctx.clock.now();
    this.retryOrFinish(kind === 'abnormal' && this.state === 'open' && now < this.deadline);
  }

  private retryOrFinish(retryable: boolean): void {
    const rc = this.ctx.options.reconnect;
    if (!retryable || rc === false || this.attempt >= rc.maxAttempts || this.ctx.stopping) {
      this.finish();
      return;
    }
    this.state = 'waiting';
    this.retrying = true;
    const delay = backoffDelay(this.attempt++, rc.baseMs, rc.maxMs, this.random);
    this.retryTimer = this.ctx.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delay);
  }

  /** Ends the session: stop sending, settle if needed, then close or drop. */
  private end(): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.clearTimers();
    const conn = this.conn!;
    const finish = () => {
      if (this.drops) conn.drop();
      else conn.close();
      // A peer that never completes the close must not hold this client's slot forever.
      if (this.state === 'closing') {
        const grace = this.ctx.options.limits.closeGraceMs;
        this.endTimer = this.ctx.clock.setTimeout(() => this.forceEnd(), grace);
      }
    };
    if (this.drops || this.ctx.driver.settleBeforeClose) this.settle(finish);
    else finish();
  }

  /**
   * Waits (at most SETTLE_MS) until our own messages have come back, so that closing loses
   * nothing the server already counted as sent. Once a wait ran out and no message ever
   * came back in this run, the server does not echo: later closes do not wait.
   */
  private settle(then: () => void): void {
    const echo = this.ctx.echo;
    if (this.acked >= this.seq || (echo.absent && !echo.seen)) {
      then();
      return;
    }
    this.settling = then;
    this.settleTimer = this.ctx.clock.setTimeout(() => {
      if (!echo.seen) echo.absent = true;
      this.settled();
    }, SETTLE_MS);
  }

  private settled(): void {
    const then = this.settling;
    this.settling = null;
    if (this.settleTimer !== undefined) this.ctx.clock.clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    then?.();
  }

  /**
   * The run is ending: a waiting client gives up, an open one closes (or drops, if its
   * session was to end that way), a connecting one closes as soon as it opens.
   */
  shutdown(): void {
    if (this.state === 'waiting') {
      this.clearTimers();
      this.finish();
    } else if (this.state === 'open') {
      this.end();
    }
  }

  /**
   * Past the close grace: destroys the connection and accounts for it now (a connecting
   * client counts as failed with `shutdown-timeout`, an open one as dropped with
   * `close-timeout`).
   */
  forceEnd(): void {
    if (this.state === 'done') return;
    const stats = this.ctx.stats;
    if (this.state === 'connecting') {
      stats.failed++;
      stats.fail('shutdown-timeout');
    } else if (this.state === 'open' || this.state === 'closing') {
      stats.open--;
      stats.dropped++;
      stats.fail('close-timeout');
    }
    this.conn?.abort();
    this.conn = null;
    this.clearTimers();
    this.finish();
  }

  private clearTimers(): void {
    const clock = this.ctx.clock;
    for (const t of [
      this.msgTimer,
      this.hbTimer,
      this.endTimer,
      this.retryTimer,
      this.settleTimer,
    ]) {
      if (t !== undefined) clock.clearTimeout(t);
    }
    this.msgTimer = this.hbTimer = this.endTimer = this.retryTimer = this.settleTimer = undefined;
    this.settling = null;
  }

  private finish(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.ctx.finished(this);
  }
}
