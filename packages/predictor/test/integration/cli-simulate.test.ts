/**
 * `tidewatch-predictor simulate` as scripts run it: the built bin on the contract's
 * connection-count stand-in (20 x the rolling 5-minute sum of per-minute departures), 16 days
 * of it, the first 14 as warm-up. Needs the package built (npm run build).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSeriesCsv, runSimulation } from '@tidewatch/forecast';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, requireBuiltCli } from './run-cli.js';

const minutely = fileURLToPath(
  new URL('../../fixtures/flights-2001-minutely.csv', import.meta.url),
);
const dir = mkdtempSync(join(tmpdir(), 'tw-sim-'));
const demandFile = join(dir, 'demand.csv');
/** `simulate --input demand.csv`, then `args`. */
const simulate = (...args: string[]) => cli('simulate', '--input', demandFile, ...args);

beforeAll(() => {
  requireBuiltCli();
  const rows = readFileSync(minutely, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1, 16 * 1440 + 1);
  let sum = 0;
  const values = rows.map((r) => Number(r.split(',')[1]));
  const out = ['timestamp,value'];
  values.forEach((v, i) => {
    sum += v - (i >= 5 ? (values[i - 5] as number) : 0);
    out.push(`${rows[i]?.split(',')[0]},${20 * sum}`);
  });
  writeFileSync(demandFile, `${out.join('\n')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tidewatch-predictor simulate', () => {
  const demand = () => parseSeriesCsv(readFileSync(demandFile, 'utf8'), 'demand');
  const options = { capacityPerReplica: 500, targetUtilization: 0.7, podReadySeconds: 120 };

  it.each(['reactive', 'predictive', 'oracle'] as const)(
    '--policy %s prints the contract JSON with the library figures',
    async (policy) => {
      const r = await simulate(
        '--capacity-per-replica',
        '500',
        '--target-utilization',
        '0.7',
        '--pod-ready-seconds',
        '120',
        '--policy',
        policy,
        '--output',
        'json',
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const json = JSON.parse(r.stdout);
      expect(Object.keys(json).slice(0, 4)).toEqual([
        'policy',
        'underProvisionedMinutes',
        'replicaHours',
        'scalingActions',
      ]);
      const lib = runSimulation(demand(), { ...options, policy, hpa: { maxReplicas: 1000 } });
      expect(json).toMatchObject({
        policy,
        underProvisionedMinutes: lib.underProvisionedMinutes,
        replicaHours: Number(lib.replicaHours.toFixed(2)),
        scalingActions: lib.scalingActions,
        scoredMinutes: 2 * 1440,
      });
      if (policy === 'oracle') expect(json.underProvisionedMinutes).toBe(0);
      if (policy === 'reactive') expect(json.underProvisionedMinutes).toBeGreaterThan(0);
    },
  );

  it('prints a table by default', async () => {
    const r = await simulate('--capacity-per-replica', '500');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^policy\s+reactive$/m);
    expect(r.stdout).toMatch(/^under-provisioned minutes\s+[\d,.]+$/m);
  });

  it.each([
    [
      ['--capacity-per-replica', '0'],
      '--capacity-per-replica must be a positive number (load per replica), got "0"',
    ],
    [
      ['--capacity-per-replica', '500', '--target-utilization', '1.5'],
      '--target-utilization must be at most 1, got "1.5"',
    ],
    [
      ['--capacity-per-replica', '500', '--pod-ready-seconds', 'soon'],
      '--pod-ready-seconds must be a number >= 0, got "soon"',
    ],
    [
      ['--capacity-per-replica', '500', '--warmup-days', '30'],
      'DEMAND: too little history: 23040 points, need at least 44640 (30 days of warm-up and a day to score)',
    ],
  ])('exit 1 with one line for bad input %#', async (args, message) => {
    const r = await simulate(...args);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `tidewatch-predictor: ${message.replace('DEMAND', demandFile)}\n`,
    });
  });
});
