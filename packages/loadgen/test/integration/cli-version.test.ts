/**
 * `tidewatch-loadgen --version` through the installed bin (bin/tidewatch-loadgen.js, which
 * loads dist/cli.js; needs `npx tsup` first): the version of the package's package.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCli } from '@tidewatch/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/tidewatch-loadgen.js', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

beforeAll(() => {
  if (!existsSync(new URL('../../dist/cli.js', import.meta.url)))
    throw new Error('packages/loadgen/dist/cli.js is missing: run `npx tsup` in packages/loadgen');
});

describe('tidewatch-loadgen --version', () => {
  it.each([['--version'], ['-V']])(
    '%s prints the package.json version and exits 0',
    async (flag) => {
      const r = await runCli(BIN, [flag]);
      expect(r).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
      expect(pkg.version).toMatch(SEMVER);
    },
  );

  it('--help lists --version and the run command', async () => {
    const r = await runCli(BIN, ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('-V, --version');
    expect(r.stdout).toMatch(/^ {2}run \[options\] <url>/m);
  });
});
