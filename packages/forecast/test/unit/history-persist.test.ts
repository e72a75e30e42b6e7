import { spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HistoryError } from '../../src/history/errors.js';
import { createHistoryStore, loadHistoryStore } from '../../src/history/store.js';

const STEP = 60_000;
const T0 = 1_700_000_040_000;
const vals = (s: { values: ArrayLike<number> }): number[] => Array.from(s.values);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tidewatch-history-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function filled(file: string) {
  const store = createHistoryStore({ stepMs: STEP, capacity: 10, file });
  for (let i = 0; i < 14; i++) store.append('connections', T0 + i * STEP, i * 1.5);
  store.append('messages_per_second', T0, 0.1);
  store.append('messages_per_second', T0 + 9 * STEP, 0.7); // a long gap stays NaN
  return store;
}

function loadError(make: () => unknown): HistoryError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(HistoryError);
    return error as HistoryError;
  }
  throw new Error('expected a HistoryError');
}

describe('HistoryStore: persist and reload', () => {
  it('reloads exactly what was persisted, NaN included', async () => {
    const file = join(dir, 'history.json');
    const store = filled(file);
    await store.persist();
    const again = createHistoryStore({ stepMs: STEP, capacity: 10, file });
    expect(again.loadWarning).toBeUndefined();
    expect(again.names()).toEqual(['connections', 'messages_per_second']);
    for (const name of store.names()) {
      expect(again.series(name)).toEqual(store.series(name));
    }
    expect(vals(again.series('connections'))).toEqual([
      6, 7.5, 9, 10.5, 12, 13.5, 15, 16.5, 18, 19.5,
    ]);
    expect(vals(again.series('messages_per_second'))).toEqual([
      0.1,
      ...Array(8).fill(Number.NaN),
      0.7,
    ]);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    expect(doc.format).toBe('tidewatch-history');
    expect(doc.version).toBe(1);
    expect(doc.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('loadHistoryStore takes step and capacity from the file', async () => {
    const file = join(dir, 'h.json');
    await filled(file).persist();
    const store = loadHistoryStore(file);
    expect(store.stepMs).toBe(STEP);
    expect(store.capacity).toBe(10);
    expect(vals(store.series('connections'))[9]).toBe(19.5);
  });

  it('resumes after a restart: the time gap becomes NaN, short gaps are interpolated', async () => {
    const file = join(dir, 'h.json');
    const store = createHistoryStore({ stepMs: STEP, capacity: 20, file });
    store.append('c', T0, 1);
    store.append('c', T0 + STEP, 2);
    await store.persist();
    const resumed = createHistoryStore({ stepMs: STEP, capacity: 20, file });
    resumed.append('c', T0 + 4 * STEP, 5); // down for 2 steps: interpolated
    resumed.append('c', T0 + 12 * STEP, 5); // then 7 missing steps: NaN
    expect(vals(resumed.series('c'))).toEqual([1, 2, 3, 4, 5, ...Array(7).fill(Number.NaN), 5]);
  });

  it('a restart gap longer than the capacity resets the ring start', async () => {
    const file = join(dir, 'h.json');
    const store = createHistoryStore({ stepMs: STEP, capacity: 5, file });
    store.append('c', T0, 1);
    await store.persist();
    const resumed = createHistoryStore({ stepMs: STEP, capacity: 5, file });
    resumed.append('c', T0 + 100 * STEP, 2);
    expect(resumed.series('c')).toEqual({
      startMs: T0 + 100 * STEP,
      stepMs: STEP,
      values: Float64Array.of(2),
    });
  });

  it('a smaller capacity on reload keeps the newest points', async () => {
    const file = join(dir, 'h.json');
    await filled(file).persist();
    const store = createHistoryStore({ stepMs: STEP, capacity: 3, file });
    expect(vals(store.series('connections'))).toEqual([16.5, 18, 19.5]);
    expect(store.series('connections').startMs).toBe(T0 + 11 * STEP);
  });

  it('concurrent persist() calls are serialised and the last state wins', async () => {
    const file = join(dir, 'h.json');
    const store = createHistoryStore({ stepMs: STEP, file });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      store.append('c', T0 + i * STEP, i);
      writes.push(store.persist());
    }
    await Promise.all(writes);
    expect(vals(loadHistoryStore(file).series('c'))).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it('persist() without a file is a typed error', async () => {
    const store = createHistoryStore({ stepMs: STEP });
    await expect(store.persist()).rejects.toThrow(
      'history: persist() needs the file option of createHistoryStore',
    );
  });

  it('persist() into a missing directory names the file', async () => {
    const file = join(dir, 'no', 'such', 'h.json');
    const store = createHistoryStore({ stepMs: STEP, file });
    store.append('c', T0, 1);
    const error = await store.persist().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HistoryError);
    expect((error as HistoryError).code).toBe('persist-failed');
    expect((error as Error).message).toContain(`history: cannot write ${file}: ENOENT`);
  });

  it('a missing file starts empty', () => {
    const store = createHistoryStore({ stepMs: STEP, file: join(dir, 'absent.json') });
    expect(store.names()).toEqual([]);
    expect(() => loadHistoryStore(join(dir, 'absent.json'))).toThrow(
      `history file ${join(dir, 'absent.json')} does not exist`,
    );
  });
});

describe('HistoryStore: corrupt and incompatible files', () => {
  async function persisted(): Promise<{ file: string; text: string }> {
    const file = join(dir, 'h.json');
    await filled(file).persist();
    return { file, text: readFileSync(file, 'utf8') };
  }

  it('detects a truncated file', async () => {
    const { file, text } = await persisted();
    writeFileSync(file, text.slice(0, Math.floor(text.length / 2)));
    const error = loadError(() => createHistoryStore({ stepMs: STEP, file }));
    expect(error.code).toBe('corrupt-file');
    expect(error.file).toBe(file);
    expect(error.message).toMatch(
      new RegExp(
        `^history file ${file} is corrupt: not valid JSON \\(truncated or overwritten\\?\\)`,
      ),
    );
  });

  it('detects a changed digit through the checksum', async () => {
    const { file, text } = await persisted();
    writeFileSync(file, text.replace('19.5', '19.6'));
    const error = loadError(() => loadHistoryStore(file));
    expect(error.code).toBe('corrupt-file');
    expect(error.message).toMatch(
      new RegExp(
        `^history file ${file} is corrupt: checksum mismatch \\(stored [0-9a-f]{64}, computed [0-9a-f]{64}\\)$`,
      ),
    );
  });

  it('detects a file that is not a history file', () => {
    const file = join(dir, 'h.json');
    writeFileSync(file, '{"hello":"world"}');
    expect(loadError(() => loadHistoryStore(file)).message).toBe(
      `history file ${file} is corrupt: format is undefined, expected "tidewatch-history"`,
    );
    writeFileSync(file, '');
    expect(loadError(() => loadHistoryStore(file)).code).toBe('corrupt-file');
  });

  it('refuses a newer format version', async () => {
    const { file, text } = await persisted();
    writeFileSync(file, text.replace('"version":1', '"version":2'));
    const error = loadError(() =>
      createHistoryStore({ stepMs: STEP, file, onCorrupt: 'start-empty' }),
    );
    expect(error.code).toBe('incompatible-file');
    expect(error.message).toBe(
      `history file ${file} has format version 2; this version of tidewatch reads up to 1`,
    );
  });

  it('refuses a file written with another step, even with start-empty', async () => {
    const { file } = await persisted();
    const error = loadError(() =>
      createHistoryStore({ stepMs: 30_000, file, onCorrupt: 'start-empty' }),
    );
    expect(error.code).toBe('incompatible-file');
    expect(error.message).toBe(
      `history file ${file} was written with stepMs 60000, but this store uses stepMs 30000; use the same step or move the file away`,
    );
  });

  it('an unreadable file (a directory) names the file', () => {
    const file = join(dir, 'adir');
    mkdirSync(file);
    const error = loadError(() => createHistoryStore({ stepMs: STEP, file }));
    expect(error.code).toBe('unreadable-file');
    expect(error.message).toBe(
      `history file ${file} cannot be read: EISDIR: illegal operation on a directory, read`,
    );
  });

  it("onCorrupt: 'start-empty' starts empty, reports why, and the next persist repairs the file", async () => {
    const { file, text } = await persisted();
    writeFileSync(file, text.slice(0, 100));
    const store = createHistoryStore({ stepMs: STEP, file, onCorrupt: 'start-empty' });
    expect(store.names()).toEqual([]);
    expect(store.loadWarning?.code).toBe('corrupt-file');
    expect(store.loadWarning?.file).toBe(file);
    store.append('c', T0, 3);
    await store.persist();
    expect(vals(loadHistoryStore(file).series('c'))).toEqual([3]);
  });
});

describe('HistoryStore: crash mid-write', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));

  /** Bundles a child that appends and persists in a loop, resuming from the file each start. */
  async function bundleChild(): Promise<string> {
    const outfile = join(dir, 'child.cjs');
    await build({
      stdin: {
        contents: `
          import { createHistoryStore } from './src/history/store.ts';
          async function main() {
            const store = createHistoryStore({ stepMs: 1000, capacity: 4000, file: process.argv[2] });
            let i = store.has('c') ? store.lastTimestamp('c') / 1000 + 1 : 0;
            for (;;) {
              for (let k = 0; k < 25; k++, i++) store.append('c', i * 1000, i);
              await store.persist();
              process.stdout.write(i + '\\n');
            }
          }
          main();`,
        resolveDir: root,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile,
      logLevel: 'error',
    });
    return outfile;
  }

  /**
   * Runs the child until it acknowledged `writes` persists, then SIGKILLs it as soon as its next
   * temp file appears, i.e. in the middle of a write. Resolves with the last acknowledged index.
   */
  function runAndKill(child: string, file: string, writes: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const proc = spawn(process.execPath, [child, file], { stdio: ['ignore', 'pipe', 'pipe'] });
      const temp = new RegExp(`^${basename(file).replace('.', '\\.')}\\.\\d+$`);
      let acked = -1;
      let seen = 0;
      let stderr = '';
      const watcher = watch(dir, (_event, name) => {
        if (seen >= writes && name && temp.test(name)) proc.kill('SIGKILL');
      });
      proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        for (const line of chunk.split('\n').filter(Boolean)) {
          acked = Number(line);
          seen++;
        }
      });
      proc.once('error', reject);
      proc.once('close', (code, signal) => {
        watcher.close();
        if (signal === 'SIGKILL') resolve(acked);
        else reject(new Error(`child exited with ${code}/${signal}: ${stderr}`));
      });
    });
  }

  it('SIGKILL during persist loops: every reload gives the last good state', async () => {
    const child = await bundleChild();
    const file = join(dir, 'history.json');
    for (let round = 0; round < 4; round++) {
      const acked = await runAndKill(child, file, 10 + round * 5);
      const store = loadHistoryStore(file);
      const s = store.series('c');
      const values = vals(s);
      const first = s.startMs / 1000;
      // Consistent: point k holds its own index; nothing torn, nothing missing.
      expect(values.every((v, k) => v === first + k)).toBe(true);
      // Complete: at least everything acknowledged (a later, finished write may be there too).
      const last = first + values.length;
      expect(last).toBeGreaterThanOrEqual(acked);
      expect(last - acked).toBeLessThanOrEqual(25);
      expect(values.length).toBe(Math.min(4000, last));
    }
    // Proof that the kills landed mid-write: write-file-atomic's temp files were left behind.
    const leftovers = readdirSync(dir).filter((f) => /^history\.json\.\d+$/.test(f));
    expect(leftovers.length).toBeGreaterThan(0);
  }, 60_000);
});
