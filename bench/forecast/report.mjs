// Markdown for docs/benchmarks.md#forecast from a run of bench/forecast/run.mjs (and, with
// --before, the saved run of the old build beside it).

import fs from 'node:fs';

const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const arrow = (b, a, f = f3) => (b === undefined ? f(a) : `${f(b)} → **${f(a)}**`);

const TARGET = { lo: 0.88, hi: 0.94, lead: 0.9, seconds: 2 };

function headerRow() {
  return [
    '| series | points | MASE before → after | best classical peer (MASE) | after / peer | WAPE | p90 coverage before → after | p90 coverage by horizon quarter, before → after | seconds per forecast before → after (mean / max) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
}

function seriesRow(r, c) {
  // Before → after on the origins both runs share (all of them when the runs match).
  const o = c?.after ?? r.ours;
  const b = c?.before;
  const peer = r.bestPeer ? `${r.bestPeer.model} (${f3(r.bestPeer.mase)})` : 'not run';
  const buckets = o.coverageByBucket
    .map((x, i) => (b ? `${f2(b.coverageByBucket[i])}→${f2(x)}` : f2(x)))
    .join(', ');
  const secs = b
    ? `${f2(b.secondsMean)} / ${f2(b.secondsMax)} → **${f2(o.secondsMean)} / ${f2(o.secondsMax)}**`
    : `${f2(o.secondsMean)} / ${f2(o.secondsMax)}`;
  const ratio = r.ratio ? `${r.ratio.toFixed(2)}x` : '—';
  const note =
    c && c.common < c.total
      ? ` (before → after on the last ${c.common} of ${c.total} origins; peer and ratio on all ${c.total})`
      : '';
  return `| ${r.label}${r.calendar ? ' (with calendar)' : ''}${note} | ${r.ours.historyPoints.toLocaleString('en-US')} | ${arrow(b?.mase, o.mase)} | ${peer} | ${ratio} | ${(r.ours.wape * 100).toFixed(1)} % | ${arrow(b?.coverage90, o.coverage90)} | ${buckets} | ${secs} |`;
}

function peersTable(series) {
  const models = [...new Set(series.flatMap((r) => Object.keys(r.peers ?? {})))];
  if (!models.length) return [];
  const lines = [
    '',
    'The classical peers on the same origins (MASE / p90 coverage / mean seconds per forecast):',
    '',
    `| series | ours | ${models.join(' | ')} | seasonal naive weekly (MASE) |`,
    `|---|---|${models.map(() => '---|').join('')}---|`,
  ];
  for (const r of series) {
    const cell = (m) => {
      const p = r.peers?.[m];
      if (!p) return 'n/a';
      if (!Number.isFinite(p.mase)) return `error: ${String(p.error).slice(0, 40)}`;
      return `${f3(p.mase)} / ${f2(p.coverage90)} / ${f2(p.secondsMean)} s`;
    };
    lines.push(
      `| ${r.label} | ${f3(r.ours.mase)} / ${f2(r.ours.coverage90)} / ${f2(r.ours.secondsMean)} s | ${models.map(cell).join(' | ')} | ${f3(r.seasonalNaive.mase)} |`,
    );
  }
  return lines;
}

function targetsMet(series) {
  const cov = series.filter(
    (r) => r.ours.coverage90 >= TARGET.lo && r.ours.coverage90 <= TARGET.hi,
  ).length;
  const lead = series.filter((r) => r.ratio !== undefined && r.ratio <= TARGET.lead).length;
  const withPeer = series.filter((r) => r.ratio !== undefined).length;
  const fast = series.filter((r) => r.ours.secondsMax < TARGET.seconds).length;
  return `Met in this run: p90 coverage in range on ${cov} of ${series.length} series; MASE at least 10 % below the best classical peer on ${lead} of ${withPeer} series with peers; every forecast under 2 s on ${fast} of ${series.length} series.`;
}

/** The section between the forecast markers. */
export function sectionMarkdown(out, before, cmp = {}) {
  const prev = (id) => cmp[id];
  const worked = out.series.filter((r) => r.group === 'worked');
  const held = out.series.filter((r) => r.group === 'held-out');
  const lines = [
    `Run ${out.date.slice(0, 10)} on ${out.machine}; dist \`${out.dist}\` (band adaptation ${out.features.adaptation ? 'on' : 'absent'}, calendar ${out.features.calendar ? 'on' : 'absent'})${before ? `; before: \`${before.dist}\` run ${before.date.slice(0, 10)}` : ''}${out.quick ? ' **(--quick: smoke test, not the full protocol)**' : ''}.`,
    '',
    'Reproduce (about 30 minutes each on 2 cores; the peers run once and are cached in `bench/results/forecast-peers.json`):',
    '',
    '```sh',
    '# before: the build of 1d84dc8 (shards may run in parallel with --only and be passed comma-separated to --before)',
    'git worktree add /tmp/tw-before 1d84dc8 && (cd /tmp/tw-before && npm ci && npx turbo run build --filter=@tidewatch/forecast)',
    'node bench/forecast/run.mjs --dist /tmp/tw-before/packages/forecast/dist --save bench/results/forecast-before.json',
    'npm run build && node bench/forecast/run.mjs --write-docs --before bench/results/forecast-before.json',
    '```',
    '',
    'Protocol: at every outer origin t (the last origins of each series, one horizon apart; per minute twice a day over a week, each forecast seeing the last 3 weeks) `forecast()` gets the history before t and picks its model itself (automatic selection, the full pipeline a user runs), with the US holiday calendar (`bench/forecast/us-holidays.csv`) on the daily series when the build reads calendars, and the p90 band adaptation carried from origin to origin when the build has it, as the sidecar runs live. MASE is scaled by the in-sample weekly seasonal naive MAE before the first origin (lower is better); p90 coverage is the share of actuals at or below the p90, overall and per quarter of the horizon (first quarter of the steps … last; the per-step figures are in `bench/results/forecast.json`); seconds are wall time of one `forecast()` call, selection included; points = history length of the largest call. The classical peers (ETS, Theta, MSTL and ARIMA with automatic order selection from the R `forecast` package, the reference implementation that the statsforecast AutoETS, AutoTheta, MSTL and AutoARIMA port; `bench/forecast/peers.mjs`, `peers.R`) forecast from exactly the same origins and history; their p90 is the upper bound of the 80 % interval.',
    '',
    '**Series worked with** (design choices may have been tuned on them):',
    '',
    ...headerRow(),
    ...worked.map((r) => seriesRow(r, prev(r.id))),
    '',
    `**Held-out series**: ${held.length ? held.map((r) => r.label).join('; ') : 'not run'}. No choice in the forecaster was tuned on them; they were run only to report these figures.`,
    '',
    ...headerRow(),
    ...held.map((r) => seriesRow(r, prev(r.id))),
    ...peersTable(out.series),
    '',
    'Targets (issue 17), on every series: p90 coverage between 0.88 and 0.94, at no loss of MASE; MASE at least 10 % below the best classical peer (after / peer ≤ 0.90x); select-and-forecast under 2 s per forecast at 5,000 points.',
    '',
    targetsMet(out.series),
  ];
  const errs = out.series.filter((r) => r.ours.errors.length);
  if (errs.length)
    lines.push(
      '',
      `Failed origins: ${errs.map((r) => `${r.id} ${r.ours.errors.length}`).join(', ')}.`,
    );
  return lines.join('\n');
}

