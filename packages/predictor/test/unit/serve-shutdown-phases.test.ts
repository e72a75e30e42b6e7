/**
 * The shutdown's phases with stand-in hooks (real timers, a short deadline; the assertions
 * are about what happened, never when): work that ends by itself, work that ends when
 * aborted, work that ignores its abort, and a final write that fails.
 */
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/serve/log.js';
import { runShutdown, type ShutdownHooks } from '../../src/serve/shutdown.js';

interface Line {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}

function capture(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  return {
    lines,
    log: (level, msg, fields) => lines.push({ level, msg, ...(fields ? { fields } : {}) }),
  };
}

/** Hooks around a set of named promises; `abortable` ones settle when aborted. */
function hooks(
  work: Record<string, { abortable: boolean; done?: boolean }>,
  saveResult = true,
): ShutdownHooks & { calls: string[] } {
  const calls: string[] = [];
  const pending = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  for (const [name, w] of Object.entries(work)) {
    let resolve = () => {};
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    const entry = { promise, resolve };
    pending.set(name, entry);
    void promise.then(() => pending.delete(name));
    if (w.done) queueMicrotask(resolve);
  }
  return {
    calls,
    async halt() {
      calls.push('halt');
    },
    running: () => new Map([...pending].map(([name, e]) => [name, e.promise])),
    abort() {
      calls.push('abort');
      for (const [name, e] of pending) if (work[name]?.abortable) e.resolve();
    },
    async save() {
      calls.push('save');
      return saveResult;
    },
    async close() {
      calls.push('close');
    },
  };
}

/** Runs the shutdown over {@link hooks} of `work` under `timeoutMs`, capturing its log. */
async function shutdown(
  work: Parameters<typeof hooks>[0],
  timeoutMs: number,
  saveResult?: boolean,
) {
  const h = hooks(work, saveResult);
  const log = capture();
  const report = await runShutdown(h, { timeoutMs, log });
  return { calls: h.calls, report, lines: log.lines };
}

describe('runShutdown', () => {
  it('nothing running: halt, save, close; clean', async () => {
    const { calls, report, lines } = await shutdown({}, 60_000);
    expect(calls).toEqual(['halt', 'save', 'close']);
    expect(report).toMatchObject({
      clean: true,
      aborted: [],
      stillRunning: [],
      saved: true,
      timeoutMs: 60_000,
    });
    expect(lines).toEqual([]);
  });

  it('work that finishes by itself is waited for, not aborted', async () => {
    const { calls, report } = await shutdown(
      { collection: { abortable: true, done: true } },
      60_000,
    );
    expect(calls).toEqual(['halt', 'save', 'close']);
    expect(report).toMatchObject({ clean: true, aborted: [] });
  });

  it('stuck work is aborted at half the deadline, then the state is written: clean', async () => {
    const { calls, report, lines } = await shutdown(
      { collection: { abortable: true }, training: { abortable: true } },
      400,
    );
    expect(calls).toEqual(['halt', 'abort', 'save', 'close']);
    expect(report).toMatchObject({
      clean: true,
      aborted: ['collection', 'training'],
      stillRunning: [],
      saved: true,
    });
    expect(lines).toEqual([
      {
        level: 'warn',
        msg: 'shutdown: aborting work still running at half the deadline',
        fields: { running: ['collection', 'training'], deadlineSeconds: 0.4 },
      },
    ]);
  });

  it('work that ignores its abort: the state is still written, the report names it', async () => {
    const { calls, report, lines } = await shutdown(
      { collection: { abortable: true }, training: { abortable: false } },
      400,
    );
    expect(calls).toEqual(['halt', 'abort', 'save', 'close']);
    expect(report).toMatchObject({
      clean: false,
      aborted: ['collection', 'training'],
      stillRunning: ['training'],
      saved: true,
    });
    expect(lines.at(-1)).toEqual({
      level: 'error',
      msg: 'shutdown deadline reached: exiting with work still running',
      fields: { stillRunning: ['training'], deadlineSeconds: 0.4, saved: true },
    });
  });

  it('a final write that never ends is given up at 95 %', async () => {
    const h = hooks({});
    h.save = () => new Promise<boolean>(() => {});
    const report = await runShutdown(h, { timeoutMs: 300, log: capture() });
    expect(report).toMatchObject({ clean: false, stillRunning: ['final write'], saved: false });
  });

  it('a failed final write is not clean', async () => {
    const { report, lines } = await shutdown({}, 60_000, false);
    expect(report).toMatchObject({ clean: false, stillRunning: [], saved: false });
    expect(lines.map((l) => l.msg)).toEqual([
      'shutdown: the final write failed: the last state is not on disk',
    ]);
  });

  it('names a bad deadline', () => {
    expect(() => runShutdown(hooks({}), { timeoutMs: 0, log: capture() })).toThrow(
      'runShutdown: timeoutMs must be a number > 0, got 0',
    );
  });
});
