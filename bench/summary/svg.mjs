// Dependency-free SVG bar charts for docs/benchmarks.md: horizontal grouped bars with the value
// printed on every bar, a title and an axis label, plus <title>/<desc> for screen readers.
// Plain string building keeps the output byte-stable for a given input (reviewable diffs).

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';
/** Colour per series role, chosen to stay distinguishable for common colour-vision deficiencies. */
export const COLORS = {
  tidewatch: '#1f77b4',
  baseline: '#7f7f7f',
  peer: '#ff7f0e',
  peer2: '#d62728',
  oracle: '#2ca02c',
};

function esc(s) {
  return String(s).replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  );
}

/**
 * One panel of horizontal grouped bars at (x, y), `width` wide; returns {svg, height}.
 * groups: [{label, bars: [{label, value, color, text?}]}]; `ref` draws a dashed reference line
 * (e.g. baseline = 1.0) with its label. Non-finite values are drawn as "not run".
 */
export function barPanel({ x, y, width, title, axis, groups, ref, format = (v) => String(v) }) {
  const labelW = 190;
  const barH = 16;
  const gap = 4;
  const groupGap = 14;
  const plotX = x + labelW;
  const plotW = width - labelW - 70;
  const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter(Number.isFinite);
  const max = Math.max(...values, ref?.value ?? 0) * 1.05 || 1;
  const sx = (v) => (Math.max(0, v) / max) * plotW;
  const out = [
    `<text x="${x}" y="${y + 14}" ${FONT} font-size="14" font-weight="600" fill="#222">${esc(title)}</text>`,
  ];
  let cy = y + 30;
  for (const g of groups) {
    out.push(
      `<text x="${x}" y="${cy + 12}" ${FONT} font-size="12" font-weight="600" fill="#333">${esc(g.label)}</text>`,
    );
    cy += 18;
    for (const b of g.bars) {
      out.push(
        `<text x="${plotX - 6}" y="${cy + barH - 4}" ${FONT} font-size="11" fill="#333" text-anchor="end">${esc(b.label)}</text>`,
      );
      if (Number.isFinite(b.value)) {
        const w = Math.max(1, sx(b.value));
        out.push(
          `<rect x="${plotX}" y="${cy}" width="${w.toFixed(1)}" height="${barH}" fill="${b.color}"><title>${esc(`${b.label}: ${b.text ?? format(b.value)}`)}</title></rect>`,
          `<text x="${(plotX + w + 4).toFixed(1)}" y="${cy + barH - 4}" ${FONT} font-size="11" fill="#222">${esc(b.text ?? format(b.value))}</text>`,
        );
      } else {
        out.push(
          `<text x="${plotX + 4}" y="${cy + barH - 4}" ${FONT} font-size="11" fill="#999">not run</text>`,
        );
      }
      cy += barH + gap;
    }
    cy += groupGap;
  }
  if (ref && Number.isFinite(ref.value)) {
    const rx = (plotX + sx(ref.value)).toFixed(1);
    out.push(
      `<line x1="${rx}" y1="${y + 26}" x2="${rx}" y2="${cy - groupGap}" stroke="#444" stroke-dasharray="4 3"/>`,
      `<text x="${rx}" y="${cy - groupGap + 12}" ${FONT} font-size="10" fill="#444" text-anchor="middle">${esc(ref.label)}</text>`,
    );
    cy += 10;
  }
  out.push(
    `<line x1="${plotX}" y1="${y + 26}" x2="${plotX}" y2="${cy - groupGap}" stroke="#999"/>`,
    `<text x="${plotX + plotW / 2}" y="${cy + 4}" ${FONT} font-size="11" fill="#555" text-anchor="middle">${esc(axis)}</text>`,
  );
  return { svg: out.join('\n'), height: cy + 14 - y };
}

/** A whole SVG document of panels laid out left to right; `desc` is the accessible summary. */
export function svgDocument({ title, desc, panels, panelWidth = 460 }) {
  const rendered = panels.map((p, i) =>
    barPanel({ ...p, x: 16 + i * (panelWidth + 24), y: 44, width: panelWidth }),
  );
  const width = 16 + panels.length * (panelWidth + 24);
  const height = 44 + Math.max(...rendered.map((r) => r.height)) + 12;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="t d">`,
    `<title id="t">${esc(title)}</title>`,
    `<desc id="d">${esc(desc)}</desc>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="16" y="26" ${FONT} font-size="16" font-weight="700" fill="#111">${esc(title)}</text>`,
    ...rendered.map((r) => r.svg),
    '</svg>',
    '',
  ].join('\n');
}
