/** Plain-text tables for the CLI's default (human) output. No colours: output is often piped. */
import type { BacktestReport, ForecastResult } from '@tidewatch/forecast';

/** Marks the selected model's row in the backtest table. */
export const SELECTED_MARK = '*';

/** Column alignment. */
export type Align = 'left' | 'right';

/**
 * Renders rows as aligned columns separated by two spaces, with the header and a dashed rule
 * on top. Trailing spaces are trimmed. `align` defaults to left for every column.
 */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) =>
    widths
      .map((w, c) => {
        const cell = cells[c] ?? '';
        return align[c] === 'right' ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  // An unnamed column (the selected marker) gets no rule: a lone dash would read as a value.
  const rule = line(widths.map((w, c) => (headers[c] ? '-'.repeat(w) : '')));
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/**
 * The backtest as a table: model, MASE, WAPE %, p90 coverage %, fit time, the selected row
 * marked with {@link SELECTED_MARK}, then a summary line and any skipped models.
 */
export function renderBacktest(report: BacktestReport): string {
  const rows = report.models.map((m) => [
    m.model === report.selected ? SELECTED_MARK : '',
    m.model,
    fixed(m.mase, 3),
    fixed(m.wape * 100, 2),
    fixed(m.coverage90 * 100, 1),
    duration(m.fitMs),
  ]);
  const table = renderTable(['', 'model', 'MASE', 'WAPE %', 'p90 cov %', 'fit time'], rows, [
    'left',
    'left',
    'right',
    'right',
    'right',
    'right',
  ]);
  const lines = [
    table,
    '',
    `${SELECTED_MARK} selected: ${report.selected} (lowest MASE; MASE < 1 beats weekly seasonal naive in-sample)`,
    `backtest: ${report.origins} origins, horizon ${report.horizon} steps of ${report.step} s`,
  ];
  const byStep = report.models.find((m) => m.model === report.selected)?.coverage90ByStep ?? [];
  if (byStep.length > 0)
    lines.push(`p90 coverage of ${report.selected} by steps ahead: ${coverageByLead(byStep)}`);
  for (const s of report.skipped)
    lines.push(`skipped ${s.model}: needs ${s.needs} points of history`);
  return `${lines.join('\n')}\n`;
}

/**
 * Coverage per horizon step summarised in (at most) four spans of lead time, e.g.
 * `1-6: 92.9 %, 7-12: 90.5 %, 13-18: 88.1 %, 19-24: 86.9 %`: a band can be right on
 * average and too narrow at the lead time scaling reads.
 */
export function coverageByLead(byStep: readonly number[]): string {
  const n = byStep.length;
  const spans = Math.min(4, n);
  const parts: string[] = [];
  for (let q = 0; q < spans; q++) {
    const a = Math.floor((q * n) / spans);
    const b = Math.floor(((q + 1) * n) / spans);
    const mean = byStep.slice(a, b).reduce((x, y) => x + y, 0) / (b - a);
    parts.push(`${a + 1 === b ? `${b}` : `${a + 1}-${b}`}: ${fixed(mean * 100, 1)} %`);
  }
  return parts.join(', ');
}

/**
 * The forecast as a table of timestamp, p50, p90, preceded by the chosen model and, when the
 * model was chosen automatically, the backtest that chose it.
 */
export function renderForecast(result: ForecastResult): string {
  const parts: string[] = [];
  if (result.backtest) parts.push(renderBacktest(result.backtest));
  const how = result.backtest ? 'chosen by backtest' : 'as requested';
  parts.push(
    `model: ${result.model} (${how}), step ${result.step} s, ${result.forecast.length} steps ahead`,
    '',
  );
  const rows = result.forecast.map((p) => [p.timestamp, value(p.p50), value(p.p90)]);
  parts.push(renderTable(['timestamp', 'p50', 'p90'], rows, ['left', 'right', 'right']));
  return `${parts.join('\n')}\n`;
}

/** A fit time: milliseconds below a second, else seconds with one decimal. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function fixed(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}

/** A forecast value with precision that suits its size (load ranges from 0.01 to 1e6). */
function value(v: number): string {
  const a = Math.abs(v);
  return fixed(v, a >= 100 ? 1 : a >= 1 || a === 0 ? 2 : 4);
}
