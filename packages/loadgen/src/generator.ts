/**
 * {@link createLoadGenerator}: the run. Arrivals create clients, bounded by
 * `limits.maxConcurrent` (alive at once), `limits.maxConnections` (attempts in total) and
 * `limits.durationSeconds`; `stop()` or the end of the duration closes everyone cleanly.
 */
import { EventEmitter } from 'node:events';
import { ArrivalLoop, type Clock, realClock, scheduleFor } from './arrivals.js';
import { Client, type ClientContext } from './client.js';
import { MessageFactory, type Room, room } from './message.js';
import { type LoadOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { createRandom, deriveSeed, randomSeed } from './random.js';
import { type LoadReport, Stats } from './report.js';
import { grpcDriver } from './transports/grpc.js';
import { mqttDriver } from './transports/mqtt.js';
import { socketIoDriver } from './transports/socketio.js';
import { sseDriver } from './transports/sse.js';
import type { Driver, DriverContext } from './transports/types.js';
import { wsDriver } from './transports/ws.js';

/** Events of a {@link LoadGenerator}. */
export interface LoadGeneratorEvents {
  /** About once per second while running: a report snapshot. */
  progress: [snapshot: LoadReport];
  /** Once, with the final report, when the run has ended and every socket is closed. */
  end: [report: LoadReport];
}

/** A load run. Create with {@link createLoadGenerator}. */
export interface LoadGenerator extends EventEmitter<LoadGeneratorEvents> {
  /**
   * Starts the arrival loop. Resolves once it runs; connection failures are counted in the
   * report, never thrown. Calling it again returns the same promise.
   * @throws Error when the generator was stopped before it started.
   */
  start(): Promise<void>;
  /** Resolves with the final report when the run has ended (limits reached or `stop()`). */
  readonly done: Promise<LoadReport>;
  /**
   * Ends the run: no new connections, open ones close cleanly (code 1000 / disconnect),
   * sockets still open after `limits.closeGraceMs` are destroyed. Idempotent; resolves with
   * the final report.
   */
  stop(): Promise<LoadReport>;
  /** A snapshot of the counters now. */
  report(): LoadReport;
}

/** The driver of each transport. */
const DRIVERS: Readonly<Record<ResolvedOptions['transport'], (ctx: DriverContext) => Driver>> = {
  ws: wsDriver,
  'socket.io': socketIoDriver,
  sse: sseDriver,
  mqtt: mqttDriver,
  grpc: grpcDriver,
};

/** Id of a run, in every client id: tells two generators' messages apart on a shared server. */
function runId(seed: number): string {
  return `lg${(seed >>> 0).toString(36)}`;
}

class Generator extends EventEmitter<LoadGeneratorEvents> implements LoadGenerator, ClientContext {
  readonly options: ResolvedOptions;
  readonly stats = new Stats();
  readonly driver: Driver;
  readonly clock: Clock;
  readonly rooms: readonly Room[];
  readonly done: Promise<LoadReport>;
  stopping = false;
  readonly echo = { seen: false, absent: false };
  private readonly seed: number;
  private readonly prefix: string;
  private readonly urlText: string;
  private readonly clients = new Set<Client>();
  private readonly loop: ArrivalLoop;
  private attempts = 0;
  private arrivals = 0;
  private startedAt: number | null = null;
  private endedAt: number | null = null;
  private startPromise: Promise<void> | null = null;
  private stopPromise: Promise<LoadReport> | null = null;
  private resolveDone!: (r: LoadReport) => void;
  private deadline: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private finalReport: LoadReport | null = null;

  constructor(options: ResolvedOptions, clock: Clock) {
    super();
    this.options = options;
    this.clock = clock;
    this.seed = options.seed ?? randomSeed();
    this.prefix = runId(this.seed);
    this.rooms = options.session.rooms.map(room);
    const ctx: DriverContext = {
      options,
      stats: this.stats,
      messages: new MessageFactory(options.session.messageBytes),
    };
    this.driver = DRIVERS[options.transport](ctx);
    this.urlText = options.url.href;
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    const arrivalRandom = createRandom(deriveSeed(this.seed, 0));
    this.loop = new ArrivalLoop(scheduleFor(options.arrivals, arrivalRandom), clock, () =>
      this.arrive(),
    );
  }

  start(): Promise<void> {
    if (this.startPromise !== null) return this.startPromise;
    if (this.stopping) {
      this.startPromise = Promise.reject(
        new Error('the load generator was stopped before start()'),
      );
      return this.startPromise;
    }
    this.startedAt = Date.now();
    const ms = this.options.limits.durationSeconds * 1000;
    this.deadline = setTimeout(() => void this.stop(), ms);
    // The deadline holds the process open while the run is active (keepAlive): a script
    // that only awaits `done` must not exit in a quiet moment. Cleared at the end.
    if (!this.options.keepAlive) this.deadline.unref();
    this.progressTimer = setInterval(() => {
      if (this.listenerCount('progress') > 0) this.emit('progress', this.report());
    }, 1000);
    this.progressTimer.unref();
    this.loop.start();
    this.startPromise = Promise.resolve();
    return this.startPromise;
  }

  report(): LoadReport {
    return (
      this.finalReport ??
      this.stats.snapshot(this.options.transport, this.urlText, this.startedAt, this.endedAt)
    );
  }

  /** @internal ClientContext */
  takeAttempt(): boolean {
    if (this.attempts >= this.options.limits.maxConnections) return false;
    this.attempts++;
    if (this.attempts === this.options.limits.maxConnections) this.loop.stop();
    return true;
  }

  private arrive(): void {
    if (this.stopping) return;
    if (this.attempts >= this.options.limits.maxConnections) {
      this.loop.stop();
      return;
    }
    if (this.clients.size >= this.options.limits.maxConcurrent) {
      this.stats.skipped++;
      return;
    }
    const n = this.arrivals++;
    const client = new Client(
      this,
      `${this.prefix}.${n}`,
      createRandom(deriveSeed(this.seed, n + 1)),
    );
    this.clients.add(client);
    client.start();
  }

  /** @internal ClientContext */
  finished(client: Client): void {
    this.clients.delete(client);
    if (this.clients.size > 0) return;
    // Attempts used up and nobody left: the run is over (maxConnections ends it).
    if (this.stopping || this.attempts >= this.options.limits.maxConnections) this.finish();
  }

  stop(): Promise<LoadReport> {
    if (this.stopPromise !== null) return this.stopPromise;
    this.stopping = true;
    this.loop.stop();
    this.stopPromise = this.done;
    if (this.startedAt === null) {
      this.finish();
      return this.stopPromise;
    }
    for (const c of [...this.clients]) c.shutdown();
    if (this.clients.size === 0) this.finish();
    else {
      this.graceTimer = setTimeout(() => {
        for (const c of [...this.clients]) c.forceEnd();
        this.finish();
      }, this.options.limits.closeGraceMs);
      this.graceTimer.unref();
    }
    return this.stopPromise;
  }

  private finish(): void {
    if (this.finalReport !== null) return;
    this.stopping = true;
    this.loop.stop();
    clearTimeout(this.deadline);
    clearTimeout(this.graceTimer);
    clearInterval(this.progressTimer);
    this.driver.close();
    if (this.startedAt !== null) this.endedAt = Date.now();
    this.finalReport = this.stats.snapshot(
      this.options.transport,
      this.urlText,
      this.startedAt,
      this.endedAt,
    );
    const report = this.finalReport;
    this.resolveDone(report);
    this.emit('end', report);
  }
}

/**
 * Creates a load generator (nothing connects until `start()`).
 *
 * @param options - Target, transport, arrivals, session behaviour, reconnect policy and the
 *   bounds of the run; see {@link LoadOptions} for every default.
 * @param clock - Time source for arrivals and session timers (tests pass a fake one).
 *   Default: `performance.now()` with unref'd timers.
 * @throws {LoadgenConfigError} for a bad option, naming it (e.g. `limits.maxConcurrent must
 *   be a positive integer (at most 1000000)`), including a non-loopback host without
 *   `allowRemote: true`.
 */
export function createLoadGenerator(options: LoadOptions, clock: Clock = realClock): LoadGenerator {
  return new Generator(resolveOptions(options), clock);
}
