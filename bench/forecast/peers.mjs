// Classical forecasting peers for bench/forecast: AutoETS, AutoTheta, MSTL and AutoARIMA as
// computed by Hyndman's R `forecast` package (Debian r-cran-forecast 8.20), the reference
// implementation statsforecast ports. What each model does is documented at the top of
// peers.R. Data goes to Rscript through temp JSON files, never the network.
//
//   import { ensurePeers, runPeers, loadRDataset, recommendedWindow } from './peers.mjs';
//   await ensurePeers();
//   const res = await runPeers([{ id, values, periods: [48, 336], origins, horizon: 48 }]);
//   res[id].AutoETS.p50[originIndex][k]
//
// Budget. CPU seconds per origin (test-peers.mjs and /tmp measurements for issue 17; wall
// time equals CPU time on an idle machine, one job per core with parallel = 2):
//   series (points fitted)                ETS    Theta  MSTL   ARIMA selection | re-applied
//   hourly [24,168] (1,400-4,300)         1.4-5.5 0.01  0.1    3-12            | 0.02
//   half-hourly taylor [48,336] (3,900)   0.45   0.10   0.22   13              | 0.03
//   daily [7,365] (5,500-7,300)           3.7-4.5 0.04  0.4-0.6 3-4            | 0.03
//   per minute [1440,10080] (30,240)      0.5-0.9 0.25  1.4    55-98           | 0.26
//   per minute, recommended window 21,600 0.6-0.8 0.17  0.4-1  36-40           | 0.26
// ETS on hourly data tries every seasonal ETS form at m = 24 (multiplicative ones too on
// positive data), hence its 1.4-5.5 s. Recommendations:
// - window: recommendedWindow(periods) = max(5000, 2 x longest period + shortest period). It
//   leaves hourly, half-hourly and daily series of a few thousand points whole and cuts
//   per-minute series to 15 days (21,600 points): two full weeks, so MSTL and the Fourier
//   AutoARIMA still see the weekly cycle, which they could not with a shorter window.
// - refitEvery (AutoARIMA only): default ceil(origins / 4), i.e. four full model selections per
//   series, the model re-applied with coefficients held in between (statsforecast's
//   cross_validation(refit = k)). Pass refitEvery: 1 for a selection at every origin; it costs
//   the selection time above at every origin. ETS, Theta and MSTL are refit at every origin.
//   `refitted` per origin marks the selections: report peer seconds per forecast over those.
// Jobs are started largest first (origins x points) so the two processes finish together.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Model names, in the order peers.R runs them. */
export const PEER_MODELS = ['AutoETS', 'AutoTheta', 'MSTL', 'AutoARIMA'];

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peers.R');
const PACKAGES = ['r-cran-forecast', 'r-cran-jsonlite'];

/**
 * Runs a command; resolves { code, stdout, stderr } (code -1 when it could not start). One
 * BLAS/OpenMP thread per process: runPeers parallelises over processes.
 */
function run(cmd, args, { onLine, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      const text = partial + d;
      const lines = text.split('\n');
      partial = lines.pop();
      for (const line of lines) {
        if (onLine && line.startsWith('@@')) onLine(line);
        else stderr += `${line}\n`;
      }
    });
    child.on('error', (err) => resolve({ code: -1, stdout, stderr: String(err.message) }));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr: stderr + partial }));
  });
}

const tail = (text, n = 5) => text.trim().split('\n').slice(-n).join(' | ');

async function checkR() {
  const r = await run('Rscript', [
    '-e',
    'suppressPackageStartupMessages({library(forecast); library(jsonlite)}); cat(as.character(packageVersion("forecast")))',
  ]);
  return r.code === 0 ? { ok: true, version: r.stdout.trim() } : { ok: false, why: tail(r.stderr) };
}

/**
 * Makes sure Rscript with the `forecast` and `jsonlite` packages works. When it does not and
 * this process runs as root, installs the Debian packages r-cran-forecast and r-cran-jsonlite
 * (apt-get install -y, after apt-get update when the first attempt fails).
 * @returns {Promise<string>} the forecast package version, e.g. "8.20"
 * @throws {Error} naming r-cran-forecast when R or the package is missing and cannot be installed
 */
