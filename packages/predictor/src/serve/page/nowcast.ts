/**
 * The status page's nowcast section: the markup and the browser code that fills it from
 * `/forecast`'s `nowcast` block (active, load, reason). Hidden when the sidecar runs no nowcast
 * (`nowcast` null: disabled, or a source with no leading figures). Plain ES2020 in a string like
 * script.ts (no template literals inside).
 */

/** The section, placed after the live figures; hidden until a document with `nowcast` arrives. */
export const NOWCAST_HTML = `  <section class="figures nowcast" id="nowcast" data-active="false" aria-labelledby="nowcast-title" hidden>
    <h2 id="nowcast-title">Nowcast <span class="note">surges the forecast has not seen, from handshakes and abnormal closes; scale-up only</span></h2>
    <dl>
      <div class="figure">
        <dt>State</dt>
        <dd class="big" id="nowcast-state">\u2014</dd>
        <dd class="note">active: published as max(plan, nowcast)</dd>
      </div>
      <div class="figure">
        <dt>Nowcast load</dt>
        <dd class="big" id="nowcast-load">\u2014</dd>
        <dd class="note">connections one lead time ahead</dd>
      </div>
    </dl>
    <p class="note reason" id="nowcast-reason">\u2014</p>
  </section>
`;

/** `renderNowcast(block)`: fills the section (needs FORMAT_JS's helpers and `$`/`setText`). */
export const NOWCAST_JS = `
// The nowcast (docs/sidecar.md "Nowcast"); documents without one hide the section.
function renderNowcast(n) {
  var box = $('nowcast');
  box.hidden = !n;
  if (!n) return;
  var reason = typeof n.reason === 'string' ? n.reason : '';
  box.setAttribute('data-active', n.active ? 'true' : 'false');
  setText('nowcast-state', n.active ? 'Active' : reason.indexOf('off:') === 0 ? 'Off' : 'Quiet');
  setText('nowcast-load', n.active && isNum(n.load) ? fmtNum(n.load) : DASH);
  setText('nowcast-reason', reason || DASH);
}
`;
