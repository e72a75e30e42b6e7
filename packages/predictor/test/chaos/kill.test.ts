/**
 * `kill -9` at random moments, 32 times, on one data dir: after some collect steps, or right as
 * a history write starts (its temp file appears). Every restart becomes ready, holds at least
 * the points that were on disk before the kill, and removes the temp file the kill left once
 * it has saved; the file on disk always decodes (checksum included). The moments come from a
 * seeded generator: `TIDEWATCH_CHAOS_SEED=N` replays a run (the seed is printed).
 */
import { existsSync, type FSWatcher, readdirSync, watch } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pollUntil, seededRandom, sumSamples, withTimeout } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import {
  COLLECT_MS,
  chaosFixture,
  historyFilePoints,
  type LaunchOptions,
  launch,
  mtimeMs,
  report,
  type SidecarProcess,
  scrapeOf,
  TEMP_FILE,
} from './harness.js';

const ROUNDS = 32;
const SEED = Number(process.env.TIDEWATCH_CHAOS_SEED ?? Date.now() % 1_000_000);

const { work, chaos } = chaosFixture('tw-chaos-kill-');

/** Resolves when a temp file of a history write appears in `dir` (bounded by `timeoutMs`). */
function nextWrite(dir: string, timeoutMs: number): Promise<string> {
  let watcher: FSWatcher | undefined;
  const seen = new Promise<string>((resolve) => {
    watcher = watch(dir, (_event, name) => {
      if (name && TEMP_FILE.test(String(name))) resolve(String(name));
    });
  });
  return withTimeout(seen, timeoutMs, `a history write in ${dir}`).finally(() => watcher?.close());
}

const historyPoints = async (s: SidecarProcess) =>
  sumSamples(await s.metricsText(), 'tidewatch_history_points');

describe('kill -9 at random moments', () => {
  it(`${ROUNDS} kills, each restart whole`, { timeout: 480_000 }, async () => {
    const random = seededRandom(SEED);
    const dataDir = join(work.dir, 'data');
    const historyFile = join(dataDir, 'history.json');
    const options: LaunchOptions = {
      workDir: work.dir,
      name: 'kill',
      source: scrapeOf(chaos()),
      seedFile: work.seedFile,
      dataDir,
    };
    const t0 = Date.now();
    let sidecar = await launch(options);
    const stats = { afterSteps: 0, atWrite: 0, tempLeft: 0, restartMsMax: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const where = `round ${round} (seed ${SEED})`;
      let persisted: number;
      if (random() < 0.5) {
        // Some collect steps (0-2 history writes), then a random moment within a step.
        const steps = Math.floor(random() * 3);
        const delayMs = Math.floor(random() * COLLECT_MS);
        for (let k = 0; k < steps; k++) {
          const before = mtimeMs(historyFile);
          await pollUntil(
            async () => mtimeMs(historyFile),
            (m) => m !== before,
            { timeoutMs: 30_000, intervalMs: 20, description: `${where}: a history write` },
          );
        }
        persisted = historyFilePoints(historyFile);
        await sleep(delayMs);
        stats.afterSteps++;
      } else {
        // Right as a write starts: within a few ms of its temp file appearing.
        persisted = historyFilePoints(historyFile);
        const delayMs = Math.floor(random() * 4);
        await nextWrite(dataDir, 30_000);
        if (delayMs > 0) await sleep(delayMs);
        stats.atWrite++;
      }
      sidecar.run.kill('SIGKILL');
      expect(await withTimeout(sidecar.run.exited, 30_000, `${where}: the kill`)).toEqual({
        code: null,
        signal: 'SIGKILL',
      });
      // Atomic writes: the file decodes and holds at least what it held before the kill.
      const onDisk = historyFilePoints(historyFile);
      expect(onDisk, where).toBeGreaterThanOrEqual(persisted);
      const left = readdirSync(dataDir).filter((f) => TEMP_FILE.test(f));
      stats.tempLeft += left.length;

      const restartAt = Date.now();
      sidecar = await launch(options);
      stats.restartMsMax = Math.max(stats.restartMsMax, Date.now() - restartAt);
      expect(await historyPoints(sidecar), where).toBeGreaterThanOrEqual(onDisk);
      // Once it has saved, the interrupted write's temp file is gone.
      await pollUntil(
        async () => mtimeMs(historyFile),
        (m) => m > restartAt,
        { timeoutMs: 30_000, intervalMs: 50, description: `${where}: a save after the restart` },
      );
      expect(
        left.filter((f) => existsSync(join(dataDir, f))),
        where,
      ).toEqual([]);
      expect(
        sidecar.logs().filter((l) => l.level === 'error'),
        where,
      ).toEqual([]);
    }
    // Stopped cleanly, nothing but the data files is left.
    const lastPoints = await historyPoints(sidecar);
    expect(await sidecar.stop()).toEqual({ code: 0, signal: null });
    expect(readdirSync(dataDir).filter((f) => TEMP_FILE.test(f))).toEqual([]);
    expect(historyFilePoints(historyFile)).toBeGreaterThanOrEqual(lastPoints);
    report('kill -9', { seed: SEED, rounds: ROUNDS, totalMs: Date.now() - t0, ...stats });
  });
});