export async function ensurePeers() {
  let check = await checkR();
  if (check.ok) return check.version;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `peers: Rscript with library(forecast) is not available (${check.why}); install the Debian package r-cran-forecast (apt-get install -y r-cran-forecast r-cran-jsonlite)`,
    );
  }
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', ...PACKAGES], { env });
  let apt = await install();
  if (apt.code !== 0) {
    // Stale or empty package lists (fresh containers): refresh once and retry.
    await run('apt-get', ['update'], { env });
    apt = await install();
  }
  check = await checkR();
  if (check.ok) return check.version;
  throw new Error(
    `peers: could not install r-cran-forecast (apt-get exit ${apt.code}: ${tail(apt.stderr)}; R: ${check.why})`,
  );
}

/**
 * The training window recommended for a series with these seasonal periods (in steps):
 * max(5000, 2 x longest + shortest). See the header of this file for why.
 * @param {number[]} periods seasonal periods in steps, e.g. [1440, 10080]
 * @returns {number} window length in steps
 */
export function recommendedWindow(periods) {
  return Math.max(5000, Math.ceil(2 * Math.max(...periods) + Math.min(...periods)));
}

function validate(jobs) {
  if (!Array.isArray(jobs)) throw new Error('runPeers: jobs must be an array');
  const ids = new Set();
  jobs.forEach((job, i) => {
    const where = `runPeers: jobs[${i}]`;
    const n = job?.values?.length;
    const posInt = (v) => Number.isInteger(v) && v > 0;
    if (typeof job?.id !== 'string' || job.id === '' || ids.has(job.id)) {
      throw new Error(`${where}.id must be a unique non-empty string`);
    }
    ids.add(job.id);
    if (!posInt(n) || n < 2) throw new Error(`${where}.values must hold at least 2 numbers`);
    if (!Array.isArray(job.periods) || !job.periods.every((p) => p >= 1)) {
      throw new Error(`${where}.periods must be an array of periods >= 1 (steps)`);
    }
    if (!posInt(job.horizon)) throw new Error(`${where}.horizon must be a positive integer`);
    if (!Array.isArray(job.origins) || job.origins.length === 0) {
      throw new Error(`${where}.origins must be a non-empty array`);
    }
    if (!job.origins.every((t) => Number.isInteger(t) && t >= 2 && t <= n)) {
      throw new Error(`${where}.origins must be integers in [2, values.length]`);
    }
    if (job.window !== undefined && !(posInt(job.window) && job.window >= 2)) {
      throw new Error(`${where}.window must be an integer >= 2`);
    }
    if (job.refitEvery !== undefined && !posInt(job.refitEvery)) {
      throw new Error(`${where}.refitEvery must be a positive integer`);
    }
  });
}

const toNum = (v) => (v === null || v === undefined ? Number.NaN : v);

function failed(job, message) {
  const nan = () => job.origins.map(() => new Array(job.horizon).fill(Number.NaN));
  const model = () => ({
    p50: nan(),
    p90: nan(),
    seconds: job.origins.map(() => Number.NaN),
    cpuSeconds: job.origins.map(() => Number.NaN),
    refitted: job.origins.map(() => false),
    error: message,
  });
  return Object.fromEntries(PEER_MODELS.map((m) => [m, model()]));
}

function parseResult(job, raw) {
  const out = {};
  for (const m of PEER_MODELS) {
    const r = raw?.[m];
    if (!r) {
      out[m] = failed(job, 'peers.R returned no result for this model')[m];
      continue;
    }
    out[m] = {
      p50: r.p50.map((row) => row.map(toNum)),
      p90: r.p90.map((row) => row.map(toNum)),
      seconds: r.seconds.map(toNum),
      cpuSeconds: r.cpuSeconds.map(toNum),
      refitted: r.refitted.map(Boolean),
    };
    if (r.error) out[m].error = Array.isArray(r.error) ? r.error.join('; ') : String(r.error);
  }
  return out;
}

