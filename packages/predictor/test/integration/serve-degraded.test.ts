/**
 * A sidecar that cannot save its state is `degraded` (issue 15), on real directories: a
 * tmpfs remounted read-only, a data directory deleted while running (recreated; reported when
 * it cannot be), and a full tmpfs. Each: `health` on /forecast and /healthz (still 200), the
 * status page's banner, `tidewatch_persist_errors_total{file}` and
 * `tidewatch_degraded{reason="persist_failed"}`, one log line per distinct error, and `ok`
 * again once the directory heals. Mounting needs root (this machine runs the tests as root):
 * without it the tests fail saying so.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeHistory } from '@tidewatch/forecast';
import { launchChromium, pollUntil } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSidecar, type Sidecar } from '../../src/serve/app.js';
import { parseServeConfig } from '../../src/serve/config.js';
import type { Logger, LogLevel } from '../../src/serve/log.js';
import { startTarget, type Target } from './serve-target.js';
import {
  request,
  type SidecarClient,
  scrapeOf,
  seededDir,
  serveSettings,
  sidecarClient,
} from './sidecar.js';

const HISTORY_ERRORS = 'tidewatch_persist_errors_total{file="history"}';
const MODEL_ERRORS = 'tidewatch_persist_errors_total{file="model"}';
const DEGRADED = 'tidewatch_degraded{reason="persist_failed"}';
const OK_HEALTH = { status: 'ok', reasons: [], messages: [] };

const seeded = seededDir('tw-serve-degraded-');
const mounts: string[] = [];
let target: Target;

/** Mounts a fresh tmpfs of `size` (e.g. `4m`); fails the test, saying why, when it cannot. */
function mountTmpfs(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tw-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmdirSync(dir);
    throw new Error(
      `these tests need to mount a tmpfs (run them as root): mount failed: ${(error as Error).message}`,
    );
  }
  mounts.push(dir);
  return dir;
}

/**
 * Remounts the tmpfs. A read-only remount fails with "mount point is busy" while a file on it
 * is open for writing (the sidecar saves every step), so it is retried until it lands between
 * two saves, for at most 10 s.
 */
function remount(dir: string, mode: 'ro' | 'rw'): void {
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      execFileSync('mount', ['-o', `remount,${mode}`, dir], { stdio: 'pipe' });
      return;
    } catch (error) {
      const busy = String((error as { stderr?: unknown }).stderr ?? '').includes('busy');
      if (!busy || Date.now() > until) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

/** A logger keeping every line. */
function capture(): Logger & {
  lines: Array<{ level: LogLevel; msg: string; fields: Record<string, unknown> }>;
} {
  const lines: Array<{ level: LogLevel; msg: string; fields: Record<string, unknown> }> = [];
  return { lines, log: (level, msg, fields = {}) => lines.push({ level, msg, fields }) };
}

beforeAll(async () => {
  target = await startTarget();
  await target.setConnections(2);
});

afterAll(async () => {
  await target?.close();
  for (const dir of mounts) {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmdirSync(dir);
    } catch {
      // Best effort: a busy mount is lazily detached and goes with the process.
    }
  }
  seeded.remove();
});

/** A started sidecar keeping its files in `dataDir`, with its log and client. */
async function startSidecar(dataDir: string, seed: boolean) {
  const log = capture();
  const config = parseServeConfig(
    serveSettings({
      source: scrapeOf(target),
      historyPoints: 5000,
      dataDir,
      ...(seed ? { seed: { file: seeded.seedFile } } : {}),
    }),
  );
  const sidecar: Sidecar = createSidecar(config, { log, shutdownTimeoutMs: 5000 });
  const { url } = await sidecar.start();
  return { sidecar, url, log, client: sidecarClient(() => url) };
}

const healthOf = async (url: string) =>
  (
    JSON.parse((await request(`${url}/healthz`)).text) as {
      status: string;
      health: typeof OK_HEALTH;
    }
  ).health;

/** Polls `/healthz` until its health is `status`; returns that health. */
const healthBecomes = (url: string, status: 'ok' | 'degraded', description: string) =>
  pollUntil(
    () => healthOf(url),
    (h) => h.status === status,
    { description },
  );

