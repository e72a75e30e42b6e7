/**
 * The status page's stylesheet (served as `assets/status.css`: the CSP allows no inline
 * style). States are `data-state` attributes so the script never builds class names, and
 * every colour state also has words next to it.
 */
export const STATUS_CSS = `:root {
  --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; --card: #ffffff;
  --ok: #15803d; --ok-bg: #dcfce7; --warn: #b45309; --warn-bg: #fef3c7;
  --bad: #b91c1c; --bad-bg: #fee2e2; --info: #1d4ed8; --info-bg: #dbeafe;
  --actual: #111827; --p50: #2563eb; --band: rgba(37, 99, 235, 0.18);
  --follower: #334155; --follower-bg: #e2e8f0; --shadow: #6d28d9; --shadow-bg: #ede9fe;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 28px 16px; max-width: 1400px; margin-inline: auto; }
h1 { font-size: 22px; margin: 0; font-weight: 650; }
h2 { font-size: 15px; margin: 0 0 8px; font-weight: 600; }
.top { display: flex; justify-content: space-between; align-items: center; gap: 16px; margin-bottom: 14px; }
.sub { margin: 2px 0 0; color: var(--muted); font-size: 14px; }
.sub span { color: var(--fg); font-weight: 500; }
.pill { margin: 0; padding: 6px 14px; border-radius: 999px; font-weight: 650; font-size: 15px;
  background: var(--line); color: var(--fg); white-space: nowrap; }
.pill[data-state="ok"] { background: var(--ok-bg); color: var(--ok); }
.pill[data-state="stale"] { background: var(--warn-bg); color: var(--warn); }
.pill[data-state="warming"] { background: var(--info-bg); color: var(--info); }
.pill[data-state="unreachable"] { background: var(--bad-bg); color: var(--bad); }
.banner { border-radius: 8px; padding: 10px 14px; margin: 0 0 12px; font-size: 14px; }
.banner[hidden] { display: none; }
.conn { background: var(--bad-bg); color: var(--bad); border: 1px solid #fca5a5; font-weight: 500; }
.notice { background: var(--warn-bg); border: 1px solid #fcd34d; }
.notice[data-state="warming"] { background: var(--info-bg); border-color: #93c5fd; }
.notice h2 { margin: 0 0 4px; font-size: 15px; }
.notice ul { margin: 0; padding-left: 20px; }
.health { background: var(--bad-bg); border: 1px solid #fca5a5; }
.health h2 { margin: 0 0 4px; font-size: 15px; color: var(--bad); }
.health ul { margin: 0; padding-left: 20px; overflow-wrap: anywhere; }
.figures dl { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 12px; margin: 0 0 12px; }
.figure, .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; }
.figure { margin: 0; }
.figure dt { color: var(--muted); font-size: 13px; font-weight: 500; }
.figure dd { margin: 0; }
.big { font-size: 40px; font-weight: 700; line-height: 1.15; font-variant-numeric: tabular-nums; }
.primary { border-color: #93c5fd; box-shadow: inset 4px 0 0 var(--p50); }
.primary .big { color: var(--p50); }
.figures[data-published="false"] .big { color: var(--muted); }
.live h2 .note { font-weight: 400; }
.live[hidden] { display: none; }
.live .rejected { margin: -4px 0 12px; color: var(--warn); overflow-wrap: anywhere; }
.live .rejected[hidden] { display: none; }
.shadow .rejected { color: var(--warn); overflow-wrap: anywhere; }
.shadow .rejected[hidden] { display: none; }
.shadow-summary { margin: 0 0 12px; font-weight: 600; }
.nowcast[hidden] { display: none; }
.nowcast .reason { margin: -4px 0 12px; overflow-wrap: anywhere; }
.nowcast[data-active="true"] #nowcast-state { color: var(--warn); }
body[data-state="unreachable"] .big { opacity: 0.55; }
.note { color: var(--muted); font-size: 13px; }
.fresh { font-size: 15px; margin-top: 8px !important; display: flex; align-items: center; gap: 6px; flex-wrap: wrap; }
.fresh strong { font-variant-numeric: tabular-nums; }
.state { font-size: 12px; font-weight: 600; color: var(--muted); }
.dot { width: 11px; height: 11px; border-radius: 50%; background: var(--line); flex: none; }
.dot[data-state="ok"] { background: var(--ok); }
.dot[data-state="warn"] { background: #f59e0b; }
.dot[data-state="bad"] { background: var(--bad); }
.grid { display: grid; grid-template-columns: minmax(0, 1fr) 300px; gap: 12px; }
.chart-card { min-width: 0; }
.chart-card h2 { display: inline-block; margin-right: 16px; }
.key { display: inline-flex; flex-wrap: wrap; gap: 14px; list-style: none; padding: 0; margin: 0 0 6px; font-size: 13px; color: var(--muted); }
.key li { display: flex; align-items: center; gap: 5px; }
.swatch { display: inline-block; width: 18px; height: 0; border-top: 2px solid var(--actual); }
.swatch.p50 { border-top: 2px dashed var(--p50); }
.swatch.band { height: 10px; border: 0; background: var(--band); border-top: 1px solid #60a5fa; }
.swatch.now { width: 0; height: 12px; border-top: 0; border-left: 2px dashed var(--bad); }
#chart { width: 100%; min-height: 400px; }
#chart .u-legend { font-size: 12px; }
.summary { margin: 6px 0 0; color: var(--muted); font-size: 13px; }
.model { font-size: 18px; font-weight: 650; margin: 0 0 12px; overflow-wrap: break-word; }
.errors { margin: 0; display: grid; gap: 6px; }
.errors div { display: flex; justify-content: space-between; border-bottom: 1px solid var(--line); padding-bottom: 5px; }
.errors dt { color: var(--muted); font-size: 14px; }
.errors dd { margin: 0; font-size: 16px; font-weight: 600; font-variant-numeric: tabular-nums; }
.errors dd[data-state="bad"] { color: var(--bad); }
.errors dd[data-state="ok"] { color: var(--ok); }
.hint { color: var(--muted); font-size: 12px; margin: 10px 0 0; }
/* Follower and shadow mode: their own colour on a pill, a banner and the primary figure. */
.pills { display: flex; gap: 8px; align-items: center; }
.pill[hidden] { display: none; }
.pill.mode[data-mode="follower"] { background: var(--follower-bg); color: var(--follower); }
.pill.mode[data-mode="shadow"] { background: var(--shadow-bg); color: var(--shadow); }
.mode h2 { margin: 0 0 4px; font-size: 15px; }
.mode p { margin: 0; }
.mode[data-mode="follower"] { background: var(--follower-bg); border: 1px solid #94a3b8; color: var(--follower); }
.mode[data-mode="shadow"] { background: var(--shadow-bg); border: 1px solid #c4b5fd; color: var(--shadow); }
body[data-mode="follower"] .primary { border-color: #94a3b8; box-shadow: inset 4px 0 0 var(--follower); }
body[data-mode="shadow"] .primary { border: 1px dashed var(--shadow); box-shadow: inset 4px 0 0 var(--shadow); }
body[data-mode="shadow"] .shadow-summary { color: var(--shadow); }
/* Warming: the time left and the history held so far. */
.warming[hidden] { display: none; }
.warming p { margin: 8px 0 4px; font-weight: 600; color: var(--info); }
.warming progress { width: 100%; max-width: 480px; height: 10px; accent-color: var(--info); }
/* A poor p90 coverage, in words. */
.explain { margin: 10px 0 0; padding: 8px 10px; border-radius: 8px; background: var(--bad-bg);
  border: 1px solid #fca5a5; font-size: 13px; }
.explain[hidden] { display: none; }
.explain p { margin: 0 0 4px; }
.explain p:last-child { margin: 0; }
footer { display: flex; gap: 20px; margin-top: 12px; color: var(--muted); font-size: 13px; }
footer a { color: var(--info); }
@media (max-width: 900px) {
  .figures dl { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .grid { grid-template-columns: 1fr; }
}
`;
