/** The built `tidewatch-predictor` bin, run as a child process as scripts run it. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CliRun, runCli } from '@tidewatch/test-utils';

/** The built CLI (needs `npx tsup` in packages/predictor first). */
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Throws with the way out when the CLI is not built (for a `beforeAll`). */
export function requireBuiltCli(): void {
  if (!existsSync(CLI_PATH))
    throw new Error(
      `${CLI_PATH} is missing: run \`npx tsup\` in packages/predictor (npm run build) first`,
    );
}

/** Runs the CLI with `args` to its end: exit code and complete output (bounded, 60 s). */
export function cli(...args: string[]): Promise<CliRun> {
  return runCli(CLI_PATH, args);
}
