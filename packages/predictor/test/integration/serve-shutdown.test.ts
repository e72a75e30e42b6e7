/**
 * Shutdown under a deadline (issue 15): `serve` as a real process whose scrape target stalls
 * (headers sent, body never ends) exits on SIGTERM within its deadline with the history it had
 * collected on disk; with nothing stuck it exits 0 with the state written. In-process: a
 * training that ignores its abort does not keep `stop()` from writing the state and reporting
 * it, and a stop during a stuck first collection ends the start.
 * Needs `npx tsup` in packages/predictor first (dist/cli.js).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeHistory } from '@tidewatch/forecast';
import { pollUntil, withTimeout } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSidecar } from '../../src/serve/app.js';
import { parseServeConfig } from '../../src/serve/config.js';
import { silentLogger } from '../../src/serve/log.js';
import type { Target } from './serve-target.js';
import {
  logLines,
  scrapeOf,
  seededDir,
  seedValues,
  serveSettings,
  sidecarClient,
  startProcessTarget,
  startServe,
  stopProcesses,
  waitReady,
  writeServeConfig,
} from './sidecar.js';

const seeded = seededDir('tw-serve-shutdown-');
const { dir, seedFile } = seeded;
const POINTS = 'tidewatch_history_points{metric="realtime_connections"}';
/** The default deadline (15 s) plus room for a loaded machine: past it, the process hangs. */
const EXIT_BOUND_MS = 60_000;

let target: Target;
beforeAll(async () => {
  target = await startProcessTarget();
});
afterAll(() => stopProcesses(target, seeded));

/**
 * Starts `serve` as `name`: seeded, its files in `dir/name`, scraping the target with
 * `timeoutSeconds`; resolves once it is ready, with the number of points it has collected
 * reaching `points`.
 */
async function serveReady(name: string, timeoutSeconds: number, points: number) {
  const data = join(dir, name);
  const run = startServe([
    '--config',
    writeServeConfig(dir, name, {
      dataDir: data,
      seed: { file: seedFile },
      source: scrapeOf(target, timeoutSeconds),
    }),
  ]);
  const url = await run.url;
  await waitReady(url);
  const client = sidecarClient(() => url);
  const served = await pollUntil(client.metrics, (m) => (m.get(POINTS) ?? 0) >= points, {
    description: 'live points after the seed',
  });
  return { run, data, client, served };
}

/** Waits until the target has stalled more requests than `before`. */
const stalledPast = (before: number, description: string) =>
  pollUntil(
    async () => target.served('stall'),
    (n) => n > before,
    { description },
  );

const historyValues = (file: string) =>
  Array.from(decodeHistory(readFileSync(file, 'utf8'), file).series[0]?.values ?? []);

/** The state in `data` after an exit: at least `points` points, the last live one, a model. */
function expectStateWritten(data: string, points: number): number[] {
  const values = historyValues(join(data, 'history.json'));
  expect(values.length).toBeGreaterThanOrEqual(points);
  expect(values.at(-1)).toBe(2);
  expect(existsSync(join(data, 'model.json'))).toBe(true);
  return values;
}

describe('serve process shutdown', () => {
  it('SIGTERM while the scrape target stalls: exits within the deadline, history on disk', async () => {
    target.setMode('ok');
    // A scrape timeout far beyond the shutdown deadline: only the shutdown's own abort can end
    // the request.
    const { run, data, client } = await serveReady('stalled', 600, 1012);
    const stalledBefore = target.served('stall');
    target.setMode('stall');
    await stalledPast(stalledBefore, 'a collection stuck on the stalled target');
    // The stuck collection appends nothing: what the history holds now is the last good state.
    const held = (await client.metrics()).get(POINTS) as number;
    run.kill('SIGTERM');
    const exit = await withTimeout(run.exited, EXIT_BOUND_MS, 'the process to exit');
    target.setMode('ok');

    const lines = logLines(run);
    const aborting = lines.find(
      (l) => l.msg === 'shutdown: aborting work still running at half the deadline',
    );
    expect(aborting?.running).toContain('collection');
    expect(aborting?.deadlineSeconds).toBe(15);
    // Documented: 0 when the aborted work wound down and the state was written, 1 (with a
    // line naming what still ran) when the deadline forced the exit.
    if (exit.code === 0) {
      expect(lines.at(-1)).toMatchObject({ msg: 'stopped', aborted: aborting?.running });
    } else {
      expect(exit.code).toBe(1);
      expect(run.stderr().trim().split('\n').at(-1)).toMatch(
        /^tidewatch-predictor: shutdown deadline of 15 s reached; still running: .*collection/,
      );
    }
    expect(exit.signal).toBeNull();
    const values = expectStateWritten(data, held);
    expect(values.slice(0, 1008)).toEqual(seedValues(1008));
  });

  it('SIGTERM with nothing stuck: exit 0, history and model written, nothing aborted', async () => {
    target.setMode('ok');
    const { run, data, served } = await serveReady('calm', 0.5, 1010);
    run.kill('SIGTERM');
    expect(await withTimeout(run.exited, EXIT_BOUND_MS, 'the process to exit')).toEqual({
      code: 0,
      signal: null,
    });
    const lines = logLines(run);
    expect(lines.map((l) => l.msg)).not.toContain(
      'shutdown: aborting work still running at half the deadline',
    );
    const stopped = lines.at(-1);
    expect(stopped?.msg).toBe('stopped');
    expect(stopped).not.toHaveProperty('aborted');
    expectStateWritten(data, served.get(POINTS) as number);
  });
});

describe('in-process stop()', () => {
  it('a training that ignores its abort: the state is written, the report names the training', async () => {
    target.setMode('ok');
    const data = join(dir, 'stubborn');
    const config = parseServeConfig(
      serveSettings({
        source: scrapeOf(target),
        historyPoints: 5000,
        seed: { file: seedFile },
        dataDir: data,
      }),
    );
    let trainingStarted = false;
    const sidecar = createSidecar(config, {
      log: silentLogger,
      shutdownTimeoutMs: 2000,
      // Never settles, whatever its signal says.
      train: () => {
        trainingStarted = true;
        return new Promise(() => {});
      },
    });
    await sidecar.start();
    await pollUntil(
      async () => trainingStarted,
      (v) => v,
      { description: 'the training to start' },
    );
    const report = await withTimeout(sidecar.stop(), 30_000, 'stop()');
    expect(report).toMatchObject({
      clean: false,
      stillRunning: ['training'],
      saved: true,
      timeoutMs: 2000,
    });
    // A collection may have been in flight too (it ends by itself or when aborted).
    expect(report.aborted).toContain('training');
    expect(historyValues(join(data, 'history.json')).slice(0, 1008)).toEqual(seedValues(1008));
    // Idempotent: the same report.
    expect(await sidecar.stop()).toBe(report);
  });

  it('stop() during a first collection that never ends: the start gives up, the stop is clean', async () => {
    target.setMode('stall');
    const stalledBefore = target.served('stall');
    const config = parseServeConfig(serveSettings({ source: scrapeOf(target, 600) }));
    const sidecar = createSidecar(config, { log: silentLogger, shutdownTimeoutMs: 2000 });
    const started = sidecar.start();
    started.catch(() => {});
    await stalledPast(stalledBefore, 'the first collection to reach the stalled target');
    const report = await withTimeout(sidecar.stop(), 30_000, 'stop()');
    target.setMode('ok');
    expect(report).toMatchObject({ clean: true, stillRunning: [], saved: true });
    expect(report.aborted).toEqual(['start', 'collection']);
    await expect(started).rejects.toThrow('the sidecar was stopped while starting');
  });
});
