// Self-contained, hand-written SVG line charts (no dependencies), e.g. the run's
// curves.svg: objective and MSE (log scale) against iteration, side by side.
//
// Each series is one <path class="series"> element (drawn even when empty, so the count
// of series paths always equals the number of series). Points with a non-finite x or y,
// or (on a log y axis) y <= 0, are skipped and break the line: the path starts a new
// sub-path after them. An isolated valid point is drawn as a dot.

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
  /** Optional spread drawn as a translucent band in the series colour: [x, low, high] (e.g. min..max over runs). */
  band?: readonly (readonly [number, number, number])[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Logarithmic y axis (ticks at powers of ten). Default false. */
  logY?: boolean;
  series: readonly Series[];
  /** Pixel size of the whole chart. Defaults 640 x 400. */
  width?: number;
  height?: number;
  /** Where the legend goes: inside the plot, top right (default), or in a column right of it, covering nothing. */
  legend?: 'inside' | 'right';
}

/** Escapes text for use in XML character data and attribute values. */
export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    // Control characters other than tab/newline/CR are not allowed in XML 1.0.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

/** Tableau-10 palette; beyond ten series the colours repeat with dash patterns. */
export const PALETTE = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
  '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];

export const FONT_FAMILY = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/** Rounds to 2 decimals for compact coordinates. */
function f(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** A "nice" step (1, 2 or 5 times a power of ten) giving about `target` intervals over span. */
function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  const nice = m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10;
  return nice * p;
}

interface Axis {
  lo: number; // domain in data units (log10 units on a log axis)
  hi: number;
  ticks: number[]; // in the same units as lo/hi
  label(t: number): string;
}

function formatNumber(v: number, step: number): string {
  if (v === 0) return '0';
  const av = Math.abs(v);
  if (av >= 1e6 || av < 1e-4) {
    const s = v.toExponential(2).replace(/\.?0+e/, 'e').replace('e+', 'e');
    return s;
  }
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals);
}

/** Linear axis over [min, max], extended to whole ticks. */
export function linearAxis(min: number, max: number, target = 6): Axis {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    min = 0;
    max = 1;
  }
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const step = niceStep(max - min, target);
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  const n = Math.round((hi - lo) / step);
  for (let i = 0; i <= n; i++) {
    const t = lo + i * step;
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return { lo, hi, ticks, label: (t) => formatNumber(t, step) };
}

function formatPow10(k: number): string {
  if (k >= -3 && k <= 4) return k < 0 ? (10 ** k).toFixed(-k) : String(10 ** k);
  return `1e${k}`;
}

/** Log axis (domain in log10 units) from whole decades around [min, max] (both > 0). */
export function logAxis(min: number, max: number, maxTicks = 8): Axis {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max)) {
    min = 1;
    max = 10;
  }
  let lo = Math.floor(Math.log10(min) + 1e-9);
  let hi = Math.ceil(Math.log10(max) - 1e-9);
  if (hi <= lo) hi = lo + 1;
  const every = Math.max(1, Math.ceil((hi - lo) / maxTicks));
  lo = Math.floor(lo / every) * every;
  hi = Math.ceil(hi / every) * every;
  const ticks: number[] = [];
  for (let k = lo; k <= hi; k += every) ticks.push(k);
  return { lo, hi, ticks, label: (k) => formatPow10(Math.round(k)) };
}

/** Approximate rendered text width for the layout (DejaVu Sans averages ~0.6 em). */
function textWidth(s: string, fontSize: number): number {
  return s.length * fontSize * 0.6;
}

