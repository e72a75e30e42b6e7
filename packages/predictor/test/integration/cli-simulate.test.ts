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
/** A trace missing the row of 00:02. */
const gapsFile = join(dir, 'gaps.csv');
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
  writeFileSync(
    gapsFile,
    'timestamp,value\n2024-01-01T00:00:00Z,10\n2024-01-01T00:01:00Z,10\n2024-01-01T00:03:00Z,10\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tidewatch-predictor simulate', () => {
  const demand = () => parseSeriesCsv(readFileSync(demandFile, 'utf8'), 'demand');
  const options = { capacityPerReplica: 500, targetUtilization: 0.7, podReadySeconds: 120 };
  /** The shipped deploy config as simulator options (sticky, least-connections). */
  const shippedSticky = {
    ...options,
    connections: 'sticky' as const,
    lb: 'least-connections' as const,
    metricLagSeconds: 30,
    leadSeconds: 150,
    drainSeconds: 315,
    hpa: {
      minReplicas: 2,
      maxReplicas: 50,
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max' as const,
        policies: [
          { type: 'Pods' as const, value: 4, periodSeconds: 15 },
          { type: 'Percent' as const, value: 100, periodSeconds: 15 },
        ],
      },
      scaleDown: {
        stabilizationWindowSeconds: 1800,
        selectPolicy: 'Max' as const,
        policies: [
          { type: 'Pods' as const, value: 1, periodSeconds: 60 },
          { type: 'Percent' as const, value: 10, periodSeconds: 60 },
        ],
      },
    },
  };

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
        '--hpa-defaults',
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

  it('the contract command: sticky connections, least-connections, shipped HPA behaviour', async () => {
    const r = await simulate(
      '--capacity-per-replica',
      '500',
      '--target-utilization',
      '0.7',
      '--pod-ready-seconds',
      '120',
      '--policy',
      'oracle',
      '--connections',
      'sticky',
      '--lb',
      'least-connections',
      '--output',
      'json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    for (const key of [
      'overloadedPodMinutes',
      'droppedConnections',
      'replicaHours',
      'scalingActions',
      'underProvisionedMinutes',
    ])
      expect(typeof json[key], key).toBe('number');
    // The shipped deploy config: lead time 60 + 30 + 30 + 30 = 150 s, min 2 / max 50 replicas,
    // the 1800 s scale-down window (pods stay: the oracle never overloads a pod here).
    const lib = runSimulation(demand(), { ...shippedSticky, policy: 'oracle' });
    expect(json).toMatchObject({
      policy: 'oracle',
      connections: 'sticky',
      configuration: 'shipped',
      leadTimeSeconds: 150,
      overloadedPodMinutes: lib.overloadedPodMinutes,
      underProvisionedMinutes: lib.underProvisionedMinutes,
      scalingActions: lib.scalingActions,
      replicaHours: Number(lib.replicaHours.toFixed(2)),
      droppedConnections: Number(lib.droppedConnections.toFixed(1)),
    });
    expect(json.overloadedPodMinutes).toBe(0);
  });

  it('--nowcast and --disrupt replay a surge as the library does (reactive + nowcast)', async () => {
    // 15.5 days in (scored: the warm-up is 14) a rollout (the generated Deployment's maxSurge
    // 25 %, maxUnavailable 0), 30 minutes later a pod lost.
    const [rollout, kill] = [15 * 86_400 + 43_200, 15 * 86_400 + 45_000];
    const r = await simulate(
      ...['--capacity-per-replica', '500', '--pod-ready-seconds', '120', '--connections'],
      ...['sticky', '--lb', 'least-connections', '--nowcast', '--output', 'json'],
      ...['--disrupt', `rollout@${rollout}`, '--disrupt', `kill-pod@${kill}`],
    );
    expect(r.stderr).toBe('');
    const json = JSON.parse(r.stdout);
    const lib = runSimulation(demand(), {
      ...shippedSticky,
      policy: 'reactive',
      nowcast: true,
      disruptions: [
        { kind: 'rollout', atSeconds: rollout, maxSurge: '25%', maxUnavailable: 0 },
        { kind: 'kill-pod', atSeconds: kill },
      ],
    });
    expect(json).toMatchObject({
      policy: 'reactive',
      nowcast: true,
      disruptions: [`rollout@${rollout}`, `kill-pod@${kill}`],
      overloadedPodMinutes: lib.overloadedPodMinutes,
      replicaHours: Number(lib.replicaHours.toFixed(2)),
      droppedConnections: Number(lib.droppedConnections.toFixed(1)),
    });
    // The rollout replaced every pod: their connections were dropped at the drain's end.
    expect(json.droppedConnections).toBeGreaterThan(0);
  });

  it('--deploy-config takes the HPA bounds from the file', async () => {
    const config = join(dir, 'deploy.json');
    writeFileSync(config, JSON.stringify({ minReplicas: 20, maxReplicas: 20 }));
    const r = await simulate(
      '--capacity-per-replica',
      '500',
      '--connections',
      'sticky',
      '--deploy-config',
      config,
      '--output',
      'json',
    );
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({
      configuration: 'deploy-config',
      maxReplicas: 20,
      scalingActions: 0,
    });
    writeFileSync(config, JSON.stringify({ minReplicas: 0 }));
    const bad = await simulate('--capacity-per-replica', '500', '--deploy-config', config);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      `tidewatch-predictor: --deploy-config ${config}: deploy config: minReplicas must be an integer 1..100000, got 0\n`,
    );
  });

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
    [
      [
        '--capacity-per-replica',
        '500',
        '--connections',
        'sticky',
        '--mean-lifetime-seconds',
        '2000000',
      ],
      '--mean-lifetime-seconds 2000000 is longer than the trace DEMAND (1382400 s)',
    ],
    [
      ['--capacity-per-replica', '500', '--connections', 'sticky', '--input', 'GAPS'],
      'GAPS: row 4: timestamp "2024-01-01T00:03:00Z" is 120s after the previous row, expected a step of 60s (missing rows?)',
    ],
    [
      ['--capacity-per-replica', '500', '--connections', 'sticky', '--disrupt', 'rollout@noon'],
      '--disrupt must be kill-pod@SECONDS or rollout@SECONDS (seconds from the trace start), got "rollout@noon"',
    ],
  ])('exit 1 with one line for bad input %#', async (args, message) => {
    const r = await simulate(...args.map((a) => (a === 'GAPS' ? gapsFile : a)));
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `tidewatch-predictor: ${message.replace('DEMAND', demandFile).replace('GAPS', gapsFile)}\n`,
    });
  });
});
