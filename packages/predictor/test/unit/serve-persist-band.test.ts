/**
 * The band adaptation's writes (`updateModel`): not a save of their own, written with a
 * history save once `updateEveryMs` passed since the last, at once by the final flush, retried
 * with every save after a failure; a new model's save supersedes them.
 */
import { createHistoryStore } from '@tidewatch/forecast';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/serve/log.js';
import type { SavedModel } from '../../src/serve/model-file.js';
import { createPersistence } from '../../src/serve/persist.js';

const drained = () => new Promise<void>((resolve) => setImmediate(resolve));

const model = (trainedAtMs: number, level?: number): SavedModel =>
  ({
    trainedAtMs,
    ...(level === undefined
      ? {}
      : { bandAdaptation: { target: 0.9, gamma: 0.005, level, points: 1, covered: 0 } }),
  }) as SavedModel;

function rig(failWrites = false) {
  let t = 0;
  let fail = failWrites;
  const written: SavedModel[] = [];
  const store = createHistoryStore({ stepMs: 60_000 });
  store.persist = async () => {};
  const p = createPersistence({
    dir: '/nonexistent-unused',
    store,
    log: silentLogger,
    now: () => t,
    updateEveryMs: 600_000,
    async writeModel(m) {
      if (fail) throw new Error('EROFS: read-only file system');
      written.push(m);
    },
  });
  /** One history save, run to completion (every write here resolves at once: a macrotask turn drains them). */
  const save = async () => {
    p.saveHistory();
    await drained();
  };
  return {
    p,
    written,
    save,
    advance: (ms: number) => {
      t += ms;
    },
    heal: () => {
      fail = false;
    },
  };
}

describe('updateModel', () => {
  it('writes with a history save once the interval passed, and at the final flush', async () => {
    const r = rig();
    r.p.updateModel(model(1, 0.91));
    await r.save();
    expect(r.written).toEqual([]);
    r.advance(600_000);
    r.p.updateModel(model(1, 0.92));
    await r.save();
    expect(r.written).toEqual([model(1, 0.92)]);
    r.p.updateModel(model(1, 0.93));
    await r.save();
    expect(r.written).toHaveLength(1);
    expect(await r.p.flush()).toBe(true);
    expect(r.written).toEqual([model(1, 0.92), model(1, 0.93)]);
  });

  it('a new model supersedes a pending change; a change while it is pending rides along', async () => {
    const r = rig();
    r.p.updateModel(model(1, 0.95));
    r.p.saveModel(model(2));
    r.p.updateModel(model(2, 0.9));
    await drained();
    expect(r.written).toEqual([model(2, 0.9)]);
    expect(await r.p.flush()).toBe(true);
    expect(r.written).toEqual([model(2, 0.9)]);
  });

  it('a failed write is retried with every save until it works', async () => {
    const r = rig(true);
    r.advance(600_000);
    r.p.updateModel(model(1, 0.91));
    await r.save();
    expect(r.p.health().reasons).toEqual(['persist_failed']);
    r.heal();
    await r.save();
    expect(r.written).toEqual([model(1, 0.91)]);
    expect(r.p.health().status).toBe('ok');
  });
});
