/**
 * The status page's markup. Static: the script fills it from `/forecast`. Every value is in
 * the text (not only in colour or on the canvas), so screen readers and `curl` users get the
 * same facts. No inline script or style: the page's CSP forbids both.
 */
import { NOWCAST_HTML } from './nowcast.js';
import { SHADOW_HTML } from './shadow.js';
import { COVERAGE_HTML, MODE_BANNER_HTML, MODE_PILL_HTML, WARMING_HTML } from './states.js';

/** The page (the script fills it in). */
export const STATUS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tidewatch predictor</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/uPlot.min.css">
<link rel="stylesheet" href="assets/status.css">
<script src="assets/uPlot.iife.min.js" defer></script>
<script src="assets/status.js" defer></script>
</head>
<body data-state="loading" data-mode="none">
<header class="top">
  <div>
    <h1>tidewatch predictor</h1>
    <p class="sub"><span id="metric">metric</span> from <span id="source">source</span>, one point every <span id="step">\u2014</span></p>
    <p class="sub" id="role" hidden></p>
  </div>
  <div class="pills">
  ${MODE_PILL_HTML}
  <p id="status" class="pill" data-state="loading" role="status" aria-live="polite">Loading</p>
  </div>
</header>
<main>
${MODE_BANNER_HTML}  <p id="conn" class="banner conn" role="alert" hidden></p>
  <section id="health" class="banner health" role="alert" aria-labelledby="health-title" hidden>
    <h2 id="health-title">Degraded</h2>
    <ul id="health-messages"></ul>
  </section>
  <section id="notice" class="banner notice" aria-labelledby="notice-title" hidden>
    <h2 id="notice-title">Stale</h2>
    <ul id="reasons"></ul>
${WARMING_HTML}  </section>
  <section class="figures" id="figures" data-published="false" aria-label="Scaling decision">
    <dl>
      <div class="figure primary">
        <dt>Recommended replicas</dt>
        <dd class="big" id="recommended">\u2014</dd>
        <dd class="note" id="reactive">reactive: -</dd>
      </div>
      <div class="figure">
        <dt>Scaling threshold</dt>
        <dd class="big" id="threshold">\u2014</dd>
        <dd class="note" id="threshold-note">per replica</dd>
      </div>
      <div class="figure">
        <dt>Predicted peak (p90)</dt>
        <dd class="big" id="peak">\u2014</dd>
        <dd class="note" id="lead">over the lead time</dd>
      </div>
      <div class="figure">
        <dt>Freshness</dt>
        <dd class="fresh"><span class="dot" id="data-age-dot" data-state="none"></span>data <strong id="data-age">\u2014</strong> <span class="state" id="data-age-state"></span></dd>
        <dd class="fresh"><span class="dot" id="forecast-age-dot" data-state="none"></span>forecast <strong id="forecast-age">\u2014</strong> <span class="state" id="forecast-age-state"></span></dd>
      </div>
    </dl>
  </section>
  <section class="figures live" id="live" aria-labelledby="live-title" hidden>
    <h2 id="live-title">Live from the server <span class="note" id="live-window"></span></h2>
    <dl>
      <div class="figure">
        <dt>Connections</dt>
        <dd class="big" id="live-connections">\u2014</dd>
        <dd class="note">open now, all servers scraped</dd>
      </div>
      <div class="figure">
        <dt>Handshakes</dt>
        <dd class="big" id="live-handshakes">\u2014</dd>
        <dd class="note">per second</dd>
      </div>
      <div class="figure">
        <dt>Handshake latency p50</dt>
        <dd class="big" id="live-handshake-p50">\u2014</dd>
        <dd class="note">p99 <span id="live-handshake-p99">\u2014</span></dd>
      </div>
      <div class="figure">
        <dt>Messages in</dt>
        <dd class="big" id="live-messages-in">\u2014</dd>
        <dd class="note">per second; out <span id="live-messages-out">\u2014</span> per second</dd>
      </div>
    </dl>
    <p class="note rejected" id="live-rejected" hidden></p>
  </section>
${NOWCAST_HTML}${SHADOW_HTML}  <div class="grid">
    <section class="card chart-card" aria-labelledby="chart-title">
      <h2 id="chart-title">Actual vs forecast</h2>
      <ul class="key" aria-hidden="true">
        <li><span class="swatch actual"></span>actual</li>
        <li><span class="swatch p50"></span>forecast p50</li>
        <li><span class="swatch band"></span>p50 to p90</li>
        <li><span class="swatch now"></span>now</li>
      </ul>
      <div id="chart" role="img" aria-label="Chart loading" aria-describedby="chart-summary"></div>
      <p id="chart-summary" class="summary"></p>
    </section>
    <section class="card model-card" aria-labelledby="model-title">
      <h2 id="model-title">Model</h2>
      <p class="model" id="model">\u2014</p>
      <dl class="errors">
        <div><dt title="Mean absolute scaled error in the backtest; below 1 beats weekly seasonal naive">MASE</dt><dd id="mase" data-state="none">\u2014</dd></div>
        <div><dt title="Weighted absolute percentage error in the backtest">WAPE</dt><dd id="wape" data-state="none">\u2014</dd></div>
        <div><dt title="Share of actuals at or below the p90 in the backtest; about 90 % is calibrated">p90 coverage</dt><dd id="coverage" data-state="none">\u2014</dd></div>
        <div><dt title="MASE of the live forecasts over the recent window">Rolling MASE</dt><dd id="rolling" data-state="none">\u2014</dd></div>
        <div><dt title="Share of live actuals at or below the p90 published for them since the model was trained; the band's level adapts toward 90 %">Live p90 coverage</dt><dd id="live-coverage" data-state="none">\u2014</dd></div>
      </dl>
${COVERAGE_HTML}      <p class="hint">MASE below 1 beats a weekly seasonal naive forecast; the p90 should cover about 90 % of actuals.</p>
    </section>
  </div>
</main>
<footer>
  <span>Generated <time id="generated">\u2014</time></span>
  <span>Checked <time id="checked">\u2014</time>, every <span id="poll-every">15 s</span></span>
  <a href="forecast">forecast JSON</a>
  <a href="metrics">metrics</a>
</footer>
</body>
</html>
`;
