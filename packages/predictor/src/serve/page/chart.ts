/**
 * The page script's chart (browser JS in a string, see script.ts): actual load against the
 * forecast's p50, the p50..p90 band shaded, and a "now" line. uPlot draws on a canvas, so
 * the chart element also carries a text summary (aria-label plus a visible sentence).
 */
export const CHART_JS = String.raw`
var chart = null;
var nowSec = null;
var HEIGHT = 400;
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
        // Keep "now" in view even when the data around it is missing.
        range: function (u, min, max) {
          if (nowSec === null) return [min, max];
          return [min === null ? nowSec : Math.min(min, nowSec), max === null ? nowSec : Math.max(max, nowSec)];
        },
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
    parts.push('Forecast of ' + fc.length + ' points until ' +
      fmtClock(Date.parse(fc[fc.length - 1].timestamp)) + ': p50 peaks at ' + fmtNum(p50) +
      ', p90 at ' + fmtNum(p90) + '.');
  } else parts.push('No forecast yet.');
  return parts.join(' ');
}

function drawChart(d, generatedSec) {
  var box = $('chart');
  var data = chartData(d);
  nowSec = isFinite(generatedSec) ? generatedSec : null;
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