/** Polls until `data` holds a history file. */
const historySaved = (data: string, description: string) =>
  pollUntil(
    async () => existsSync(join(data, 'history.json')),
    (v) => v,
    { description },
  );

/** Polls `/metrics` until at least `n` failed history saves are counted; returns the samples. */
const failedSaves = (client: SidecarClient, n: number, description: string) =>
  pollUntil(client.metrics, (x) => (x.get(HISTORY_ERRORS) ?? 0) >= n, { description });

/** After healing: not degraded, and every failed save counted, exactly (as the recovery logs). */
async function expectHealed(client: SidecarClient, log: ReturnType<typeof capture>): Promise<void> {
  const healed = await client.metrics();
  expect(healed.has(DEGRADED)).toBe(false);
  const recovered = log.lines.find((l) => l.msg === 'saving the history works again');
  expect(healed.get(HISTORY_ERRORS)).toBe(recovered?.fields.failedSaves);
}

describe('degraded when the state cannot be saved', () => {
  it('read-only data directory: degraded with the reason, counted, logged once, banner; ok when writable', async () => {
    const mount = mountTmpfs('8m');
    const data = join(mount, 'data');
    const { sidecar, url, log, client } = await startSidecar(data, true);
    try {
      // The first model is trained and saved while the disk is writable.
      await pollUntil(
        () => client.forecast('?points=2'),
        (d) => d.status === 'ok' && existsSync(join(data, 'model.json')),
        { timeoutMs: 30_000, description: 'a forecast and a saved model' },
      );
      expect((await client.forecast('?points=2')).health).toEqual(OK_HEALTH);
      expect((await client.metrics()).get(HISTORY_ERRORS)).toBe(0);
      expect((await client.metrics()).has(DEGRADED)).toBe(false);

      remount(mount, 'ro');
      const degraded = await pollUntil(
        () => client.forecast('?points=2'),
        (d) => d.health?.status === 'degraded',
        { description: 'degraded' },
      );
      expect(degraded.health?.reasons).toEqual(['persist_failed']);
      expect(degraded.health?.messages).toHaveLength(1);
      expect(degraded.health?.messages[0]).toMatch(
        new RegExp(
          `^history: cannot write ${join(data, 'history.json')}: EROFS: read-only file system`,
        ),
      );
      // The forecast itself is unaffected: degraded is about the sidecar, not the forecast.
      expect(degraded.status).toBe('ok');
      // Liveness stays 200: a restart would only lose the history held in memory.
      const healthz = await request(`${url}/healthz`);
      expect(healthz.status).toBe(200);
      expect(JSON.parse(healthz.text)).toEqual({
        status: 'alive',
        health: degraded.health,
        role: 'standalone',
        leader: null,
      });
      // Several failed saves (one per step), one log line for them.
      const m = await failedSaves(client, 3, 'three failed saves');
      expect(m.get(DEGRADED)).toBe(1);
      expect(m.get(MODEL_ERRORS)).toBe(0);
      const failures = log.lines.filter(
        (l) => l.msg === 'saving the history failed: serving on from memory (degraded)',
      );
      expect(failures).toHaveLength(1);
      expect(failures[0]?.level).toBe('error');

      // The status page shows it as a banner.
      await using chrome = await launchChromium();
      const page = await chrome.browser.newPage();
      await page.goto(`${url}/`);
      await page.waitForSelector('body[data-renders="1"]', { timeout: 20_000 });
      expect(await page.locator('#health').isVisible()).toBe(true);
      expect(await page.locator('#health-title').textContent()).toBe(
        'Degraded: the history or the model cannot be saved; a restart would lose data',
      );
      expect(await page.locator('#health-messages li').first().textContent()).toBe(
        degraded.health?.messages[0],
      );

      remount(mount, 'rw');
      await healthBecomes(url, 'ok', 'ok again');
      await expectHealed(client, log);
      expect((await client.forecast('?points=2')).health).toEqual(OK_HEALTH);
      await page.reload();
      await page.waitForSelector('body[data-renders="1"]', { timeout: 20_000 });
      expect(await page.locator('#health').isHidden()).toBe(true);
    } finally {
      remount(mount, 'rw');
      await sidecar.stop();
    }
  });

  it('the data directory deleted while running: recreated and saved again, the failure counted', async () => {
    const data = join(seeded.dir, 'vanishing');
    const { sidecar, log, client } = await startSidecar(data, false);
    try {
      await historySaved(data, 'a first save');
      rmSync(data, { recursive: true, force: true, maxRetries: 5 });
      await historySaved(data, 'the history saved again');
      const m = await failedSaves(client, 1, 'the failure counted');
      const recreated = log.lines.filter(
        (l) => l.msg === 'the data directory vanished: recreated it',
      );
      expect(recreated.length).toBeGreaterThanOrEqual(1);
      expect(recreated[0]?.fields).toEqual({ dir: data, file: 'history' });
      expect(m.get(HISTORY_ERRORS)).toBe(recreated.length);
      expect(m.has(DEGRADED)).toBe(false);
      expect((await client.forecast('?points=2')).health).toEqual(OK_HEALTH);
      const file = join(data, 'history.json');
      expect(
        decodeHistory(readFileSync(file, 'utf8'), file).series[0]?.values.length,
      ).toBeGreaterThanOrEqual(1);
    } finally {
      await sidecar.stop();
    }
  });

  it('deleted and not recreatable (read-only parent): degraded, then recreated once writable', async () => {
    const mount = mountTmpfs('4m');
    const data = join(mount, 'data');
    const { sidecar, url, client } = await startSidecar(data, false);
    try {
      await historySaved(data, 'a first save');
      // Both at once (synchronous): the sidecar, in this process, saves in between neither.
      rmSync(data, { recursive: true, force: true, maxRetries: 5 });
      remount(mount, 'ro');
      const h = await healthBecomes(url, 'degraded', 'degraded');
      expect(h.reasons).toEqual(['persist_failed']);
      expect(h.messages[0]).toMatch(/^history: .*(EROFS|ENOENT)/);
      expect((await client.metrics()).get(DEGRADED)).toBe(1);
      remount(mount, 'rw');
      await healthBecomes(url, 'ok', 'ok again');
      expect(existsSync(join(data, 'history.json'))).toBe(true);
      expect((await client.metrics()).has(DEGRADED)).toBe(false);
    } finally {
      remount(mount, 'rw');
      await sidecar.stop();
    }
  });

  it('a full disk: degraded with ENOSPC, ok once there is room', async () => {
    const mount = mountTmpfs('64k');
    const data = join(mount, 'data');
    const { sidecar, url, client, log } = await startSidecar(data, false);
    try {
      await historySaved(data, 'a first save');
      // Fill the tmpfs to the last block.
      const filler = join(mount, 'filler');
      writeFileSync(filler, '');
      const chunk = Buffer.alloc(4096, 120);
      let filled = false;
      for (let i = 0; i < 64 && !filled; i++) {
        try {
          writeFileSync(filler, chunk, { flag: 'a' });
        } catch (error) {
          expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
          filled = true;
        }
      }
      expect(filled).toBe(true);
      const h = await healthBecomes(url, 'degraded', 'degraded');
      expect(h.messages[0]).toMatch(/^history: cannot write .*ENOSPC: no space left on device/);
      const failed = await failedSaves(client, 2, 'failed saves counted');
      expect(failed.get(DEGRADED)).toBe(1);
      rmSync(filler);
      await healthBecomes(url, 'ok', 'ok again');
      await expectHealed(client, log);
    } finally {
      await sidecar.stop();
    }
  });
});

describe('a data directory that cannot be created at start', () => {
  it('starts degraded instead of not at all, and recovers when it can be created', async () => {
    const mount = mountTmpfs('1m');
    remount(mount, 'ro');
    const data = join(mount, 'data');
    const { sidecar, url } = await startSidecar(data, false);
    try {
      const h = await healthOf(url);
      expect(h.status).toBe('degraded');
      expect(h.messages[0]).toMatch(/^history: EROFS: read-only file system, mkdir /);
      remount(mount, 'rw');
      await healthBecomes(url, 'ok', 'ok');
      expect(existsSync(join(data, 'history.json'))).toBe(true);
    } finally {
      remount(mount, 'rw');
      await sidecar.stop();
    }
  });
});
