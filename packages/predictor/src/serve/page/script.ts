/**
 * The status page's script (served as `assets/status.js`). Plain ES2020 in a string: no build
 * step, and the page's CSP allows only scripts from the sidecar. It polls `forecast` (a
 * relative URL, so a path prefix in front of the sidecar keeps working), renders the facts as
 * text and draws the chart with uPlot (loaded before it, as the global `uPlot`).
 * No template literals inside: this file is itself one.
 */
import {
  AGE_STALE_REASONS,
  DATA_STALE_REASONS,
  type DegradedReason,
  FORECAST_STALE_REASONS,
} from '@tidewatch/conventions';
import { CHART_JS } from './chart.js';
import { FORMAT_JS } from './format.js';
import { NOWCAST_JS } from './nowcast.js';
import { SHADOW_JS } from './shadow.js';
import { STATES_JS } from './states.js';

/** The banner's title per degraded reason (a reason added to the catalogue must get one here). */
const DEGRADED_TITLES: Record<DegradedReason, string> = {
  persist_failed: 'Degraded: the history or the model cannot be saved; a restart would lose data',
};

const MAIN_JS = `
// Every 15 s, faster for sidecars with short steps (demos, tests): at most once per step, 2 s floor.
var POLL_MS = 15000;
var last = null;      // the last good /forecast document: kept when the sidecar goes away
var lastOkAt = null;  // when it was fetched (ms), to age it while unreachable
var failure = null;   // why the last poll failed, or null
var renders = 0;

function $(id) { return document.getElementById(id); }
function setText(id, text) { $(id).textContent = text; }
function setState(id, state) { $(id).setAttribute('data-state', state); }

// Points per chart line the page asks for: plenty for a chart a screen wide, a fraction of
// the full history at a short step (the sidecar downsamples, keeping peaks and the newest point).
var CHART_POINTS = 1000;
// The history asked for, minutes: null (the sidecar's default) until a forecast says how far
// it reaches, then HISTORY_SPANS forecast spans (see chart.js), so the band is not squeezed
// into a sliver at the right of days of history.
var historyMinutes = null;

// What each degraded reason (DEGRADED_REASONS of @tidewatch/conventions) means.
var HEALTH_TITLE = ${JSON.stringify(DEGRADED_TITLES)};

var STATUS_TEXT = { ok: 'OK: forecast published', stale: 'Stale: reactive only', warming: 'Warming up' };
var NOTICE_TITLE = {
  stale: 'Stale: publishing nothing, reactive scaling only',
  warming: 'Warming up: publishing nothing, reactive scaling only',
};

// Which reason codes (STALE_REASONS of @tidewatch/conventions) concern the data and the
// forecast, and which of them say it is too old.
var DATA_REASONS = ${JSON.stringify(DATA_STALE_REASONS)};
var FORECAST_REASONS = ${JSON.stringify(FORECAST_STALE_REASONS)};
var TOO_OLD = ${JSON.stringify(AGE_STALE_REASONS)};

function freshness(id, age, codes, concerned, missing, extra) {
  var state;
  var label;
  var text = age === null ? DASH : fmtDuration(age + extra) + ' old';
  if (failure !== null && age !== null) {
    // The last answer's age plus the time since: a lower bound, the sidecar may have news.
    state = 'warn';
    text = 'at least ' + text;
    label = 'not updating';
  } else if (age === null) {
    state = 'none';
    label = missing;
  } else if (codes.some(function (c) { return concerned.indexOf(c) !== -1; })) {
    state = 'bad';
    // An age over the limit says so; a failing source is listed in the reasons above.
    label = codes.some(function (c) { return concerned.indexOf(c) !== -1 && TOO_OLD.indexOf(c) !== -1; })
      ? 'too old'
      : 'see reasons';
  } else {
    state = 'ok';
    label = 'fresh';
  }
  setText(id, text);
  setState(id + '-dot', state);
  setText(id + '-state', label);
}

function errorFigure(id, value, text, bad) {
  setText(id, value === null || value === undefined ? DASH : text);
  setState(id, value === null || value === undefined ? 'none' : bad ? 'bad' : 'ok');
}

// Ensemble names are long ("ensemble:holt-winters+seasonal-profile"): let them wrap after
// ':' and '+' rather than inside a member's name. The text stays the exact name.
function modelName(name) {
  var box = $('model');
  box.replaceChildren();
  if (!name) {
    box.textContent = 'none yet';
    return;
  }
  name.split(/(?<=[:+])/).forEach(function (part, i) {
    if (i > 0) box.appendChild(document.createElement('wbr'));
    box.appendChild(document.createTextNode(part));
  });
}

function render() {
  var d = last;
  var failed = failure !== null;
  var state = failed ? 'unreachable' : d ? d.status : 'loading';
  document.body.setAttribute('data-state', state);
  setState('status', state);
  setText('status', failed ? 'Sidecar unreachable' : STATUS_TEXT[state] || state);

  var conn = $('conn');
  conn.hidden = !failed;
  if (failed)
    conn.textContent = 'Sidecar unreachable (' + failure + '). ' +
      (d ? 'Showing the last data, fetched ' + fmtClock(lastOkAt) + '.' : 'No data yet.');
  if (!d) return;

  var plan = d.plan || {};
  var errors = d.errors || {};
  var reasons = Array.isArray(d.reasons) ? d.reasons : [];
  var codes = Array.isArray(d.reasonCodes) ? d.reasonCodes : [];
  setText('metric', d.metric);
  setText('source', d.source);
  setText('step', fmtDuration(d.step));

  var notice = $('notice');
  notice.hidden = d.status === 'ok';
  notice.setAttribute('data-state', d.status);
  // A follower trains nothing: without a model of its own it is not warming up, it follows.
  var following = d.role === 'follower' && d.status !== 'ok';
  setText('notice-title', following
    ? 'Follower: no forecast of its own; the leader forecasts and publishes for the fleet'
    : NOTICE_TITLE[d.status] || d.status);
  if (following && !failed) setText('status', 'Following ' + (d.leader || 'no leader yet'));
  var list = $('reasons');
  list.replaceChildren();
  (reasons.length ? reasons : ['no reason given']).forEach(function (r) {
    var li = document.createElement('li');
    li.textContent = r;
    list.appendChild(li);
  });

  renderWarming(d.status === 'warming' ? d.warming : null);
  var mode = renderMode(d);
  var published = d.status === 'ok' && isNum(plan.recommendedReplicas);
  // A follower and a shadow sidecar publish nothing: their recommendation is shown, as a
  // fact, but in the unpublished look and saying so.
  var silent = published && mode !== 'none';
  $('figures').setAttribute('data-published', String(published && !silent));
  setText('recommended', published ? String(plan.recommendedReplicas) : DASH);
  setText('reactive', (silent ? 'not published (' + (mode === 'follower' ? 'follower' : 'shadow mode') + '); reactive: '
    : published ? 'reactive: ' : 'publishing nothing; reactive: ') +
    (isNum(plan.reactiveReplicas) ? plural(plan.reactiveReplicas, 'replica') : 'unknown'));
  setText('threshold', isNum(plan.threshold) ? fmtNum(plan.threshold) : DASH);
  setText('threshold-note', 'HPA target per replica; ' +
    fmtNum(plan.capacityPerReplica * plan.targetUtilization) + ' without a forecast (' +
    fmtNum(plan.capacityPerReplica) + ' at ' + fmtPct(plan.targetUtilization, 0) + ')');
  setText('peak', isNum(plan.predictedPeak) ? fmtNum(plan.predictedPeak) : DASH);
  // Its span in words: the chart's caption gives the p90 peak over the whole forecast.
  setText('lead', 'highest p90 in the next ' + fmtDuration(plan.leadTimeSeconds) + ' (lead time)' +
    (published || !isNum(plan.predictedPeak) ? '' : '; not published'));

  var extra = failed && lastOkAt !== null ? (Date.now() - lastOkAt) / 1000 : 0;
  freshness('data-age', numOrNull(d.dataAgeSeconds), codes, DATA_REASONS, 'no data', extra);
  freshness('forecast-age', numOrNull(d.forecastAgeSeconds), codes, FORECAST_REASONS,
    'no forecast', extra);

  modelName(d.model);
  errorFigure('mase', errors.mase, fmtFixed(errors.mase, 3), errors.mase > 1);
  errorFigure('wape', errors.wape, fmtPct(errors.wape, 1), false);
  errorFigure('coverage', errors.coverage90, fmtPct(errors.coverage90, 1), errors.coverage90 < 0.8);
  errorFigure('rolling', errors.rollingMase, fmtFixed(errors.rollingMase, 3), errors.rollingMase > 1);
  renderCoverage(numOrNull(errors.coverage90));
  // The live band (older sidecars send none): its coverage, how many actuals, its level.
  var band = d.band || {};
  var live = numOrNull(band.liveCoverage90);
  errorFigure('live-coverage', live, fmtPct(live, 1) + ' of ' + WHOLE.format(band.points) +
    (band.adaptive && isNum(band.level) ? ' (band at p' + fmtFixed(band.level * 100, 1) + ')' : ''),
    live !== null && live < 0.8);

  renderHealth(d.health);
  renderRole(d.role, d.leader);
  renderLive(d.live);
  renderNowcast(d.nowcast);
  renderShadow(d.shadow);

  var generated = Date.parse(d.generatedAt);
  setText('generated', fmtClock(generated));
  $('generated').setAttribute('datetime', d.generatedAt);
  drawChart(d, generated / 1000);
}

function fmtMs(v) {
  if (!isNum(v)) return DASH;
  return (v < 10 ? v.toFixed(1) : WHOLE.format(v)) + ' ms';
}

// Leader election: a follower says whom it follows (standalone and older sidecars: nothing).
function renderRole(role, leader) {
  var el = $('role');
  var text = role === 'leader' ? 'leader of the fleet: this replica publishes the scaling signals'
    : role === 'follower' ? 'follower of ' + (leader || 'nobody yet') +
      ': the leader publishes the scaling signals'
    : '';
  el.hidden = text === '';
  el.textContent = text;
}

// The sidecar's own health (documents of older sidecars have none: nothing to show).
function renderHealth(health) {
  var box = $('health');
  var degraded = !!health && health.status === 'degraded';
  document.body.setAttribute('data-health', degraded ? 'degraded' : 'ok');
  box.hidden = !degraded;
  if (!degraded) return;
  var codes = Array.isArray(health.reasons) ? health.reasons : [];
  setText('health-title', codes.length === 1 && HEALTH_TITLE[codes[0]]
    ? HEALTH_TITLE[codes[0]] : 'Degraded: ' + (codes.join(', ') || 'see below'));
  var list = $('health-messages');
  list.replaceChildren();
  (Array.isArray(health.messages) ? health.messages : []).forEach(function (m) {
    var li = document.createElement('li');
    li.textContent = m;
    list.appendChild(li);
  });
}

function renderLive(live) {
  var box = $('live');
  box.hidden = !live;
  if (!live) return;
  var rejected = Array.isArray(live.rejected) ? live.rejected : [];
  $('live-rejected').hidden = rejected.length === 0;
  setText('live-rejected', rejected.length ? 'Not shown, rejected like in the history: ' + rejected.join('; ') : '');
  setText('live-window', isNum(live.windowSeconds) && live.windowSeconds > 0
    ? '(rates over the last ' + fmtDuration(live.windowSeconds) + ')' : '(rates after the next scrape)');
  setText('live-connections', fmtNum(live.connections));
  setText('live-handshakes', fmtNum(live.handshakesPerSecond));
  setText('live-handshake-p50', fmtMs(live.handshakeP50Ms));
  setText('live-handshake-p99', fmtMs(live.handshakeP99Ms));
  setText('live-messages-in', fmtNum(live.messagesInPerSecond));
  setText('live-messages-out', fmtNum(live.messagesOutPerSecond));
}

function fetchForecast(minutes) {
  return fetch('forecast?points=' + CHART_POINTS + (minutes ? '&history=' + minutes : ''),
    { cache: 'no-store', headers: { accept: 'application/json' } })
    .then(function (res) {
      return res.json().catch(function () { return null; }).then(function (body) {
        if (!res.ok)
          throw new Error('HTTP ' + res.status + (body && body.error ? ': ' + body.error : ''));
        if (!body || typeof body !== 'object' || !Array.isArray(body.history))
          throw new Error('not a forecast document');
        return body;
      });
    });
}

// Fetches the document; when it shows the history window should change (the first answer,
// or a new horizon), fetches again at once with the window that fits, before rendering.
function fetchFitting() {
  var asked = historyMinutes;
  return fetchForecast(asked).then(function (d) {
    historyMinutes = historyWindowMinutes(d) || asked;
    return historyMinutes === asked ? d : fetchForecast(historyMinutes);
  });
}

function poll() {
  var started = Date.now();
  fetchFitting().then(function (d) {
    last = d;
    if (isNum(d.step)) POLL_MS = Math.max(2000, Math.min(15000, d.step * 1000));
    lastOkAt = started;
    failure = null;
  }, function (error) {
    failure = (error && error.message) || String(error);
  }).then(function () {
    // Schedule first: a rendering bug must not stop the polling.
    setTimeout(poll, POLL_MS);
    setText('checked', fmtClock(started));
    setText('poll-every', fmtDuration(POLL_MS / 1000));
    render();
    document.body.setAttribute('data-renders', String(++renders));
  });
}

// A handle for debugging from the console (and for the page's tests).
window.tidewatchStatus = {
  get chart() { return chart; },
  get data() { return last; },
};
poll();
`;

/** The whole page script: formatting helpers, the chart, then the polling and rendering. */
export const STATUS_JS = `'use strict';\n(function () {\n${FORMAT_JS}\n${CHART_JS}\n${NOWCAST_JS}\n${SHADOW_JS}\n${STATES_JS}\n${MAIN_JS}\n})();\n`;
