// Helpers shared by the scale benchmarks' drivers: HTTP scrapes, docs sections, formatting.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { installedVersion, ROOT } from '../common/resolve.mjs';
import { percentile, sumPromText } from '../common/util.mjs';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** GET http://127.0.0.1:port/metrics; resolves {ms, bytes, text}. Rejects on non-200. */
export function scrape(port) {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        if (res.statusCode !== 200) return reject(new Error(`/metrics answered ${res.statusCode}`));
        resolve({ ms: performance.now() - t0, bytes: body.length, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('/metrics timed out after 30 s')));
    req.on('error', reject);
  });
}

/** Frees the keep-alive socket so the driver can exit. */
export function closeScrapeAgent() {
  agent.destroy();
}

/**
 * Replaces the `<!-- name:start -->…<!-- name:end -->` block of docs/benchmarks.md, appending a
 * `## title` section with the markers when it does not exist yet.
 */
export function writeDocsSection(name, title, body, file = path.join(ROOT, 'docs/benchmarks.md')) {
  const a = `<!-- ${name}:start -->`;
  const b = `<!-- ${name}:end -->`;
  let text = fs.readFileSync(file, 'utf8');
  if (!text.includes(a)) text = `${text.trimEnd()}\n\n## ${title}\n\n${a}\n${b}\n`;
  text = `${text.slice(0, text.indexOf(a) + a.length)}\n${body}\n${text.slice(text.indexOf(b))}`;
  fs.writeFileSync(file, text);
}

/** Writes bench/results/<name>.json (gitignored raw results the summary reads). */
export function writeResults(name, data, file) {
  const out = file ?? path.join(ROOT, 'bench/results', `${name}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(data, null, 2)}\n`);
  return out;
}

/** One line naming the machine and the software versions, for the docs. */
export function machineLine() {
  const cpu = os.cpus()[0]?.model?.trim() ?? 'cpu';
  return `Run ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; ws ${installedVersion('ws')}, prom-client ${installedVersion('prom-client')}.`;
}

/** Thousands separators, `d` decimals. */
export function fmt(x, d = 0) {
  if (!Number.isFinite(x)) return 'n/a';
  return x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** Least-squares slope of y over x. */
export function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

/** Nearest-rank percentile of an unsorted array (util's percentile wants it sorted). */
export function pct(xs, p) {
  return percentile(
    [...xs].sort((a, b) => a - b),
    p,
  );
}

/** Sum of a metric's samples whose labels contain `needle`; 0 when there is none. */
export function sumOr0(text, name, needle = '') {
  const v = sumPromText(text, name, needle);
  return Number.isNaN(v) ? 0 : v;
}
