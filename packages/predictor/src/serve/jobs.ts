/**
 * The sidecar's schedule: node-cron tasks for collect, forecast and retrain. Every run is
 * guarded (a job that throws is logged, never crashes the process), runs never overlap
 * (node-cron's `noOverlap` plus our own in-flight check), and timers are unref'd so the
 * schedule alone never keeps the process alive.
 */
import { type Logger as CronLogger, createTask, type ScheduledTask } from 'node-cron';
import type { Logger } from './log.js';

/** One scheduled job. */
export interface JobSpec {
  /** Name for logs, e.g. `collect`. */
  name: string;
  /** Cron expression; 6 fields = seconds first. */
  cron: string;
  /** The work; may reject (logged). */
  run(): Promise<void>;
}

/** The running schedule. */
export interface Jobs {
  /** Tasks alive (not destroyed). */
  readonly count: number;
  /** Stops every task at once; runs in progress go on. Idempotent. */
  halt(): Promise<void>;
  /** Runs in progress, by job name (a shutdown waits on them, bounded). */
  running(): Map<string, Promise<void>>;
  /** Stops every task and waits for runs in progress. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startJobs}. */
export interface JobsOptions {
  /** IANA time zone of the cron expressions. Default: the process's. */
  timezone?: string;
  log: Logger;
}

/**
 * Creates and starts one node-cron task per spec.
 * @throws Error from node-cron for an invalid expression (the config validates them first).
 */
export function startJobs(specs: readonly JobSpec[], options: JobsOptions): Jobs {
  const { log } = options;
  // node-cron reports missed runs and overlaps through its logger: route them to ours.
  const cronLogger: CronLogger = {
    info: (m) => log.log('debug', `cron: ${m}`),
    warn: (m) => log.log('debug', `cron: ${m}`),
    error: (m, e) =>
      log.log('error', `cron: ${m instanceof Error ? m.message : m}`, e ? { error: e } : {}),
    debug: () => {},
  };
  const running = new Map<string, Promise<void>>();
  const tasks: ScheduledTask[] = specs.map((spec) => {
    const guarded = async (): Promise<void> => {
      if (running.has(spec.name)) return;
      const run = spec
        .run()
        .catch((error: unknown) => log.log('error', `${spec.name} job failed`, { error }))
        .finally(() => running.delete(spec.name));
      running.set(spec.name, run);
      await run;
    };
    const task = createTask(spec.cron, guarded, {
      name: `tidewatch-${spec.name}`,
      noOverlap: true,
      unref: true,
      logger: cronLogger,
      ...(options.timezone ? { timezone: options.timezone } : {}),
    });
    return task;
  });
  for (const task of tasks) void task.start();
  let destroyed = false;
  async function halt(): Promise<void> {
    destroyed = true;
    for (const task of tasks) await task.destroy();
  }
  return {
    get count() {
      return destroyed ? 0 : tasks.filter((t) => t.getStatus() !== 'destroyed').length;
    },
    halt,
    running: () => new Map(running),
    async stop() {
      await halt();
      await Promise.allSettled([...running.values()]);
    },
  };
}
