/**
 * `tidewatch-predictor serve` as a real process (dist/cli.js; needs `npx tsup` first):
 * configuration errors, warming up, SIGTERM (exit 0, history complete), restart from the
 * persisted history and model, and `kill -9` at random moments while it persists.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHistoryStore, decodeHistory } from '@tidewatch/forecast';
import { pollUntil } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warmingEstimate } from '../../src/serve/warming.js';
import type { Target } from './serve-target.js';
import {
  logLines,
  request,
  seededDir,
  seedValues,
  startServe as serve,
  sidecarClient,
  startProcessTarget,
  stopProcesses,
  waitReady,
  writeServeConfig,
} from './sidecar.js';

const seeded = seededDir('tw-serve-proc-');
const { dir, seedFile } = seeded;

let target: Target;
beforeAll(async () => {
  target = await startProcessTarget();
});
afterAll(() => stopProcesses(target, seeded));

/** Writes a config file named `name` in the test's temp dir. */
const configFile = (name: string, extra: Record<string, unknown> = {}) =>
  writeServeConfig(dir, name, extra);

const metricsOf = (url: string) => sidecarClient(() => url).metrics();
const historyLength = (file: string) => {
  const snap = decodeHistory(readFileSync(file, 'utf8'), file);
  return snap.series.find((s) => s.name === 'realtime_connections')?.values.length ?? 0;
};

