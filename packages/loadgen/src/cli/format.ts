/** Human output of the CLI: the progress line and the final report as a table. No colours. */
import type { LoadReport } from '../report.js';

const ms = (v: number | null): string => (v === null ? '-' : `${v} ms`);

/**
 * One progress line: elapsed time, open connections, totals so far.
 * e.g. `[ 12.0s] open 40 (peak 52)  opened 310  failed 2  msgs 1200/1190  rtt p50 0.2 ms p99 1.3 ms`
 */
export function progressLine(r: LoadReport): string {
  const c = r.connections;
  return (
    `[${r.durationSeconds.toFixed(1).padStart(6)}s] open ${c.open} (peak ${c.peakOpen})` +
    `  opened ${c.opened}  failed ${c.failed}  reconnects ${c.reconnects}` +
    `  msgs ${r.messages.sent}/${r.messages.received}` +
    `  rtt p50 ${ms(r.rtt.p50Ms)} p99 ${ms(r.rtt.p99Ms)}`
  );
}

/** The final report as aligned `name  value` rows. */
export function renderReport(r: LoadReport): string {
  const c = r.connections;
  const failures = Object.entries(r.failuresByReason)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const rows: [string, string][] = [
    ['transport', r.transport],
    ['url', r.url],
    ['duration', `${r.durationSeconds.toFixed(2)} s`],
    [
      'connections',
      `attempted ${c.attempted}  opened ${c.opened}  failed ${c.failed} (rejected ${c.rejected})`,
    ],
    [
      'closed',
      `by client ${c.closedByClient}  by server ${c.closedByServer}  dropped ${c.dropped}`,
    ],
    ['reconnects', String(c.reconnects)],
    [
      'open / peak',
      `${c.open} / ${c.peakOpen}${c.skipped > 0 ? `  (skipped ${c.skipped} arrivals at max-concurrent)` : ''}`,
    ],
    ['messages', `sent ${r.messages.sent}  received ${r.messages.received}`],
    ['bytes', `sent ${r.bytes.sent}  received ${r.bytes.received}`],
    [
      'rtt',
      `n ${r.rtt.count}  p50 ${ms(r.rtt.p50Ms)}  p99 ${ms(r.rtt.p99Ms)}  max ${ms(r.rtt.maxMs)}`,
    ],
    [
      'heartbeats',
      `sent ${r.heartbeats.sent}  answered ${r.heartbeats.answered}  ping p50 ${ms(r.pingRtt.p50Ms)}  p99 ${ms(r.pingRtt.p99Ms)}`,
    ],
    ['failures', failures === '' ? 'none' : failures],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