/** Renders a line chart as a standalone SVG document string. */
export function lineChartSvg(opts: LineChartOptions): string {
  const width = opts.width ?? 640;
  const height = opts.height ?? 400;
  const logY = opts.logY ?? false;
  const fs = 12;

  const usable = (x: number, y: number): boolean =>
    Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  for (const s of opts.series) {
    const bandPoints = (s.band ?? []).flatMap(([x, lo, hi]) => [[x, lo], [x, hi]] as const);
    for (const [x, y] of [...s.points, ...bandPoints]) {
      if (!usable(x, y)) continue;
      if (x < xmin) xmin = x;
      if (x > xmax) xmax = x;
      if (y < ymin) ymin = y;
      if (y > ymax) ymax = y;
    }
  }
  const hasData = xmin <= xmax;
  const xa = hasData ? linearAxis(xmin, xmax) : linearAxis(0, 1);
  const ya = logY ? (hasData ? logAxis(ymin, ymax) : logAxis(1, 10)) : hasData ? linearAxis(ymin, ymax) : linearAxis(0, 1);

  const yTickLabels = ya.ticks.map((t) => ya.label(t));
  const yTickW = Math.max(0, ...yTickLabels.map((l) => textWidth(l, fs)));
  const left = Math.ceil(yTickW + 8 + 6 + fs + 10); // tick labels, tick, gap, rotated y label
  const top = 36;
  const legendW = opts.series.length > 0 ? Math.ceil(Math.max(...opts.series.map((s) => textWidth(s.name, fs))) + 34) : 0;
  const right = opts.legend === 'right' ? legendW + 24 : 16;
  const bottom = 52;
  const pw = Math.max(10, width - left - right);
  const ph = Math.max(10, height - top - bottom);

  const sx = (x: number): number => left + ((x - xa.lo) / (xa.hi - xa.lo)) * pw;
  const sy = (y: number): number => {
    const v = logY ? Math.log10(y) : y;
    return top + ph - ((v - ya.lo) / (ya.hi - ya.lo)) * ph;
  };
  const syTick = (t: number): number => top + ph - ((t - ya.lo) / (ya.hi - ya.lo)) * ph;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FONT_FAMILY)}" font-size="${fs}">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="${f(left + pw / 2)}" y="22" text-anchor="middle" font-size="${fs + 3}" font-weight="bold">${escapeXml(opts.title)}</text>`,
  );

  // Grid and ticks.
  out.push('<g stroke="#e5e5e5" stroke-width="1">');
  for (const t of xa.ticks) out.push(`<line x1="${f(sx(t))}" y1="${top}" x2="${f(sx(t))}" y2="${top + ph}"/>`);
  for (const t of ya.ticks) out.push(`<line x1="${left}" y1="${f(syTick(t))}" x2="${left + pw}" y2="${f(syTick(t))}"/>`);
  out.push('</g>');
  out.push('<g stroke="#000000" stroke-width="1">');
  out.push(`<line x1="${left}" y1="${top + ph}" x2="${left + pw}" y2="${top + ph}"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + ph}"/>`);
  for (const t of xa.ticks) out.push(`<line x1="${f(sx(t))}" y1="${top + ph}" x2="${f(sx(t))}" y2="${top + ph + 5}"/>`);
  for (const t of ya.ticks) out.push(`<line x1="${left - 5}" y1="${f(syTick(t))}" x2="${left}" y2="${f(syTick(t))}"/>`);
  out.push('</g>');
  out.push('<g fill="#000000">');
  for (const t of xa.ticks) {
    out.push(`<text x="${f(sx(t))}" y="${top + ph + 8 + fs}" text-anchor="middle">${escapeXml(xa.label(t))}</text>`);
  }
  ya.ticks.forEach((t, i) => {
    out.push(`<text x="${left - 8}" y="${f(syTick(t) + fs * 0.35)}" text-anchor="end">${escapeXml(yTickLabels[i]!)}</text>`);
  });
  out.push(`<text x="${f(left + pw / 2)}" y="${height - 12}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  const ylx = 4 + fs;
  const yly = top + ph / 2;
  out.push(
    `<text x="${ylx}" y="${f(yly)}" text-anchor="middle" transform="rotate(-90 ${ylx} ${f(yly)})">${escapeXml(opts.yLabel + (logY ? ' (log)' : ''))}</text>`,
  );
  out.push('</g>');
  if (!hasData) {
    out.push(
      `<text x="${f(left + pw / 2)}" y="${f(top + ph / 2)}" text-anchor="middle" fill="#888888">no data</text>`,
    );
  }

  // Bands (under the lines): a polygon along the highs, back along the lows.
  opts.series.forEach((s, i) => {
    const band = (s.band ?? []).filter(([x, lo, hi]) => usable(x, lo) && usable(x, hi));
    if (band.length < 2) return;
    const pts = [...band.map(([x, , hi]) => `${f(sx(x))},${f(sy(hi))}`), ...band.reverse().map(([x, lo]) => `${f(sx(x))},${f(sy(lo))}`)];
    out.push(`<polygon class="band" points="${pts.join(' ')}" fill="${PALETTE[i % PALETTE.length]!}" fill-opacity="0.15" stroke="none"/>`);
  });

  // Series.
  opts.series.forEach((s, i) => {
    const d: string[] = [];
    const dots: [number, number][] = []; // isolated points, drawn as markers (a line of one point would not show)
    let run: string[] = [], last: [number, number] = [0, 0];
    const flush = (): void => {
      if (run.length === 1) (d.push(run[0]! + 'h0'), dots.push(last));
      else if (run.length > 1) d.push(run.join(''));
      run = [];
    };
    for (const [x, y] of s.points) {
      if (!usable(x, y)) {
        flush();
        continue;
      }
      last = [sx(x), sy(y)];
      run.push(`${run.length === 0 ? 'M' : 'L'}${f(last[0])} ${f(last[1])}`);
    }
    flush();
    const colour = PALETTE[i % PALETTE.length]!;
    for (const [x, y] of dots) out.push(`<circle class="marker" cx="${f(x)}" cy="${f(y)}" r="3.5" fill="${colour}"/>`);
    const dash = DASHES[Math.floor(i / PALETTE.length) % DASHES.length]!;
    out.push(
      `<path class="series" data-name="${escapeXml(s.name)}" d="${d.join('')}" fill="none" stroke="${colour}" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
    );
  });

  // Legend: top-right inside the plot, or right of it.
  if (opts.series.length > 0) {
    const lh = fs + 5;
    const lw = legendW;
    const lx = opts.legend === 'right' ? left + pw + 16 : left + pw - lw - 8;
    const ly = top + 8;
    out.push('<g class="legend">');
    out.push(
      `<rect x="${f(lx)}" y="${ly}" width="${lw}" height="${opts.series.length * lh + 8}" fill="#ffffff" fill-opacity="0.85" stroke="#bbbbbb"/>`,
    );
    opts.series.forEach((s, i) => {
      const yy = ly + 4 + i * lh + lh / 2;
      const colour = PALETTE[i % PALETTE.length]!;
      const dash = DASHES[Math.floor(i / PALETTE.length) % DASHES.length]!;
      out.push(
        `<line x1="${f(lx + 6)}" y1="${f(yy)}" x2="${f(lx + 24)}" y2="${f(yy)}" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
      );
      out.push(`<text x="${f(lx + 28)}" y="${f(yy + fs * 0.35)}">${escapeXml(s.name)}</text>`);
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function svgSize(svg: string): { width: number; height: number } {
  const open = /<svg\b[^>]*>/.exec(svg);
  const tag = open ? open[0] : '';
  const w = /\swidth="([\d.]+)"/.exec(tag);
  const h = /\sheight="([\d.]+)"/.exec(tag);
  return { width: w ? Number(w[1]) : 640, height: h ? Number(h[1]) : 400 };
}

/**
 * Places several charts side by side (left to right) in one SVG document. Each chart
 * is a string from lineChartSvg (or any standalone SVG with numeric width/height) or
 * the options to build one; it is embedded as a nested <svg> element.
 */
export function panelsSvg(charts: readonly (string | LineChartOptions)[], gap = 0): string {
  const svgs = charts.map((c) => (typeof c === 'string' ? c : lineChartSvg(c)));
  const sizes = svgs.map(svgSize);
  const width = sizes.reduce((s, z) => s + z.width, 0) + gap * Math.max(0, svgs.length - 1);
  const height = Math.max(1, ...sizes.map((z) => z.height));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  let x = 0;
  svgs.forEach((svg, i) => {
    const body = svg.replace(/^\s*<\?xml[^>]*\?>\s*/, '').replace(/<svg\b/, `<svg x="${x}" y="0"`);
    out.push(body.trim());
    x += sizes[i]!.width + gap;
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
