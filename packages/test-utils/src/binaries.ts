import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The environment variable that overrides where a binary is found: `TIDEWATCH_<NAME>_BIN`
 * (`TIDEWATCH_PROMETHEUS_BIN`, `TIDEWATCH_PROMTOOL_BIN`).
 */
export function binaryEnvVar(name: string): string {
  return `TIDEWATCH_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_BIN`;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves the absolute path of an external binary the tests need (`prometheus`, `promtool`).
 *
 * The `TIDEWATCH_<NAME>_BIN` environment variable wins when set; otherwise `PATH` is searched.
 * Throws (never returns `undefined`) so that a test needing the tool fails loudly instead of
 * skipping: the error says to run `node scripts/ensure-tools.mjs`, which installs it.
 *
 * @param name - The binary's file name, e.g. `'prometheus'`.
 * @returns The path to an executable file.
 * @throws Error when the override is not executable or the binary is not on `PATH`.
 */
export function requireBinary(name: string): string {
  const envVar = binaryEnvVar(name);
  const override = process.env[envVar];
  if (override) {
    if (isExecutable(override)) return override;
    throw new Error(
      `${envVar}=${override} is not an executable file. Fix or unset it, or run ` +
        '`node scripts/ensure-tools.mjs` (from the repository root) to install the tools.',
    );
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  throw new Error(
    `\`${name}\` was not found on PATH (and ${envVar} is not set). Run ` +
      '`node scripts/ensure-tools.mjs` from the repository root to install it ' +
      '(it runs first in `npm test`), or set ' +
      `${envVar} to the binary's path.`,
  );
}
