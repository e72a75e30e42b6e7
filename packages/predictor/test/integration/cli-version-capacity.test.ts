/**
 * `tidewatch-predictor --version` through the installed bin (bin/tidewatch-predictor.js, which
 * loads dist/cli.js; needs `npx tsup` first), and `serve --capacity-per-replica` as a real
 * process: it wins over the file and TIDEWATCH_CAPACITY_PER_REPLICA, and a bad value is one
 * line naming the flag and the field.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pollUntil, runCli } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServeConfig } from '../../src/serve/config.js';
import type { Target } from './serve-target.js';
import {
  FAST,
  logLines,
  request,
  seededDir,
  startServe as serve,
  startProcessTarget,
  stopProcesses,
  writeServeConfig,
} from './sidecar.js';

const BIN = fileURLToPath(new URL('../../bin/tidewatch-predictor.js', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

const seeded = seededDir('tw-cli-capacity-');
let target: Target;
beforeAll(async () => {
  target = await startProcessTarget();
});
afterAll(() => stopProcesses(target, seeded));

describe('tidewatch-predictor --version', () => {
  it.each([['--version'], ['-V']])(
    '%s prints the package.json version and exits 0',
    async (flag) => {
      const r = await runCli(BIN, [flag]);
      expect(r).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
      expect(pkg.version).toMatch(SEMVER);
    },
  );

  it('--help lists --version and every command', async () => {
    const r = await runCli(BIN, ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('-V, --version');
    for (const command of ['forecast', 'backtest', 'serve', 'simulate'])
      expect(r.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });
});

describe('serve --capacity-per-replica', () => {
  it('overrides the file and TIDEWATCH_CAPACITY_PER_REPLICA (in process)', () => {
    const file = writeServeConfig(seeded.dir, 'capacity-400', {
      source: { kind: 'scrape', urls: [target.metricsUrl] },
      planner: { ...FAST.planner, capacityPerReplica: 400 },
    });
    const env = { TIDEWATCH_CAPACITY_PER_REPLICA: '300' };
    const load = (flags: Record<string, string>) =>
      loadServeConfig({ flags: { config: file, ...flags }, env, onWarning: () => {} }).planner;
    expect(load({})).toMatchObject({ capacityPerReplica: 300, capacityConfigured: true });
    expect(load({ capacityPerReplica: '750' })).toMatchObject({
      capacityPerReplica: 750,
      capacityConfigured: true,
    });
    expect(() => load({ capacityPerReplica: '0' })).toThrow(
      '--capacity-per-replica: planner.capacityPerReplica must be a number > 0, got "0"',
    );
  });

  it('a bad value exits 1 with one line naming the flag and the field', async () => {
    const run = serve(['--scrape', target.metricsUrl, '--capacity-per-replica', 'lots']);
    expect((await run.exited).code).toBe(1);
    expect(run.stderr()).toBe(
      'tidewatch-predictor: --capacity-per-replica: planner.capacityPerReplica must be a number > 0, got "lots"\n',
    );
  });

  it('the running sidecar plans with the flag: /forecast reports it, no placeholder warning', async () => {
    const file = writeServeConfig(seeded.dir, 'capacity-file', {
      planner: { ...FAST.planner, capacityPerReplica: 400 },
      seed: { file: seeded.seedFile },
    });
    const run = serve(
      ['--config', file, '--scrape', target.metricsUrl, '--capacity-per-replica', '750'],
      {
        TIDEWATCH_CAPACITY_PER_REPLICA: '300',
      },
    );
    const url = await run.url;
    const forecast = await pollUntil(
      async () => JSON.parse((await request(`${url}/forecast`)).text),
      (body) => body.status === 'ok',
      { description: 'a forecast', timeoutMs: 60_000 },
    );
    expect(forecast.plan.capacityPerReplica).toBe(750);
    run.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    const messages = logLines(run).map((l) => String(l.msg));
    expect(messages.filter((m) => m.includes('capacityPerReplica is not set'))).toEqual([]);
  });
});