/** Rows in the shape bench/summary/run.mjs reads from bench/results/forecast.json. */
export function summaryRows(series) {
  return series.map((r) => {
    const chosen = Object.entries(r.ours.chosen).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'n/a';
    const sn = { model: 'seasonal-naive-weekly', mase: r.seasonalNaive.mase };
    const peers = Object.entries(r.peers ?? {})
      .filter(([, v]) => Number.isFinite(v.mase))
      .map(([model, v]) => ({ model, mase: v.mase }));
    return {
      label: `${r.label}${r.group === 'held-out' ? ' (held out)' : ''}`,
      selectedModel: `auto, mostly ${chosen}`,
      selected: { mase: r.ours.mase, coverage90: r.ours.coverage90 },
      bestBaseline: r.bestPeer ? { model: r.bestPeer.model, mase: r.bestPeer.mase } : sn,
      models: [sn, ...peers],
    };
  });
}

/**
 * Rewrites the forecast section between its markers in `file` and the summary table's block of
 * "Forecast MASE" rows (bench/summary/run.mjs regenerates those from forecast.json later).
 */
export function writeDocs(file, section, out, cmp) {
  let text = fs.readFileSync(file, 'utf8');
  const [a, b] = ['<!-- forecast:start -->', '<!-- forecast:end -->'];
  if (!text.includes(a)) text = `${text.trimEnd()}\n\n## forecast\n\n${a}\n${b}\n`;
  text = `${text.slice(0, text.indexOf(a) + a.length)}\n${section}\n${text.slice(text.indexOf(b))}`;
  // The summary's forecast rows: replace the contiguous block of "Forecast MASE" lines.
  const lines = text.split('\n');
  const idx = lines.flatMap((l, i) => (l.startsWith('| Forecast MASE') ? [i] : []));
  if (idx.length) {
    const cmd =
      '`node bench/forecast/run.mjs --write-docs --before bench/results/forecast-before.json`';
    const rows = out.series.map((r) => {
      const c = cmp[r.id];
      // Before and after on the same origins (a before run may hold fewer of them).
      const prev = c
        ? `; before → after on the same ${c.common} origins ${f3(c.before.mase)} → ${f3(c.after.mase)}`
        : '';
      return `| Forecast MASE (lower is better): ${r.label}${r.group === 'held-out' ? ' (held out)' : ''} | ${f3(r.ours.mase)} (p90 coverage ${f3(r.ours.coverage90)}, ${r.ours.secondsMean.toFixed(2)} s per forecast) | ${f3(r.seasonalNaive.mase)} (seasonal naive weekly) | ${r.bestPeer ? `${f3(r.bestPeer.mase)} (${r.bestPeer.model})` : 'not run'}${prev} | ${r.ratio ? `${r.ratio.toFixed(2)}x` : '—'} | ${cmd} |`;
    });
    lines.splice(idx[0], idx.at(-1) - idx[0] + 1, ...rows);
    text = lines.join('\n');
  }
  fs.writeFileSync(file, text);
  console.log(`wrote ${file} (forecast section, summary rows)`);
}
