/**
 * The page script's chart (browser JS in a string, see script.ts): actual load against the
 * forecast's p50, the p50..p90 band shaded, and a "now" line. uPlot draws on a canvas, so
 * the chart element also carries a text summary (aria-label plus a visible sentence).
 */
export const CHART_JS = String.raw`
var chart = null;
var nowSec = null;
var spanSec = null;   // how far the forecast reaches, seconds (null: no forecast)
var stepSec = 60;     // the sidecar's step, seconds
var xsNow = [];       // the chart's x values (seconds), for xRange
var HEIGHT = 400;
// History shown: this many forecast spans before "now", so the forecast takes a quarter of
// the width (24 h of forecast next to 72 h of history; 30 s next to 90 s), not a sliver.
var HISTORY_SPANS = 3;
// The narrowest time axis, in steps (and at least a minute): a fresh sidecar's single point
// gets a readable axis, not a zero-width range that uPlot would stretch from 1970.
var LEAST_STEPS = 10;
// uPlot's time axis formats (tick step in seconds, format, then the formats where the year,
// month or day rolls over): 24-hour times like the rest of the page, dates day first.
var TIME_VALUES = [
  [31536000, '{YYYY}', null, null, null, null, null, null, 1],
  [2419200, '{MMM}', '\n{YYYY}', null, null, null, null, null, 1],
  [86400, '{D} {MMM}', '\n{YYYY}', null, null, null, null, null, 1],
  [3600, '{HH}:{mm}', '\n{D} {MMM} {YYYY}', null, '\n{D} {MMM}', null, null, null, 1],
  [60, '{HH}:{mm}', '\n{D} {MMM} {YYYY}', null, '\n{D} {MMM}', null, null, null, 1],
  [1, '{HH}:{mm}:{ss}', '\n{D} {MMM} {YYYY}', null, '\n{D} {MMM}', null, null, null, 1],
];
var COLORS = { actual: '#111827', p50: '#2563eb', p90: '#60a5fa', band: 'rgba(37, 99, 235, 0.18)', now: '#b91c1c' };

/**
 * One x axis for both: the history and the forecast overlap once new data arrives after
 * the forecast was made, so points are merged by timestamp (seconds, uPlot's time unit).
 */
function chartData(d) {
  var rows = new Map();
  function row(iso) {
    var t = Date.parse(iso) / 1000;
    if (!isFinite(t)) return [null, null, null];
    var r = rows.get(t);
    if (!r) rows.set(t, (r = [null, null, null]));
    return r;
  }
  (d.history || []).forEach(function (h) { row(h.timestamp)[0] = numOrNull(h.value); });
  (d.forecast || []).forEach(function (f) {
    var r = row(f.timestamp);
    r[1] = numOrNull(f.p50);
    r[2] = numOrNull(f.p90);
  });
  var xs = Array.from(rows.keys()).sort(function (a, b) { return a - b; });
  return [xs].concat([0, 1, 2].map(function (k) {
    return xs.map(function (x) { return rows.get(x)[k]; });
  }));
}

/** The forecast's span, seconds: its points (before downsampling) times the step. */
function forecastSpanSeconds(d) {
  var fc = d.forecast || [];
  if (!fc.length || !isNum(d.step)) return null;
  if (d.view && isNum(d.view.forecastPoints) && d.view.forecastPoints > 0)
    return d.view.forecastPoints * d.step;
  var first = Date.parse(fc[0].timestamp);
  var last = Date.parse(fc[fc.length - 1].timestamp);
  return isFinite(first) && isFinite(last) ? (last - first) / 1000 + d.step : null;
}

/** The history to ask for, minutes (1..10080, what /forecast accepts); null without a forecast. */
function historyWindowMinutes(d) {
  var span = forecastSpanSeconds(d);
  if (span === null) return null;
  return Math.min(10080, Math.max(1, Math.ceil(HISTORY_SPANS * span / 60)));
}

/**
 * The x range: the history window and the forecast, "now" always in, never too narrow. From
 * the data itself, not uPlot's proposal: for a single point uPlot proposes that point plus
 * 86400 / 1e-3 s, a thousand days.
 */
function xRange() {
  var min = xsNow.length ? xsNow[0] : null;
  var max = xsNow.length ? xsNow[xsNow.length - 1] : null;
  var now = nowSec !== null ? nowSec : Date.now() / 1000;
  var lo = min === null ? now : Math.min(min, now);
  var hi = max === null ? now : Math.max(max, now);
  if (spanSec !== null) lo = Math.max(lo, now - HISTORY_SPANS * spanSec);
  var least = Math.max(LEAST_STEPS * stepSec, 60);
  if (hi - lo < least) lo = hi - least;
  return [lo, hi];
}

function drawNow(u) {
  if (nowSec === null) return;
  var x = Math.round(u.valToPos(nowSec, 'x', true));
  var box = u.bbox;
  if (x < box.left || x > box.left + box.width) return;
  var ratio = window.devicePixelRatio || 1;
  var ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = COLORS.now;
  ctx.lineWidth = 1.5 * ratio;
  ctx.setLineDash([5 * ratio, 4 * ratio]);
  ctx.beginPath();
  ctx.moveTo(x, box.top);
  ctx.lineTo(x, box.top + box.height);
  ctx.stroke();
  ctx.fillStyle = COLORS.now;
  ctx.font = 600 + ' ' + 12 * ratio + 'px system-ui, sans-serif';
  ctx.fillText('now', x + 5 * ratio, box.top + 14 * ratio);
  ctx.restore();
}

function chartOptions(width) {
  return {
    width: width,
    height: HEIGHT,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: {
        time: true,
        // Keep "now" in view even when the data around it is missing; see xRange.
        range: function () { return xRange(); },
      },
      // Load starts at zero: a bar-less chart that starts elsewhere exaggerates swings.
      y: { range: function (u, min, max) { return [0, isNum(max) && max > 0 ? max * 1.08 : 1]; } },
    },
    axes: [
      { stroke: '#4b5563', grid: { stroke: '#eef0f3' }, values: TIME_VALUES },
      { stroke: '#4b5563', grid: { stroke: '#eef0f3' }, size: 56, values: function (u, splits) { return splits.map(fmtNum); } },
    ],
    series: [
      {},
      { label: 'actual', stroke: COLORS.actual, width: 2 },
      { label: 'forecast p50', stroke: COLORS.p50, width: 2, dash: [8, 5] },
      { label: 'forecast p90', stroke: COLORS.p90, width: 1 },
    ],
    // Series indices [upper, lower]: the band between the p90 and the p50.
    bands: [{ series: [3, 2], fill: COLORS.band }],
    hooks: { draw: [drawNow] },
  };
}

function lastActual(data) {
  for (var i = data[0].length - 1; i >= 0; i--)
    if (data[1][i] !== null) return { t: data[0][i], v: data[1][i] };
  return null;
}

function chartSummary(d, data) {
  var parts = [];
  var a = lastActual(data);
  parts.push(a ? 'Last actual ' + fmtNum(a.v) + ' at ' + fmtClock(a.t * 1000) + '.' : 'No actual data yet.');
  var fc = d.forecast || [];
  if (fc.length) {
    var p50 = Math.max.apply(null, fc.map(function (f) { return f.p50; }));
    var p90 = Math.max.apply(null, fc.map(function (f) { return f.p90; }));
    var points = d.view && isNum(d.view.forecastPoints) ? d.view.forecastPoints : fc.length;
    // Each peak says its span: the whole forecast here, the lead time on the card.
    parts.push('Forecast over ' + fmtDuration(forecastSpanSeconds(d)) + ' (' +
      plural(points, 'point') + ', until ' + fmtClock(Date.parse(fc[fc.length - 1].timestamp)) +
      '): p50 peaks at ' + fmtNum(p50) + ', p90 at ' + fmtNum(p90) + ' over the whole forecast.');
    var peak = d.plan && d.plan.predictedPeak;
    if (isNum(peak) && fmtNum(peak) !== fmtNum(p90))
      parts.push('The predicted peak card (' + fmtNum(peak) + ') is the highest p90 within the ' +
        fmtDuration(d.plan.leadTimeSeconds) + ' lead time only.');
  } else parts.push('No forecast yet.');
  var shown = spanSec !== null ? HISTORY_SPANS * spanSec : null;
  if (shown !== null) parts.push('History shown: up to ' + fmtDuration(shown) + ' before now.');
  return parts.join(' ');
}

function drawChart(d, generatedSec) {
  var box = $('chart');
  var data = chartData(d);
  nowSec = isFinite(generatedSec) ? generatedSec : null;
  spanSec = forecastSpanSeconds(d);
  xsNow = data[0];
  stepSec = isNum(d.step) && d.step > 0 ? d.step : 60;
  var summary = chartSummary(d, data);
  box.setAttribute('aria-label', 'Chart of ' + d.metric + ', actual and forecast. ' + summary);
  setText('chart-summary', summary + ' Shaded: the band from p50 to p90.');
  if (typeof uPlot !== 'function') {
    setText('chart-summary', 'The chart library did not load. ' + summary);
    return;
  }
  if (chart) chart.setData(data);
  else {
    chart = new uPlot(chartOptions(box.clientWidth || 800), data, box);
    // Follow the card's width (window resizes, the side panel wrapping under it).
    new ResizeObserver(function () {
      if (chart && box.clientWidth && box.clientWidth !== chart.width)
        chart.setSize({ width: box.clientWidth, height: HEIGHT });
    }).observe(box);
  }
}
`;
