/**
 * The page script's formatting helpers (browser JS in a string, see script.ts). Numbers use
 * a fixed locale so the page reads the same everywhere and tests can compare text exactly.
 */
export const FORMAT_JS = String.raw`
var DASH = '\u2014';
var NUM = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
var WHOLE = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function isNum(v) { return typeof v === 'number' && isFinite(v); }
function numOrNull(v) { return isNum(v) ? v : null; }
/** A decimal only where it matters: 12.7 per replica, but 1,218 connections. */
function fmtNum(v) { return isNum(v) ? (Math.abs(v) >= 100 ? WHOLE : NUM).format(v) : DASH; }
function fmtFixed(v, digits) { return isNum(v) ? v.toFixed(digits) : DASH; }
function fmtPct(v, digits) { return isNum(v) ? (v * 100).toFixed(digits) + ' %' : DASH; }
function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

/** 42 s, 2 min 30 s, 1 h 5 min, 3 d 2 h: two units at most, the larger first. */
function fmtDuration(seconds) {
  if (!isNum(seconds)) return DASH;
  var s = Math.max(0, Math.round(seconds));
  var units = [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]];
  for (var i = 0; i < units.length; i++) {
    var size = units[i][1];
    if (s < size && i < units.length - 1) continue;
    var big = Math.floor(s / size);
    var next = units[i + 1];
    var small = next ? Math.floor((s - big * size) / next[1]) : 0;
    return big + ' ' + units[i][0] + (small ? ' ' + small + ' ' + next[0] : '');
  }
  return '0 s';
}

/** A time of day today; with the date when it is another day (replayed or old data). */
function fmtClock(ms) {
  if (!isNum(ms)) return DASH;
  var date = new Date(ms);
  var time = date.toLocaleTimeString('en-GB', { hour12: false });
  if (date.toDateString() === new Date().toDateString()) return time;
  return date.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' }) +
    ' ' + time;
}
`;
