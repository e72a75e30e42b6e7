/**
 * The sidecar's shutdown under a deadline (`shutdownTimeoutSeconds`, default 15 s, within the
 * 30 s a pod gets between SIGTERM and SIGKILL). Nothing in it waits without a bound: a
 * scrape target that sends headers and never a body must not cost the last state write.
 *
 * - at once: no new work (the schedule stops); work in flight may finish (a collection that
 *   finishes still adds its point);
 * - at 50 %: work still in flight (collection, training, patch) is aborted;
 * - at 80 % (or as soon as nothing runs): the final write of the history and the model;
 * - then the server closes (requests in progress get a moment);
 * - at 95 %: give up on whatever still runs and report it.
 */
import type { Logger } from './log.js';

/** Fractions of the deadline at which the shutdown moves on. */
export const SHUTDOWN_PHASES = Object.freeze({
  /** In-flight work is aborted. */
  abortAt: 0.5,
  /** The final write starts even if aborted work has not wound down. */
  finalWriteAt: 0.8,
  /** The shutdown gives up and reports what still runs. */
  giveUpAt: 0.95,
});

/** Default `shutdownTimeoutSeconds`. */
export const DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 15;

/** What a shutdown drives; every hook must not reject. */
export interface ShutdownHooks {
  /** Stops taking new work. */
  halt(): Promise<void>;
  /** Work in flight now, by name (`start`, `collection`, `training`, `patch`). */
  running(): Map<string, Promise<unknown>>;
  /** Aborts the work in flight (it settles soon after). */
  abort(): void;
  /** The final write. @returns whether the state is on disk (true when there is nothing to save). */
  save(): Promise<boolean>;
  /** Closes the server; open connections are dropped after `forceAfterMs`. */
  close(forceAfterMs: number): Promise<void>;
}

/** How a shutdown went. */
export interface ShutdownReport {
  /**
   * Everything finished (or wound down after its abort), the state was written and the server
   * closed before the deadline: exit 0. Otherwise exit 1.
   */
  clean: boolean;
  /** Work aborted at 50 % of the deadline. */
  aborted: string[];
  /** What still ran when the deadline ended the shutdown (`final write`, `server close` too). */
  stillRunning: string[];
  /** Whether the final write put the state on disk. */
  saved: boolean;
  /** How long it took, ms. */
  elapsedMs: number;
  /** The deadline it ran under, ms. */
  timeoutMs: number;
}

/** Options of {@link runShutdown}. */
export interface ShutdownOptions {
  /** The deadline, ms (> 0). */
  timeoutMs: number;
  log: Logger;
  /** The clock, unix ms. Default `Date.now`. */
  now?: () => number;
}

/**
 * Runs the phases of a shutdown. Never rejects.
 * @throws TypeError (synchronously) when `timeoutMs` is not a number > 0.
 */
export function runShutdown(
  hooks: ShutdownHooks,
  options: ShutdownOptions,
): Promise<ShutdownReport> {
  const { timeoutMs, log } = options;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs))
    throw new TypeError(`runShutdown: timeoutMs must be a number > 0, got ${String(timeoutMs)}`);
  return phases(hooks, timeoutMs, log, options.now ?? Date.now);
}

async function phases(
  hooks: ShutdownHooks,
  timeoutMs: number,
  log: Logger,
  now: () => number,
): Promise<ShutdownReport> {
  const start = now();
  const timers: NodeJS.Timeout[] = [];
  /** Resolves at `fraction` of the deadline. */
  const at = (fraction: number) =>
    new Promise<'deadline'>((resolve) => {
      // Not unref'd, on purpose: a shutdown in progress must reach its final write even when
      // nothing else holds the event loop. Every one is cleared when the shutdown ends.
      timers.push(
        setTimeout(() => resolve('deadline'), Math.max(0, start + fraction * timeoutMs - now())),
      );
    });
  const settled = (work: Map<string, Promise<unknown>>) =>
    Promise.allSettled([...work.values()]).then(() => 'settled' as const);
  const abortAt = at(SHUTDOWN_PHASES.abortAt);
  const finalWriteAt = at(SHUTDOWN_PHASES.finalWriteAt);
  const giveUpAt = at(SHUTDOWN_PHASES.giveUpAt);
  const aborted: string[] = [];
  const stillRunning: string[] = [];
  let saved = false;
  try {
    await Promise.race([hooks.halt(), giveUpAt]);
    const first = hooks.running();
    if (first.size > 0 && (await Promise.race([settled(first), abortAt])) === 'deadline') {
      const left = hooks.running();
      aborted.push(...left.keys());
      log.log('warn', 'shutdown: aborting work still running at half the deadline', {
        running: aborted,
        deadlineSeconds: timeoutMs / 1000,
      });
      hooks.abort();
      await Promise.race([settled(left), finalWriteAt]);
    }
    const save = hooks.save().then((ok) => ({ ok }));
    const wrote = await Promise.race([save, giveUpAt]);
    if (wrote === 'deadline') stillRunning.push('final write');
    else saved = wrote.ok;
    if (wrote !== 'deadline') {
      const left = Math.max(0, start + SHUTDOWN_PHASES.giveUpAt * timeoutMs - now());
      // Requests in progress get up to 2 s (less when the deadline is near).
      const closed = await Promise.race([
        hooks.close(Math.min(2000, left / 2)).then(() => 'closed' as const),
        giveUpAt,
      ]);
      if (closed === 'deadline') stillRunning.push('server close');
    }
    // Work that ignored its abort (or a patch request bounded only by its own timeout).
    const stuck = hooks.running();
    if (stuck.size > 0) stillRunning.unshift(...stuck.keys());
  } finally {
    for (const t of timers) clearTimeout(t);
  }
  const elapsedMs = now() - start;
  const clean = stillRunning.length === 0 && saved;
  if (stillRunning.length > 0)
    log.log('error', 'shutdown deadline reached: exiting with work still running', {
      stillRunning,
      deadlineSeconds: timeoutMs / 1000,
      saved,
    });
  else if (!saved)
    log.log('error', 'shutdown: the final write failed: the last state is not on disk', {
      elapsedMs,
    });
  return { clean, aborted, stillRunning, saved, elapsedMs, timeoutMs };
}
