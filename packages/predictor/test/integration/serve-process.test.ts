/**
 * `tidewatch-predictor serve` as a real process (dist/cli.js; needs `npx tsup` first):
 * configuration errors, warming up, SIGTERM (exit 0, history complete), restart from the
 * persisted history and model, and `kill -9` at random moments while it persists.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHistoryStore, decodeHistory } from '@tidewatch/forecast';
import { pollUntil } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  FAST,
  request,
  samples,
  seedCsv,
  seedValues,
  startTarget,
  type Target,
} from './serve-target.js';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tw-serve-proc-'));
const seedFile = join(dir, 'seed.csv');
writeFileSync(seedFile, seedCsv(seedValues(1008)));

interface Running {
  child: ChildProcess;
  url: Promise<string>;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

/** Starts `serve` with `args`; `url` resolves from its "listening" log line. */
function serve(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [cli, 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  children.push(child);
  let err = '';
  let resolveUrl: (u: string) => void = () => {};
  const url = new Promise<string>((resolve) => {
    resolveUrl = resolve;
  });
  child.stderr?.on('data', (d) => {
    err += d;
    for (const line of err.split('\n')) {
      if (!line.startsWith('{')) continue;
      const parsed = JSON.parse(line) as { msg?: string; url?: string };
      if (parsed.msg === 'listening' && parsed.url) resolveUrl(parsed.url);
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, url, stderr: () => err, exit };
}

let target: Target;
beforeAll(async () => {
  if (!existsSync(cli))
    throw new Error(`${cli} is missing: run \`npx tsup\` in packages/predictor first`);
  target = await startTarget();
  await target.setConnections(2);
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await target?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a config file for a sidecar keeping its files in `dataDir`. */
function configFile(name: string, extra: Record<string, unknown> = {}): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({ ...FAST, listen: { host: '127.0.0.1', port: 0 }, historyPoints: 5000, ...extra }),
  );
  return file;
}

const metricsOf = async (url: string) => samples((await request(`${url}/metrics`)).text);
const historyLength = (file: string) => {
  const snap = decodeHistory(readFileSync(file, 'utf8'), file);
  return snap.series.find((s) => s.name === 'realtime_connections')?.values.length ?? 0;
};

describe('serve process', () => {
  it('a bad setting exits 1 with one line naming it', async () => {
    const run = serve(['--scrape', target.metricsUrl], { TIDEWATCH_PORT: 'x' });
    expect((await run.exit).code).toBe(1);
    expect(run.stderr()).toBe(
      'tidewatch-predictor: TIDEWATCH_PORT: must be an integer 0..65535, got "x"\n',
    );
  });

  it('without history it serves, says why it is not ready, and exits 0 on SIGTERM', async () => {
    const run = serve(['--config', configFile('empty'), '--scrape', target.metricsUrl]);
    const url = await run.url;
    // Before the first collection the reason is "no current observation"; then it is this.
    const res = await pollUntil(
      () => request(`${url}/readyz`),
      (r) =>
        r.status === 503 && JSON.parse(r.text).reason.startsWith('no forecast yet; too little'),
      { description: 'the warming reason' },
    );
    // Shortest candidate (seasonal naive weekly, 168) + 7 backtest origins of 30 steps.
    expect(JSON.parse(res.text).reason).toMatch(
      /^no forecast yet; too little history: \d+ points, need 378 to train$/,
    );
    expect(JSON.parse((await request(`${url}/forecast`)).text).status).toBe('warming');
    run.child.kill('SIGTERM');
    expect(await run.exit).toEqual({ code: 0, signal: null });
  });

  const data = join(dir, 'data');
  const historyFile = join(data, 'history.json');

  it('SIGTERM exits 0 with the history file complete, and a restart resumes from it', async () => {
    const config = configFile('seeded', { seed: { file: seedFile } });
    const first = serve(['--config', config, '--scrape', target.metricsUrl, '--data-dir', data]);
    const url = await first.url;
    await pollUntil(
      () => request(`${url}/readyz`),
      (r) => r.status === 200,
      { timeoutMs: 30_000, description: 'ready' },
    );
    const served = await pollUntil(
      () => metricsOf(url),
      (m) => (m.get('tidewatch_history_points{metric="realtime_connections"}') ?? 0) >= 1012,
      {
        description: 'live points',
      },
    );
    const points = served.get('tidewatch_history_points{metric="realtime_connections"}') as number;
    first.child.kill('SIGTERM');
    expect(await first.exit).toEqual({ code: 0, signal: null });
    const snap = decodeHistory(readFileSync(historyFile, 'utf8'), historyFile);
    const values = Array.from(snap.series[0]?.values ?? []);
    expect(values.length).toBeGreaterThanOrEqual(points);
    expect(values.slice(0, 1008)).toEqual(seedValues(1008));
    expect(values.at(-1)).toBe(2);
    expect(existsSync(join(data, 'model.json'))).toBe(true);

    // The restart is ready from the saved model: no training in this process.
    const second = serve(['--config', config, '--scrape', target.metricsUrl, '--data-dir', data]);
    const url2 = await second.url;
    await pollUntil(
      () => request(`${url2}/readyz`),
      (r) => r.status === 200,
      { timeoutMs: 15_000, description: 'ready again' },
    );
    const m = await metricsOf(url2);
    expect(m.get('tidewatch_train_runs_total{outcome="success"}')).toBe(0);
    expect(m.get('tidewatch_history_points{metric="realtime_connections"}')).toBeGreaterThanOrEqual(
      values.length,
    );
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
  });

  it('kill -9 at random moments while persisting: the next start loads the last good state', async () => {
    const config = configFile('killed', { seed: { file: seedFile } });
    const data = join(dir, 'killed');
    const historyFile = join(data, 'history.json');
    for (let round = 0; round < 4; round++) {
      const run = serve(['--config', config, '--scrape', target.metricsUrl, '--data-dir', data]);
      const url = await run.url;
      await pollUntil(
        () => request(`${url}/readyz`),
        (r) => r.status === 200,
        { timeoutMs: 30_000, description: 'ready' },
      );
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
      run.child.kill('SIGKILL');
      expect((await run.exit).signal).toBe('SIGKILL');
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
      next.child.kill('SIGTERM');
      expect((await next.exit).code).toBe(0);
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
    run.child.kill('SIGTERM');
    expect((await run.exit).code).toBe(0);

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
    expect((await refused.exit).code).toBe(1);
    expect(refused.stderr().trim().split('\n').at(-1)).toBe(
      `tidewatch-predictor: cannot start: history file ${join(other, 'history.json')} was written with stepMs 60000, but this store uses stepMs 1000; use the same step or move the file away`,
    );
  });
});
