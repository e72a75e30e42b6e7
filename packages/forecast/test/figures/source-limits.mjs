#!/usr/bin/env node
/**
 * Figures for the source limits: against a built forecast dist, the peak RSS growth and the
 * time to the first counted error of a scrape source facing (a) an endless /metrics body,
 * (b) a 300 MB body (with and without Content-Length) and of a prometheus source facing
 * (c) a query_range answer of 5 million points.
 *
 *   node packages/forecast/test/figures/source-limits.mjs [--dist DIR] [--limit-s 20] [--limit-mb 2048]
 *
 * Each case runs in a fresh child process (so its peak RSS is its own), against a fake target
 * in another child process (whose memory does not count). The parent reads the measured
 * child's RSS from /proc (Linux), which works even while the child's event loop is blocked,
 * and stops a case after --limit-s seconds or --limit-mb MB of growth, reporting it as
 * "no error after N s". `--dist` points at another build, e.g. the pre-change tree's.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const dist = path.resolve(arg('--dist', path.join(here, '../../dist')));
const limitS = Number(arg('--limit-s', '20'));
const limitMb = Number(arg('--limit-mb', '2048'));
const MB = 1024 * 1024;
const STEP_S = 60;
const T0_S = 1_700_000_040;

/** The cases: what the fake answers, which source reads it, with which timeout. */
const CASES = [
  { name: '(a) endless body, ~32 MB/s', path: '/endless-fast', kind: 'scrape', timeoutMs: 5000 },
  { name: '(a) endless body, 10 KB/s', path: '/endless-slow', kind: 'scrape', timeoutMs: 5000 },
  { name: '(b) 300 MB, Content-Length', path: '/huge-length', kind: 'scrape', timeoutMs: 5000 },
  { name: '(b) 300 MB, chunked', path: '/huge-chunked', kind: 'scrape', timeoutMs: 5000 },
  { name: '(c) query_range, 5M points', path: '', kind: 'prometheus', timeoutMs: 30000 },
];

// ---------------------------------------------------------------- the fake target (--serve)

const FILLER = Buffer.from('# filler line of an oversized /metrics body\n'.repeat(1490));

/** Writes `next()` chunks with backpressure until it returns undefined or the client leaves. */
function pump(res, next) {
  let closed = false;
  res.once('close', () => {
    closed = true;
  });
  const write = () => {
    while (!closed) {
      const chunk = next();
      if (chunk === undefined) return res.end();
      if (!res.write(chunk)) return res.once('drain', write);
    }
  };
  write();
}

function serve() {
  const server = http.createServer((req, res) => {
    req.resume();
    const url = new URL(req.url, 'http://x');
    const text = { 'content-type': 'text/plain; version=0.0.4' };
    if (url.pathname.startsWith('/endless')) {
      res.writeHead(200, text);
      const fast = url.pathname === '/endless-fast';
      const chunk = FILLER.subarray(0, fast ? 65_536 : 1_024);
      const timer = setInterval(() => res.write(chunk), fast ? 2 : 100);
      return res.once('close', () => clearInterval(timer));
    }
    if (url.pathname.startsWith('/huge')) {
      let left = 300 * 1000 * 1000;
      res.writeHead(
        200,
        url.pathname === '/huge-length' ? { ...text, 'content-length': left } : text,
      );
      return pump(res, () => {
        if (left <= 0) return undefined;
        const chunk = FILLER.subarray(0, Math.min(left, FILLER.length));
        left -= chunk.length;
        return chunk;
      });
    }
    if (url.pathname === '/api/v1/query_range') {
      const start = Number(url.searchParams.get('start'));
      const step = Number(url.searchParams.get('step'));
      res.writeHead(200, { 'content-type': 'application/json' });
      let k = 0;
      let stage = 0;
      return pump(res, () => {
        if (stage === 0) {
          stage = 1;
          return Buffer.from(
            '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[',
          );
        }
        if (stage === 1 && k < 5_000_000) {
          const parts = [];
          for (let n = 0; n < 4_000 && k < 5_000_000; n++, k++)
            parts.push(`${k ? ',' : ''}[${start + k * step},"${(k % 997) + 0.5}"]`);
          return Buffer.from(parts.join(''));
        }
        if (stage === 1) {
          stage = 2;
          return Buffer.from(']}]}}');
        }
        return undefined;
      });
    }
    res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1', () => console.log(`PORT ${server.address().port}`));
}

// ---------------------------------------------------------------- one measured case (--case)

async function measure(which, url) {
  const c = CASES[Number(which)];
  const forecast = await import(pathToFileURL(path.join(dist, 'index.js')).href);
  let run;
  if (c.kind === 'scrape') {
    const store = forecast.createHistoryStore({ stepMs: 5000 });
    const s = forecast.createScraper({
      urls: [`${url}${c.path}`],
      metric: 'realtime_connections',
      kind: 'gauge',
      intervalMs: 5000,
      timeoutMs: c.timeoutMs,
      store,
      seriesName: 'load',
    });
    run = async () => {
      await s.scrapeOnce();
      const [error] = s.lastErrors.values();
      return error ? error.message : 'no error';
    };
  } else {
    const src = forecast.createPrometheusSource({ url, query: 'up', stepMs: STEP_S * 1000 });
    run = () =>
      src.read({ startMs: T0_S * 1000, endMs: (T0_S + 9 * STEP_S) * 1000 }).then(
        () => 'no error',
        (e) => `${e.message} (${src.requests} request${src.requests === 1 ? '' : 's'})`,
      );
  }
  globalThis.gc?.();
  console.log(`READY ${process.memoryUsage().rss}`);
  const t0 = performance.now();
  const message = await run();
  console.log(`DONE ${Math.round(performance.now() - t0)} ${message}`);
  process.exit(0);
}

// ---------------------------------------------------------------- the parent

/** VmRSS and VmHWM (peak) of a process, bytes, from /proc. */
function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
  } catch {
    return undefined;
  }
}

