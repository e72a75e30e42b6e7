/**
 * The status page's states beyond ok/stale/warming: the replica's place in the fleet
 * (follower of a leader), shadow mode, the warming time left and a poor p90 coverage
 * explained in words. Each has its own look (a pill beside the status, a banner in its own
 * colour) and says in text what it means, so colour is never the only signal. Markup
 * fragments plus browser code (plain ES2020 in a string like script.ts: no template literals
 * inside); the script calls these from `render()`.
 */

/** The mode pill, placed in the header beside the status pill. */
export const MODE_PILL_HTML = `<p id="mode-pill" class="pill mode" data-mode="none" hidden></p>`;

/** The fleet/shadow banner, placed first in `<main>`. */
export const MODE_BANNER_HTML = `  <section id="mode" class="banner mode" data-mode="none" aria-labelledby="mode-title" hidden>
    <h2 id="mode-title">\u2014</h2>
    <p id="mode-text"></p>
  </section>
`;

/** The warming progress, inside the warming/stale notice (hidden unless warming on history). */
export const WARMING_HTML = `    <div id="warming" class="warming" hidden>
      <p id="warming-text">\u2014</p>
      <progress id="warming-progress" max="1" value="0"></progress>
    </div>
`;

/** The coverage explanation, in the model card (hidden unless the coverage is poor). */
export const COVERAGE_HTML = `      <div id="coverage-help" class="explain" data-state="bad" role="note" hidden>
        <p id="coverage-what">\u2014</p>
        <p id="coverage-todo">\u2014</p>
      </div>
`;

/** `renderMode`, `renderWarming`, `renderCoverage` (need FORMAT_JS's helpers and `$`/`setText`). */
export const STATES_JS = `
// Below this share of actuals under the p90 the band is too narrow to plan capacity on.
var COVERAGE_LOW = 0.8;

// 'follower', 'shadow' or 'none': a follower's shadow setting does not matter (it publishes
// nothing either way), so the follower look wins.
function modeOf(d) {
  if (d.role === 'follower') return 'follower';
  if (d.shadow) return 'shadow';
  return 'none';
}

function renderMode(d) {
  var mode = modeOf(d);
  document.body.setAttribute('data-mode', mode);
  var pill = $('mode-pill');
  var box = $('mode');
  pill.hidden = box.hidden = mode === 'none';
  pill.setAttribute('data-mode', mode);
  box.setAttribute('data-mode', mode);
  if (mode === 'follower') {
    pill.textContent = 'Follower';
    setText('mode-title', 'Follower \\u2014 ' + (d.leader ? 'leader is ' + d.leader : 'no leader yet'));
    setText('mode-text', 'This replica collects and serves this page but publishes no scaling ' +
      'signals: the leader does. The figures below are its own view, for comparison; open the ' +
      "leader's page for what the autoscaler reads.");
  } else if (mode === 'shadow') {
    pill.textContent = 'Shadow mode';
    setText('mode-title', 'Shadow mode \\u2014 publishing no scaling signals');
    setText('mode-text', 'The forecast and the recommendation are computed but not published; ' +
      'the autoscaler runs on its own. The shadow report says what prediction would have done. ' +
      'Set mode: active to publish.');
  }
  return mode;
}

// The time left before the first training (/forecast's warming), with the points as progress.
function renderWarming(w) {
  var box = $('warming');
  box.hidden = !w;
  if (!w) return;
  setText('warming-text', 'First forecast in ' + w.timeLeft + ': ' + WHOLE.format(w.pointsHeld) +
    ' of ' + WHOLE.format(w.pointsNeeded) + ' points of history held.');
  var bar = $('warming-progress');
  bar.setAttribute('value', String(w.pointsNeeded > 0 ? Math.min(1, w.pointsHeld / w.pointsNeeded) : 0));
  bar.textContent = fmtPct(w.pointsNeeded > 0 ? w.pointsHeld / w.pointsNeeded : 0, 0);
}

// A poor p90 coverage in words: what it means for the replicas, and what to do about it.
function renderCoverage(coverage) {
  var box = $('coverage-help');
  var poor = isNum(coverage) && coverage < COVERAGE_LOW;
  box.hidden = !poor;
  if (!poor) return;
  setText('coverage-what', 'p90 coverage ' + fmtPct(coverage, 1) + ' is low: in the backtest ' +
    'the actual load was above the p90 in ' + fmtPct(1 - coverage, 0) + ' of the steps, where ' +
    'about 10 % is expected. The band is too narrow, so the predicted peak and the recommended ' +
    'replicas can be too low when the load rises.');
  setText('coverage-todo', 'What to do: let the sidecar collect more history (several weeks ' +
    'calibrate the band), check the history for a one-off change in traffic, and keep headroom ' +
    'meanwhile with a lower planner.targetUtilization.');
}
`;
