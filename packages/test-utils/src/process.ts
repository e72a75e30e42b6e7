/**
 * Built command-line tools (and other Node scripts) as child processes, the way scripts and
 * users run them: one way to start one, watch its output, and collect its exit code and
 * complete output, always bounded by a timeout.
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** Exit code and the complete output of one run. */
export interface CliRun {
  /** The exit code; `null` when a signal ended the process. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How a process ended. */
export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options for {@link startCli} and {@link runCli}. */
export interface CliOptions {
  /**
   * The child's whole environment. Default `process.env`; pass e.g.
   * `{ PATH: process.env.PATH ?? '' }` for a clean one.
   */
  env?: NodeJS.ProcessEnv;
  /** Working directory. Default the test process's. */
  cwd?: string;
  /**
   * Bound on the process's life: past it the process is SIGKILLed and `exited` / `result`
   * reject with its output so far. Default 60 000 ms for {@link runCli}, 120 000 ms for
   * {@link startCli}.
   */
  timeoutMs?: number;
  /** Extra Node flags before the script (e.g. `--expose-gc`). */
  nodeArgs?: string[];
}

/** The output seen so far, as {@link CliProcess.waitForOutput} hands it to its matcher. */
export interface CliOutput {
  stdout: string;
  stderr: string;
}

/** Options for {@link CliProcess.waitForOutput}. */
export interface WaitForOutputOptions {
  /** Give up after this long. Default 20 000 ms. */
  timeoutMs?: number;
  /** Names what is awaited in the error. */
  description?: string;
}

/** A running script started by {@link startCli}. */
export interface CliProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /**
   * Resolves once the process has exited and its output is completely read. Rejects (after a
   * SIGKILL) when it is still running after the `timeoutMs` of {@link CliOptions}.
   */
  readonly exited: Promise<CliExit>;
  /** {@link CliProcess.exited} with the complete output: what {@link runCli} resolves with. */
  readonly result: Promise<CliRun>;
  /**
   * Resolves with the first value `match` returns that is neither `undefined`, `null` nor
   * `false`; `match` sees the whole output so far, on every new chunk (an event, not a poll).
   * @throws Error when the process exits first, or after `timeoutMs`, with the output.
   */
  waitForOutput<T>(
    match: (output: CliOutput) => T | undefined | null | false,
    options?: WaitForOutputOptions,
  ): Promise<T>;
  /** Sends `signal` (default SIGTERM) while the process runs; a no-op afterwards. */
  kill(signal?: NodeJS.Signals): void;
  /**
   * Stops the process: SIGTERM, SIGKILL after `graceMs` (default 3 000); resolves with how it
   * ended. Also what `await using` does.
   */
  stop(graceMs?: number): Promise<CliExit>;
}

/** Processes started here and still running, killed when the test process exits. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}

const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

function tail(text: string, chars = 2000): string {
  return text.length > chars ? `…${text.slice(-chars)}` : text;
}

/**
 * Starts `node <script> ...args` (a built CLI such as `dist/cli.js`, or any script) with its
 * stdout and stderr captured.
 *
 * @param script - Path of the script; relative paths resolve against `options.cwd`.
 * @param args - Its arguments.
 * @param options - Environment, working directory, the bound on its life, Node flags.
 * @returns The running process: its output so far, a wait for a line of it, its exit.
 */
export function startCli(script: string, args: string[], options: CliOptions = {}): CliProcess {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  const name = `${script} ${args.join(' ')}`.trim();
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    changed();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    changed();
  });

  let timedOut = false;
  /** Set when the process is gone and its output completely read ('close' or a spawn error). */
  let closed = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  timer.unref();
  const exited = new Promise<CliExit>((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      closed = true;
      changed();
      reject(new Error(`${name}: could not start: ${error.message}`));
    });
    // 'close', not 'exit': the output is completely read by then.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      closed = true;
      changed();
      if (timedOut)
        reject(
          new Error(
            `${name}: still running after ${timeoutMs} ms, killed\nstdout: ${tail(stdout)}\nstderr: ${tail(stderr)}`,
          ),
        );
      else resolve({ code, signal });
    });
  });
  // Callers that only use `result` (or neither) must not see an unhandled rejection.
  exited.catch(() => {});
  const result = exited.then(({ code }) => ({ code, stdout, stderr }));
  result.catch(() => {});

  const handle: CliProcess = {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    result,
    waitForOutput(match, waitOptions = {}) {
      const waitMs = waitOptions.timeoutMs ?? 20_000;
      const what = waitOptions.description ?? 'the expected output';
      return new Promise((resolve, reject) => {
        let done = false;
        const finish = (error: Error | undefined, value?: unknown) => {
          if (done) return;
          done = true;
          listeners.delete(check);
          clearTimeout(waitTimer);
          if (error) reject(error);
          else resolve(value as never);
        };
        const fail = (why: string) =>
          finish(
            new Error(
              `${name}: ${why} waiting for ${what}\nstdout: ${tail(stdout)}\nstderr: ${tail(stderr)}`,
            ),
          );
        function check(): void {
          let value: unknown;
          try {
            value = match({ stdout, stderr });
          } catch (error) {
            finish(error as Error);
            return;
          }
          if (value !== undefined && value !== null && value !== false) finish(undefined, value);
          else if (closed) fail('exited');
        }
        const waitTimer = setTimeout(() => fail(`timed out after ${waitMs} ms`), waitMs);
        listeners.add(check);
        check();
      });
    },
    kill(signal = 'SIGTERM') {
      if (isRunning(child)) child.kill(signal);
    },
    async stop(graceMs = 3_000) {
      if (isRunning(child)) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
        force.unref();
        try {
          return await exited;
        } finally {
          clearTimeout(force);
        }
      }
      return exited;
    },
    async [Symbol.asyncDispose]() {
      await handle.stop().catch(() => {});
    },
  };
  return handle;
}

/**
 * Runs `node <script> ...args` to its end: exit code, complete stdout and stderr.
 *
 * @param script - Path of the script, e.g. a package's built `dist/cli.js`.
 * @param args - Its arguments.
 * @param options - Environment, working directory, timeout (default 60 000 ms).
 * @returns The exit code (`null` after a signal) and the complete output.
 * @throws Error when it cannot start, or is still running after the timeout (it is killed).
 */
export function runCli(script: string, args: string[], options: CliOptions = {}): Promise<CliRun> {
  return startCli(script, args, { ...options, timeoutMs: options.timeoutMs ?? 60_000 }).result;
}

/**
 * Stops every process {@link startCli} started in this test file that still runs (SIGTERM,
 * then SIGKILL after `graceMs`). For an `afterAll`.
 */
export async function stopStartedProcesses(graceMs = 3_000): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (!isRunning(child)) return resolve();
          const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
          force.unref();
          child.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}