describe('serve process', () => {
  it('a bad setting exits 1 with one line naming it', async () => {
    const run = serve(['--scrape', target.metricsUrl], { TIDEWATCH_PORT: 'x' });
    expect((await run.exited).code).toBe(1);
    expect(run.stderr()).toBe(
      'tidewatch-predictor: TIDEWATCH_PORT: listen.port must be an integer 0..65535, got "x"\n',
    );
  });

  it('without history it serves, says why it is not ready, and exits 0 on SIGTERM', async () => {
    // A typo'd variable is warned about in the log, with the name it probably meant.
    const run = serve(['--config', configFile('empty'), '--scrape', target.metricsUrl], {
      TIDEWATCH_SCRAPE_URL: 'http://127.0.0.1:1/metrics',
    });
    const url = await run.url;
    // Before the first collection the reason is "no current observation"; then it is this.
    const res = await pollUntil(
      () => request(`${url}/readyz`),
      (r) =>
        r.status === 503 && JSON.parse(r.text).reason.startsWith('no forecast yet; too little'),
      { description: 'the warming reason' },
    );
    // Shortest candidate (seasonal naive weekly, 168) + 7 backtest origins of 30 steps, and
    // the time that takes at one point per 1 s step.
    const body = JSON.parse(res.text);
    const held = body.warming.pointsHeld as number;
    const warming = warmingEstimate(held, 378, 1);
    expect(body).toEqual({
      ready: false,
      reason: `no forecast yet; too little history: ${held} points, need 378 to train (${warming.timeLeft})`,
      warming,
    });
    expect(warming.timeLeft).toMatch(/^about (\d+ min )?\d+ s at one point a second$/);
    // The log says it too, once, when the sidecar starts listening.
    const logged = logLines(run).filter((l) => l.msg.startsWith('warming up'));
    expect(logged).toHaveLength(1);
    const first = warmingEstimate(logged[0]?.pointsHeld as number, 378, 1);
    expect(logged[0]).toMatchObject({
      level: 'info',
      msg: `warming up: first training in ${first.timeLeft}`,
      ...first,
    });
    expect(JSON.parse((await request(`${url}/forecast`)).text).status).toBe('warming');
    run.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    const warnings = logLines(run).filter((entry) => entry.level === 'warn');
    expect(warnings.map((w) => w.msg)).toContain(
      'unknown variable TIDEWATCH_SCRAPE_URL ignored; did you mean TIDEWATCH_SCRAPE_URLS?',
    );
  });

  const data = join(dir, 'data');
  const historyFile = join(data, 'history.json');

  it('SIGTERM exits 0 with the history file complete, and a restart resumes from it', async () => {
    const config = configFile('seeded', { seed: { file: seedFile } });
    const first = serve(['--config', config, '--scrape', target.metricsUrl, '--data-dir', data]);
    const url = await first.url;
    await waitReady(url);
    const served = await pollUntil(
      () => metricsOf(url),
      (m) => (m.get('tidewatch_history_points{metric="realtime_connections"}') ?? 0) >= 1012,
      {
        description: 'live points',
      },
    );
    const points = served.get('tidewatch_history_points{metric="realtime_connections"}') as number;
    first.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    const snap = decodeHistory(readFileSync(historyFile, 'utf8'), historyFile);
    const values = Array.from(snap.series[0]?.values ?? []);
    expect(values.length).toBeGreaterThanOrEqual(points);
    expect(values.slice(0, 1008)).toEqual(seedValues(1008));
    expect(values.at(-1)).toBe(2);
    expect(existsSync(join(data, 'model.json'))).toBe(true);

    // The restart is ready from the saved model: no training in this process.
    const second = serve(['--config', config, '--scrape', target.metricsUrl, '--data-dir', data]);
    const url2 = await second.url;
    await waitReady(url2, 15_000);
    const m = await metricsOf(url2);
    expect(m.get('tidewatch_train_runs_total{outcome="success"}')).toBe(0);
    expect(m.get('tidewatch_history_points{metric="realtime_connections"}')).toBeGreaterThanOrEqual(
      values.length,
    );
    second.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });

  it('kill -9 at random moments while persisting: the next start loads the last good state', async () => {
    const config = configFile('killed', { seed: { file: seedFile } });
    const data = join(dir, 'killed');
    const historyFile = join(data, 'history.json');
    for (let round = 0; round < 4; round++) {
      const run = serve(['--config', config, '--scrape', target.metricsUrl, '--data-dir', data]);
      const url = await run.url;
      await waitReady(url);
      // Persisting happens every step (1 s): kill somewhere inside the next second or two.
      const savedBefore = readFileSync(historyFile, 'utf8').length;
      await pollUntil(
        async () => readFileSync(historyFile, 'utf8').length,
        (n) => n !== savedBefore,
        {
          description: 'a new write',
          intervalMs: 50,
        },
      );
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 1500)));
      const persisted = historyLength(historyFile);
      run.kill('SIGKILL');
      expect((await run.exited).signal).toBe('SIGKILL');
      // Atomic writes: the file is whole (decodes, checksum ok) and not shorter than last seen.
      const after = historyLength(historyFile);
      expect(after).toBeGreaterThanOrEqual(persisted);
      const next = serve(['--config', config, '--scrape', target.metricsUrl, '--data-dir', data]);
      const url2 = await next.url;
      const m = await metricsOf(url2);
      expect(
        m.get('tidewatch_history_points{metric="realtime_connections"}'),
      ).toBeGreaterThanOrEqual(after);
      expect(next.stderr()).not.toMatch(/"level":"error"/);
      next.kill('SIGTERM');
      expect((await next.exited).code).toBe(0);
    }
    // Temp files of the writes the kills interrupted were removed by the next start.
    expect(readdirSync(data).filter((f) => /\.json\.\d+$/.test(f))).toEqual([]);
  });

  it('a corrupt history file is moved aside; one written with another step stops the start', async () => {
    const corrupt = join(dir, 'corrupt');
    mkdirSync(corrupt);
    writeFileSync(join(corrupt, 'history.json'), '{"format":"tidewatch-history","vers');
    const run = serve([
      '--config',
      configFile('corrupt'),
      '--scrape',
      target.metricsUrl,
      '--data-dir',
      corrupt,
    ]);
    await run.url;
    expect(readdirSync(corrupt).filter((f) => f.startsWith('history.json.corrupt-'))).toHaveLength(
      1,
    );
    expect(run.stderr()).toContain('"msg":"history file unusable: moved aside, starting empty"');
    run.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);

    const other = join(dir, 'other-step');
    mkdirSync(other);
    const store = createHistoryStore({ stepMs: 60_000, file: join(other, 'history.json') });
    store.append('realtime_connections', 1_800_000_000_000, 5);
    await store.persist();
    const refused = serve([
      '--config',
      configFile('other-step'),
      '--scrape',
      target.metricsUrl,
      '--data-dir',
      other,
    ]);
    expect((await refused.exited).code).toBe(1);
    expect(refused.stderr().trim().split('\n').at(-1)).toBe(
      `tidewatch-predictor: cannot start: history file ${join(other, 'history.json')} was written with stepMs 60000, but this store uses stepMs 1000; use the same step or move the file away`,
    );
  });
});