/** Resolves with the first line of `child`'s stdout starting with `prefix`. */
function lineOf(child, prefix) {
  return new Promise((resolve) => {
    let buffered = '';
    const onData = (data) => {
      buffered += data;
      for (const line of buffered.split('\n'))
        if (line.startsWith(prefix)) {
          child.stdout.off('data', onData);
          return resolve(line.slice(prefix.length + 1));
        }
    };
    child.stdout.on('data', onData);
    child.once('exit', () => resolve(undefined));
  });
}

async function runCase(index, url) {
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      fileURLToPath(import.meta.url),
      '--case',
      String(index),
      '--url',
      url,
      '--dist',
      dist,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  child.stdout.setEncoding('utf8');
  const ready = await lineOf(child, 'READY');
  if (ready === undefined) return { error: 'the case did not start', growthMb: 0 };
  const baseline = Number(ready);
  const started = Date.now();
  const done = lineOf(child, 'DONE');
  let result;
  let peak = baseline;
  for (;;) {
    const mem = memoryOf(child.pid);
    if (mem) peak = Math.max(peak, mem.peak, mem.rss);
    const finished = await Promise.race([done, new Promise((r) => setTimeout(() => r(null), 50))]);
    if (finished !== null) {
      if (finished !== undefined) {
        const [ms, ...message] = finished.split(' ');
        result = { ms: Number(ms), message: message.join(' ') };
      }
      break;
    }
    const elapsed = (Date.now() - started) / 1000;
    if (elapsed > limitS || (mem && mem.rss - baseline > limitMb * MB)) {
      result = { stopped: `no error after ${elapsed.toFixed(1)} s` };
      break;
    }
  }
  const last = memoryOf(child.pid);
  if (last) peak = Math.max(peak, last.peak);
  child.kill('SIGKILL');
  return { ...result, growthMb: (peak - baseline) / MB };
}

async function main() {
  const server = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  server.stdout.setEncoding('utf8');
  const url = `http://127.0.0.1:${await lineOf(server, 'PORT')}`;
  console.log(`dist: ${dist}`);
  console.log(
    'case                            | timeout | first counted error   | peak RSS growth | error',
  );
  console.log(
    '--------------------------------|---------|-----------------------|-----------------|------',
  );
  for (const [i, c] of CASES.entries()) {
    const r = await runCase(i, url);
    const when = r.ms !== undefined ? `${(r.ms / 1000).toFixed(2)} s` : (r.stopped ?? r.error);
    console.log(
      `${c.name.padEnd(32)}| ${`${c.timeoutMs / 1000} s`.padEnd(8)}| ${when.padEnd(22)}| ${`+${r.growthMb.toFixed(0)} MB`.padEnd(16)}| ${r.message ?? ''}`,
    );
  }
  server.kill('SIGKILL');
}

if (args.includes('--serve')) serve();
else if (args.includes('--case')) await measure(arg('--case'), arg('--url'));
else await main();
