/** Runs the built `tidewatch-predictor` bin as a child process, as scripts do. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (needs `npx tsup` in packages/predictor first). */
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Exit code and the complete output of one run. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args` and resolves when it exits. */
export function runCli(...args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
