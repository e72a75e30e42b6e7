/**
 * The data dir failing under a running sidecar: remounted read-only (a tmpfs), full (a 64 KiB
 * tmpfs filled up), or deleted (`rm -rf`). The sidecar serves on from memory: failed saves
 * are counted in `tidewatch_persist_errors_total{file="history"}`; while the failure lasts it
 * is `degraded` (`tidewatch_degraded{reason="persist_failed"} 1`, `/forecast` and `/healthz`
 * `health`), /healthz stays 200; healed, the next save works, the file holds every point and
 * the health is ok again. A deleted dir is recreated by the sidecar itself (counted, not
 * degraded: see src/serve/persist.ts), so there the counter and the file coming back are
 * what is checked. Needs root (mount): it fails, not skips, without.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil, sumSamples } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import {
  type ChaosForecast,
  chaosFixture,
  get,
  type Health,
  historyFilePoints,
  launch,
  mtimeMs,
  report,
  type SidecarProcess,
  scrapeOf,
} from './harness.js';

/** One way to break the data dir, and its cure. */
interface Breakage {
  name: string;
  /** `mount -t tmpfs -o OPTIONS` for the data dir; none: a plain temp dir. */
  tmpfs?: string;
  /** Whether the failure lasts until healed (then the sidecar must show `degraded`). */
  lasts: boolean;
  /** Breaks `data` (the data dir; `root` is the mount point holding it). */
  break(data: string, root: string): void | Promise<void>;
  heal(data: string, root: string): void | Promise<void>;
}

const mount = (...args: string[]) => execFileSync('mount', args, { stdio: 'pipe' });

/** `mount -o remount,MODE dir`, retried while a write holds the fs busy (bounded). */
async function remount(dir: string, mode: 'ro' | 'rw'): Promise<void> {
  await pollUntil(
    async () => {
      mount('-o', `remount,${mode}`, dir);
      return true;
    },
    (ok) => ok,
    { timeoutMs: 20_000, intervalMs: 25, description: `remount ${mode} ${dir}` },
  );
}

/** Writes zeros to `file` until the file system is full (ENOSPC is the expected end). */
function fill(file: string): void {
  try {
    for (let i = 0; i < 1000; i++) writeFileSync(file, Buffer.alloc(4096), { flag: 'a' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return;
    throw error;
  }
  throw new Error(`${file}: 4 MB written and the file system is not full`);
}

const BREAKAGES: Breakage[] = [
  {
    name: 'read-only',
    tmpfs: 'size=16m',
    lasts: true,
    break: (_data, root) => remount(root, 'ro'),
    heal: (_data, root) => remount(root, 'rw'),
  },
  {
    name: 'full (64 KiB tmpfs)',
    tmpfs: 'size=64k',
    lasts: true,
    break: (_data, root) => fill(join(root, 'filler')),
    heal: (_data, root) => rmSync(join(root, 'filler'), { force: true }),
  },
  {
    name: 'deleted (rm -rf)',
    lasts: false,
    break: (data) => rmSync(data, { recursive: true, force: true }),
    heal: (data) => {
      mkdirSync(data, { recursive: true });
    },
  },
];

const mounts: string[] = [];
const { work, chaos } = chaosFixture('tw-chaos-datadir-', {
  setup() {
    if (process.getuid?.() !== 0)
      throw new Error('the data-dir chaos tests mount tmpfs file systems: run them as root');
  },
  teardown() {
    for (const m of mounts) {
      try {
        execFileSync('umount', [m], { stdio: 'pipe' });
      } catch (error) {
        console.error(`umount ${m}: ${(error as Error).message}`);
      }
    }
  },
});

const persistErrors = (text: string) =>
  sumSamples(text, 'tidewatch_persist_errors_total', { file: 'history' });
const degradedSeries = (text: string) =>
  text.split('\n').filter((l) => l.startsWith('tidewatch_degraded{'));

/** /forecast's and /healthz's health, and the persistence metrics, at one moment. */
async function observe(s: SidecarProcess) {
  const [doc, healthz, text] = await Promise.all([
    s.forecast(),
    get(`${s.url}/healthz`),
    s.metricsText(),
  ]);
  return {
    health: (doc as ChaosForecast).health,
    healthz: { status: healthz.status, body: JSON.parse(healthz.text) as { health?: Health } },
    persistErrors: persistErrors(text),
    degraded: degradedSeries(text),
  };
}

describe('a failing data dir', () => {
  for (const [i, b] of BREAKAGES.entries()) {
    it(b.name, async () => {
      let root = mkdtempSync(join(work.dir, 'mnt-'));
      if (b.tmpfs) {
        mount('-t', 'tmpfs', '-o', b.tmpfs, 'tmpfs', root);
        mounts.push(root);
      } else root = join(root, 'plain');
      const dataDir = join(root, 'data');
      const s = await launch({
        workDir: work.dir,
        name: `datadir-${i}`,
        source: scrapeOf(chaos()),
        seedFile: work.seedFile,
        dataDir,
      });
      const ok = await observe(s);
      expect(ok.health?.status).toBe('ok');
      expect(ok.degraded).toEqual([]);

      const errorsBefore = ok.persistErrors;
      const pointsBefore = historyFilePoints(s.historyFile);
      const t0 = Date.now();
      await b.break(dataDir, root);
      const failed = await pollUntil(
        () => observe(s),
        (v) =>
          v.persistErrors > errorsBefore &&
          (!b.lasts ||
            (v.health?.status === 'degraded' && v.healthz.body.health?.status === 'degraded')),
        { timeoutMs: 30_000, intervalMs: 200, description: `${b.name}: the failed save counted` },
      );
      report(`data dir ${b.name}`, {
        countedAfterMs: Date.now() - t0,
        errors: failed.persistErrors - errorsBefore,
        health: JSON.stringify(failed.health),
      });
      expect(failed.healthz.status).toBe(200);
      expect(failed.healthz.body).toMatchObject({ status: 'alive' });
      if (b.lasts) {
        expect(failed.degraded).toEqual(['tidewatch_degraded{reason="persist_failed"} 1']);
        expect(failed.health?.reasons).toEqual(['persist_failed']);
        // The message names the file that could not be written.
        expect(failed.health?.messages.some((m) => m.includes(s.historyFile))).toBe(true);
        expect(failed.healthz.body.health).toEqual(failed.health);
      }

      const healAt = Date.now();
      await b.heal(dataDir, root);
      const healed = await pollUntil(
        () => observe(s),
        (v) =>
          v.health?.status === 'ok' && v.degraded.length === 0 && mtimeMs(s.historyFile) > healAt,
        { timeoutMs: 30_000, intervalMs: 200, description: `${b.name}: saving again` },
      );
      report(`data dir ${b.name} healed`, { recoveredAfterMs: Date.now() - healAt });
      expect(healed.healthz.body.health).toEqual({ status: 'ok', reasons: [], messages: [] });
      expect(historyFilePoints(s.historyFile)).toBeGreaterThanOrEqual(pointsBefore);
      expect(s.alive()).toBe(true);
      expect(await s.stop()).toEqual({ code: 0, signal: null });
    });
  }
});
