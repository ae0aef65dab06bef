// A labelled scatter plot as a standalone SVG (an audit's privacy-utility frontier): each point a dot in its colour
// with its label beside it; a point marked `reference` is drawn as a ring. Hand-written like svg.ts's line charts.
import { escapeXml, FONT_FAMILY, linearAxis, PALETTE } from './svg.js';

export interface ScatterPoint {
  label: string;
  x: number;
  y: number;
  reference?: boolean;
}

export interface ScatterOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  points: readonly ScatterPoint[];
  /** Fixed axis ranges (default: the points', extended to whole ticks). */
  xRange?: [number, number];
  yRange?: [number, number];
  width?: number;
  height?: number;
}

const r2 = (v: number) => String(Math.round(v * 100) / 100);

export function scatterSvg(o: ScatterOptions): string {
  const W = o.width ?? 720, H = o.height ?? 460, left = 64, right = 180, top = 40, bottom = 52;
  const shown = o.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = shown.map((p) => p.x), ys = shown.map((p) => p.y);
  const xa = linearAxis(o.xRange?.[0] ?? Math.min(...xs), o.xRange?.[1] ?? Math.max(...xs));
  const ya = linearAxis(o.yRange?.[0] ?? Math.min(...ys), o.yRange?.[1] ?? Math.max(...ys));
  const px = (x: number) => left + ((x - xa.lo) / (xa.hi - xa.lo)) * (W - left - right);
  const py = (y: number) => H - bottom - ((y - ya.lo) / (ya.hi - ya.lo)) * (H - top - bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT_FAMILY}" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(o.title)}</text>`,
  ];
  for (const t of xa.ticks) out.push(`<line x1="${r2(px(t))}" y1="${top}" x2="${r2(px(t))}" y2="${H - bottom}" stroke="#eee"/>`, `<text x="${r2(px(t))}" y="${H - bottom + 16}" text-anchor="middle">${xa.label(t)}</text>`);
  for (const t of ya.ticks) out.push(`<line x1="${left}" y1="${r2(py(t))}" x2="${W - right}" y2="${r2(py(t))}" stroke="#eee"/>`, `<text x="${left - 6}" y="${r2(py(t) + 4)}" text-anchor="end">${ya.label(t)}</text>`);
  out.push(
    `<rect x="${left}" y="${top}" width="${W - left - right}" height="${H - top - bottom}" fill="none" stroke="#444"/>`,
    `<text x="${(left + W - right) / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`,
    `<text x="16" y="${(top + H - bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(top + H - bottom) / 2})">${escapeXml(o.yLabel)}</text>`,
  );
  // labels beside their points, each moved up or down (with a leader line) until it covers no other label
  const placed: { x0: number; x1: number; y: number }[] = [];
  const free = (x0: number, x1: number, y: number) => placed.every((b) => x1 < b.x0 || x0 > b.x1 || Math.abs(y - b.y) >= 13);
  shown.forEach((p, i) => {
    const colour = PALETTE[i % PALETTE.length], x = px(p.x), y = py(p.y);
    out.push(p.reference
      ? `<circle class="point" cx="${r2(x)}" cy="${r2(y)}" r="6" fill="white" stroke="${colour}" stroke-width="2.5"/>`
      : `<circle class="point" cx="${r2(x)}" cy="${r2(y)}" r="5" fill="${colour}"/>`);
  });
  shown.forEach((p, i) => {
    const colour = PALETTE[i % PALETTE.length], x = px(p.x), y = py(p.y), x0 = x + 9, x1 = x0 + p.label.length * 7.2;
    const offsets = Array.from({ length: 41 }, (_, k) => (k % 2 ? 1 : -1) * Math.ceil(k / 2) * 13);
    const dy = offsets.find((d) => free(x0, x1, y + 4 + d)) ?? 0;
    placed.push({ x0, x1, y: y + 4 + dy });
    if (dy !== 0) out.push(`<line x1="${r2(x + 4)}" y1="${r2(y)}" x2="${r2(x0 - 1)}" y2="${r2(y + dy)}" stroke="${colour}" stroke-width="0.8"/>`);
    out.push(`<text x="${r2(x0)}" y="${r2(y + 4 + dy)}" fill="${colour}">${escapeXml(p.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
