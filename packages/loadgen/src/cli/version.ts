/**
 * The version `--version` prints, read from the package's own package.json at run time (a
 * release bump cannot leave the CLI reporting an old number). The package resolves itself by
 * name through its `exports` (`./package.json` is exported), from `src/` in tests and from
 * `dist/` once built or installed alike.
 */
import { createRequire } from 'node:module';

/**
 * The semver of @tidewatch/loadgen.
 * @throws Error when the package's own package.json cannot be resolved (a broken install).
 */
export function packageVersion(): string {
  return (createRequire(import.meta.url)('@tidewatch/loadgen/package.json') as { version: string })
    .version;
}
