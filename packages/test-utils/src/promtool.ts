import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { requireBinary } from './binaries.js';

/** Options for {@link promtool}. */
export interface PromtoolOptions {
  /** Written to promtool's stdin (e.g. an exposition for `check metrics`); stdin is closed after. */
  input?: string;
  /** Kill promtool (SIGKILL) and reject after this long. Default 30 000 ms. */
  timeoutMs?: number;
  /** Working directory, for relative paths in `args`. */
  cwd?: string;
}

/** The outcome of one promtool run. */
export interface PromtoolResult {
  /** The exit code (a non-zero code is returned, not thrown). */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `promtool` with `args`, e.g. `['check', 'metrics']` with the exposition as
 * `input`, or `['check', 'rules', file]`, `['test', 'rules', file]`.
 *
 * @param args - promtool's arguments.
 * @param opts - stdin input, timeout, working directory.
 * @returns Exit code and captured output; a failing check resolves with `code !== 0`.
 * @throws Error when promtool is not installed (see `requireBinary`), cannot start, or times out.
 */
export function promtool(args: string[], opts: PromtoolOptions = {}): Promise<PromtoolResult> {
  const bin = requireBinary('promtool');
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // promtool may exit before reading all of stdin (EPIPE); its exit code tells the story.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `promtool ${args.join(' ')} timed out after ${timeoutMs} ms\n` +
            `stdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`promtool ${args.join(' ')} could not run: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      // Killed by a signal: report it the shell's way, 128 + signal number.
      const bySignal = signal ? 128 + (constants.signals[signal] ?? 0) : 1;
      resolve({ code: code ?? bySignal, stdout, stderr });
    });
  });
}