/**
 * Forecasts every job with the four classical peers, each origin fitted on y[0..t) (or its
 * last `window` points). Runs up to `parallel` Rscript processes, one job per process. A model
 * that fails at an origin gets NaN there and an `error` text; a process that dies gets NaN
 * everywhere for its job. Never rejects because of a fit.
 * @param {Array<{id: string, values: Float64Array|number[], periods: number[], origins: number[],
 *   horizon: number, window?: number, refitEvery?: number}>} jobs periods and window in steps;
 *   origin t forecasts y[t..t+h) (y beyond the series is not needed)
 * @param {{parallel?: number, onProgress?: (p: {id: string, model: string, origin: number,
 *   seconds: number, done: number, total: number}) => void, refitEvery?: number}} [options]
 *   parallel default 2; onProgress after each model-origin (done/total over the whole run);
 *   refitEvery default ceil(origins / 4) (AutoARIMA only; a job's own refitEvery wins)
 * @returns {Promise<Record<string, Record<string, {p50: number[][], p90: number[][],
 *   seconds: number[], cpuSeconds: number[], refitted: boolean[], error?: string}>>>}
 *   per job id, per model; p50/p90 are [origin][k], p90 the upper bound of the 80 % interval
 * @throws {Error} on invalid jobs (naming the field) or when Rscript cannot start
 */
export async function runPeers(jobs, { parallel = 2, onProgress, refitEvery } = {}) {
  validate(jobs);
  if (!Number.isInteger(parallel) || parallel < 1) {
    throw new Error('runPeers: options.parallel must be a positive integer');
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tidewatch-peers-'));
  const total = jobs.reduce((s, j) => s + j.origins.length * PEER_MODELS.length, 0);
  let done = 0;
  const results = {};
  const cost = (j) => j.origins.length * Math.min(j.values.length, j.window ?? Infinity);
  const order = jobs.map((_, k) => k).sort((a, b) => cost(jobs[b]) - cost(jobs[a]));
  let next = 0;
  const worker = async () => {
    while (next < order.length) {
      const k = order[next++];
      const job = jobs[k];
      const input = path.join(dir, `in-${k}.json`);
      const output = path.join(dir, `out-${k}.json`);
      const spec = {
        id: job.id,
        values: Array.from(job.values),
        periods: job.periods,
        origins: job.origins,
        horizon: job.horizon,
        window: job.window,
        refitEvery: job.refitEvery ?? refitEvery ?? Math.max(1, Math.ceil(job.origins.length / 4)),
      };
      await fs.writeFile(input, JSON.stringify({ jobs: [spec] }));
      const onLine = (line) => {
        const [, , model, origin, seconds] = line.split(' ');
        done++;
        onProgress?.({
          id: job.id,
          model,
          origin: Number(origin),
          seconds: Number(seconds),
          done,
          total,
        });
      };
      const r = await run('Rscript', [SCRIPT, 'run', input, output], { onLine });
      if (r.code === -1 && /ENOENT/.test(r.stderr)) {
        throw new Error('runPeers: Rscript not found; call ensurePeers() (r-cran-forecast)');
      }
      let raw;
      try {
        raw = r.code === 0 ? JSON.parse(await fs.readFile(output, 'utf8'))[job.id] : undefined;
      } catch (err) {
        raw = undefined;
        r.stderr += `\n${err.message}`;
      }
      results[job.id] = raw
        ? parseResult(job, raw)
        : failed(job, `Rscript peers.R exited with code ${r.code}: ${tail(r.stderr)}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return results;
}

/**
 * Loads a dataset shipped in an installed R package, e.g. loadRDataset('forecast', 'taylor')
 * (half-hourly electricity demand, England and Wales 2000, 4,032 points, msts 48 and 336).
 * @param {string} pkg R package name
 * @param {string} name dataset name in that package
 * @returns {Promise<{values: number[], frequency: number, start: number[], msts?: number[]}>}
 *   missing values as NaN; msts only for multi-seasonal (msts) series
 * @throws {Error} when the names are not R identifiers or R cannot load the dataset
 */
export async function loadRDataset(pkg, name) {
  const ident = /^[A-Za-z][A-Za-z0-9._]*$/;
  if (!ident.test(pkg)) throw new Error(`loadRDataset: pkg "${pkg}" is not an R package name`);
  if (!ident.test(name)) throw new Error(`loadRDataset: name "${name}" is not an R dataset name`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tidewatch-rdata-'));
  try {
    const output = path.join(dir, 'data.json');
    const r = await run('Rscript', [SCRIPT, 'dataset', pkg, name, output]);
    if (r.code !== 0) throw new Error(`loadRDataset(${pkg}, ${name}): ${tail(r.stderr)}`);
    const raw = JSON.parse(await fs.readFile(output, 'utf8'));
    const out = {
      values: raw.values.map(toNum),
      frequency: raw.frequency[0],
      start: raw.start,
    };
    if (raw.msts) out.msts = raw.msts;
    return out;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
