/**
 * After a corrupt history the kept model cannot forecast (too little history after it was
 * moved aside) (issue 15): the sidecar says so on `/forecast` and logs it once, not on every
 * forecast tick, and does not retrain on a history too short to train on.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSidecar } from '../../src/serve/app.js';
import { parseServeConfig } from '../../src/serve/config.js';
import { type Logger, type LogLevel, silentLogger } from '../../src/serve/log.js';
import { startTarget, type Target } from './serve-target.js';
import { scrapeOf, seededDir, serveSettings, sidecarClient, waitReady } from './sidecar.js';

const seeded = seededDir('tw-serve-forecast-failure-');
const data = join(seeded.dir, 'data');
let target: Target;

beforeAll(async () => {
  target = await startTarget();
  await target.setConnections(2);
});

afterAll(async () => {
  await target?.close();
  seeded.remove();
});

const settings = (extra: Record<string, unknown>) =>
  parseServeConfig(
    serveSettings({ source: scrapeOf(target), historyPoints: 5000, dataDir: data, ...extra }),
  );

describe('a kept model that cannot forecast', () => {
  it('is reported on /forecast and logged once, without a retraining per tick', async () => {
    // A first run trains and saves a model.
    const first = createSidecar(settings({ seed: { file: seeded.seedFile } }), {
      log: silentLogger,
    });
    const { url: firstUrl } = await first.start();
    await waitReady(firstUrl);
    await pollUntil(
      async () => existsSync(join(data, 'model.json')),
      (v) => v,
      { description: 'the saved model' },
    );
    await first.stop();
    writeFileSync(join(data, 'history.json'), '{"format":"tidewatch-history","vers');

    const lines: Array<{ level: LogLevel; msg: string; fields: Record<string, unknown> }> = [];
    const log: Logger = { log: (level, msg, fields = {}) => lines.push({ level, msg, fields }) };
    const second = createSidecar(settings({}), { log });
    try {
      const { url } = await second.start();
      const client = sidecarClient(() => url);
      expect(lines.map((l) => l.msg)).toContain('saved model loaded');
      expect(lines.map((l) => l.msg)).toContain(
        'history file unusable: moved aside, starting empty',
      );
      // Forecasts every 2 s: 10 collections are at least 4 forecast ticks that failed.
      await pollUntil(
        client.metrics,
        (m) => (m.get('tidewatch_history_points{metric="realtime_connections"}') ?? 0) >= 10,
        { description: '10 collected points' },
      );
      const doc = await client.forecast();
      expect(doc.reasonCodes).toContain('forecast_failed');
      expect(doc.reasons).toContain(
        'forecast failed: too little history after aligning to the model calendar: retrain needed',
      );
      const failures = lines.filter((l) => l.msg.startsWith('forecast failed'));
      expect(failures).toEqual([
        {
          level: 'warn',
          msg: 'forecast failed',
          fields: {
            error: 'too little history after aligning to the model calendar: retrain needed',
            failures: 1,
            retrainWhenPoints: 378,
          },
        },
      ]);
      expect(lines.filter((l) => l.msg === 'training started')).toEqual([]);
    } finally {
      await second.stop();
    }
  });
});
