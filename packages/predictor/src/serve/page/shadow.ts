/**
 * The status page's shadow report (`mode: shadow`): the section's markup and the browser code
 * that fills it from `/forecast`'s `shadow` block. Hidden in active mode. Plain ES2020 in a
 * string like script.ts (no template literals inside).
 */

/** The section, placed before the chart; hidden until a document with `shadow` arrives. */
export const SHADOW_HTML = `  <section class="figures shadow" id="shadow" aria-labelledby="shadow-title" hidden>
    <h2 id="shadow-title">Shadow report <span class="note">publishing nothing: what prediction would have done</span></h2>
    <p class="shadow-summary" id="shadow-summary">\u2014</p>
    <dl>
      <div class="figure">
        <dt>Replicas now</dt>
        <dd class="big" id="shadow-actual">\u2014</dd>
        <dd class="note">HPA; predictive <span id="shadow-predictive">\u2014</span></dd>
      </div>
      <div class="figure">
        <dt>Overloaded pod-minutes (7 days)</dt>
        <dd class="big" id="shadow-over-actual">\u2014</dd>
        <dd class="note">with prediction <span id="shadow-over-predictive">\u2014</span></dd>
      </div>
      <div class="figure">
        <dt>Replica-hours (7 days)</dt>
        <dd class="big" id="shadow-hours-actual">\u2014</dd>
        <dd class="note">with prediction <span id="shadow-hours-predictive">\u2014</span></dd>
      </div>
    </dl>
    <p class="note rejected" id="shadow-error" hidden></p>
  </section>
`;

/** `renderShadow(block)`: fills the section (needs FORMAT_JS's helpers and `$`/`setText`). */
export const SHADOW_JS = `
// The shadow report (mode: shadow); documents without one hide the section.
function renderShadow(s) {
  var box = $('shadow');
  box.hidden = !s;
  if (!s) return;
  var w = s.week || {};
  var over = w.overloadedPodMinutes || {};
  var cost = w.replicaSeconds || {};
  var extra = isNum(w.extraReplicaPercent)
    ? (w.extraReplicaPercent >= 0 ? '+' : '') + w.extraReplicaPercent.toFixed(1) + ' %'
    : 'no cost measured yet';
  setText('shadow-summary', 'Shadow report: this week prediction would have prevented ' +
    fmtNum(isNum(w.preventedPodMinutes) ? w.preventedPodMinutes : 0) +
    ' overloaded pod-minutes at ' + extra + ' replica-hours.');
  var last = s.last;
  setText('shadow-actual', last ? fmtNum(last.actualReplicas) : DASH);
  setText('shadow-predictive', last ? fmtNum(last.predictiveReplicas) : DASH);
  setText('shadow-over-actual', fmtNum(over.actual));
  setText('shadow-over-predictive', fmtNum(over.predictive));
  setText('shadow-hours-actual', isNum(cost.actual) ? fmtNum(cost.actual / 3600) : DASH);
  setText('shadow-hours-predictive', isNum(cost.predictive) ? fmtNum(cost.predictive / 3600) : DASH);
  $('shadow-error').hidden = !s.error;
  setText('shadow-error', s.error ? 'Replicas query failing: ' + s.error : '');
}
`;
