// Rasterising images and image grids (the DLG paper's Fig. 1 layout: one row per attack, the ground
// truth then snapshots every k iterations) into 8-bit pixels, in plain TypeScript for Node and the page.
//
// Each CHW image is clipped to [0,1] (NaN -> mid-grey 0.5, +-Infinity -> 1/0), upscaled by nearest
// neighbour and placed on a white canvas with white gaps between cells. Labels are one SVG text layer that
// the platform rasterises (TextRasterizer) and that is alpha-blended onto the canvas.
// A 1-channel (greyscale) raster when the images have 1 channel, else 3-channel RGB.
import { escapeXml, FONT_FAMILY } from './svg.js';

export type Image = Float64Array | Float32Array;

export interface GridRow {
  /** Drawn to the left of the row (e.g. the attack name). */
  label?: string;
  /** The row's cells, left to right (e.g. ground truth, iter 0, iter 10, ...). */
  images: readonly Image[];
}

export interface ImageGrid {
  rows: readonly GridRow[];
  /** Drawn above the columns (e.g. "ground truth", "iter 0", "iter 10"). */
  columnLabels?: readonly string[];
  /** [C, H, W] of every image; C must be 1 or 3. */
  shape: readonly [number, number, number];
  /** Nearest-neighbour upscaling factor; default defaultScale(shape) (~96 px cells). */
  scale?: number;
  /** White gap between cells in output pixels; default 4. */
  gap?: number;
}

export interface RasterImage {
  /** Interleaved 8-bit pixels, row by row. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

/** Integer scale that shows an image at about 96 px on its longer side (28 -> 3, 32 -> 3). */
export function defaultScale(shape: readonly [number, number, number]): number {
  return Math.max(1, Math.round(96 / Math.max(shape[1], shape[2])));
}

function toByte(v: number): number {
  if (Number.isNaN(v)) return 128;
  if (v <= 0) return 0;
  if (v >= 1) return 255;
  return Math.round(v * 255);
}

function checkShape(shape: readonly [number, number, number], what: string): void {
  const [C, H, W] = shape;
  if (C !== 1 && C !== 3) throw new RangeError(`${what}: images must have 1 or 3 channels, got ${C}`);
  if (!(Number.isInteger(H) && Number.isInteger(W) && H > 0 && W > 0)) {
    throw new RangeError(`${what}: bad image size ${H}x${W}`);
  }
}

/** Draws image (CHW) at (x0, y0) of an interleaved canvas with `ch` channels. */
function blit(
  canvas: Uint8Array,
  canvasW: number,
  ch: 1 | 3,
  img: Image,
  shape: readonly [number, number, number],
  scale: number,
  x0: number,
  y0: number,
): void {
  const [C, H, W] = shape;
  const plane = H * W;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const r = toByte(img[p]!);
      const g = C === 3 ? toByte(img[plane + p]!) : r;
      const b = C === 3 ? toByte(img[2 * plane + p]!) : r;
      for (let dy = 0; dy < scale; dy++) {
        let o = ((y0 + y * scale + dy) * canvasW + x0 + x * scale) * ch;
        for (let dx = 0; dx < scale; dx++) {
          if (ch === 1) {
            canvas[o++] = r;
          } else {
            canvas[o++] = r;
            canvas[o++] = g;
            canvas[o++] = b;
          }
        }
      }
    }
  }
}

/** A generous estimate of the rendered width: sans-serif M and W are ~1 em wide, other capitals ~0.75 em, most other glyphs <= 0.6 em. */
function textWidth(s: string, fontSize: number): number {
  let em = 0;
  for (const ch of s) em += ch === 'M' || ch === 'W' ? 1 : ch >= 'A' && ch <= 'Z' ? 0.75 : 0.6;
  return em * fontSize;
}

export interface TextItem {
  x: number;
  y: number; // baseline
  anchor: 'start' | 'middle' | 'end';
  size: number;
  text: string;
}

/** The text items as one SVG of the canvas' size (black text on transparent), for a TextRasterizer. */
export function textLayerSvg(items: readonly TextItem[], width: number, height: number): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    items
      .map(
        (t) =>
          `<text x="${t.x}" y="${t.y}" text-anchor="${t.anchor}" font-family="${escapeXml(FONT_FAMILY)}" font-size="${t.size}" fill="#000000">${escapeXml(t.text)}</text>`,
      )
      .join('') +
    '</svg>'
  );
}

/**
 * Turns an SVG text layer into RGBA pixels of the given size (sharp's librsvg in Node, the browser's own SVG
 * renderer on a page), or null when it cannot: text is decoration, a figure is never failed because of it.
 */
export type TextRasterizer = (svg: string, width: number, height: number) => Promise<Uint8Array | null>;

/** Alpha-blends an RGBA text layer onto the canvas in place (greyscale canvases get its luminance). */
export function blendTextLayer(canvas: RasterImage, layer: Uint8Array): void {
  const { width, height } = canvas;
  if (layer.length !== width * height * 4) return;
  const data = layer;
  const ch = canvas.channels;
  const out = canvas.data;
  for (let i = 0, n = width * height; i < n; i++) {
    const a = data[4 * i + 3]!;
    if (a === 0) continue;
    const t = a / 255;
    if (ch === 1) {
      const lum = 0.299 * data[4 * i]! + 0.587 * data[4 * i + 1]! + 0.114 * data[4 * i + 2]!;
      out[i] = Math.round(out[i]! * (1 - t) + lum * t);
    } else {
      for (let c = 0; c < 3; c++) {
        const j = 3 * i + c;
        out[j] = Math.round(out[j]! * (1 - t) + data[4 * i + c]! * t);
      }
    }
  }
}

export interface GridLayout {
  width: number;
  height: number;
  scale: number;
  gap: number;
  nRows: number;
  nCols: number;
  cellW: number;
  cellH: number;
  /** Width of the row-label column (0 without row labels). */
  labelW: number;
  /** Height of the column-label band (0 without column labels). */
  headerH: number;
  colFont: number;
  rowFont: number;
  /** Left x of column j's cells. */
  cellX(j: number): number;
  /** Top y of row i's cells. */
  cellY(i: number): number;
}

/** Pixel layout of a grid (canvas size and cell positions), as used by writeImageGrid. */
export function gridLayout(grid: ImageGrid): GridLayout {
  const [, H, W] = grid.shape;
  const scale = grid.scale ?? defaultScale(grid.shape);
  if (!(Number.isInteger(scale) && scale >= 1)) throw new RangeError(`writeImageGrid: scale must be a positive integer, got ${scale}`);
  const gap = grid.gap ?? 4;
  if (!(Number.isInteger(gap) && gap >= 0)) throw new RangeError(`writeImageGrid: gap must be a non-negative integer, got ${gap}`);
  const nRows = grid.rows.length;
  const nCols = Math.max(0, grid.columnLabels?.length ?? 0, ...grid.rows.map((r) => r.images.length));
  const cellW = W * scale;
  const cellH = H * scale;
  const rowFont = 13;
  const colLabels = grid.columnLabels ?? [];
  const maxColLen = Math.max(0, ...colLabels.map((l) => l.length));
  // Column labels shrink (down to 8 px) so that the longest fits the cell width.
  const colFont = maxColLen ? Math.max(8, Math.min(13, Math.floor(cellW / (0.6 * maxColLen)))) : 0;
  const headerH = colLabels.some((l) => l.length > 0) ? colFont + 8 : 0;
  const rowLabels = grid.rows.map((r) => r.label ?? '');
  const labelW = rowLabels.some((l) => l.length > 0)
    ? Math.ceil(Math.max(...rowLabels.map((l) => textWidth(l, rowFont)))) + 8
    : 0;
  return {
    width: labelW + gap + nCols * (cellW + gap),
    height: headerH + gap + nRows * (cellH + gap),
    scale,
    gap,
    nRows,
    nCols,
    cellW,
    cellH,
    labelW,
    headerH,
    colFont,
    rowFont,
    cellX: (j) => labelW + gap + j * (cellW + gap),
    cellY: (i) => headerH + gap + i * (cellH + gap),
  };
}

/** Rasterises a grid (see writeImageGrid) into an interleaved 8-bit buffer. */
export async function renderImageGrid(grid: ImageGrid, rasterizeText: TextRasterizer): Promise<RasterImage> {
  const shape = grid.shape;
  checkShape(shape, 'writeImageGrid');
  const [C, H, W] = shape;
  const L = gridLayout(grid);
  if (L.nRows === 0 || L.nCols === 0) throw new RangeError('writeImageGrid: the grid has no images');
  grid.rows.forEach((r, i) =>
    r.images.forEach((img, j) => {
      if (img.length !== C * H * W) {
        throw new RangeError(`writeImageGrid: image at row ${i}, column ${j} has ${img.length} values, shape [${C}, ${H}, ${W}] needs ${C * H * W}`);
      }
    }),
  );
  const { width, height, cellW, cellH, cellX, cellY, labelW, headerH, colFont, rowFont } = L;
  const channels: 1 | 3 = C === 1 ? 1 : 3;
  const data = new Uint8Array(width * height * channels).fill(255);
  const raster: RasterImage = { data, width, height, channels };
  grid.rows.forEach((r, i) => r.images.forEach((img, j) => blit(data, width, channels, img, shape, L.scale, cellX(j), cellY(i))));

  const text: TextItem[] = [];
  (grid.columnLabels ?? []).forEach((l, j) => {
    if (l) text.push({ x: cellX(j) + cellW / 2, y: headerH - 4 + Math.floor(L.gap / 2), anchor: 'middle', size: colFont, text: l });
  });
  grid.rows.forEach((r, i) => {
    const l = r.label ?? '';
    if (l) text.push({ x: labelW - 4, y: Math.round(cellY(i) + cellH / 2 + rowFont * 0.35), anchor: 'end', size: rowFont, text: l });
  });
  if (text.length > 0) {
    const layer = await rasterizeText(textLayerSvg(text, width, height), width, height).catch(() => null);
    if (layer) blendTextLayer(raster, layer);
  }
  return raster;
}

/** One CHW image (1 or 3 channels) as a raster, upscaled by `scale` (default ~96 px). */
export function rasterImage(image: Image, shape: readonly [number, number, number], scale?: number): RasterImage {
  checkShape(shape, 'writeImagePng');
  const [C, H, W] = shape;
  if (image.length !== C * H * W) {
    throw new RangeError(`writeImagePng: image has ${image.length} values, shape [${C}, ${H}, ${W}] needs ${C * H * W}`);
  }
  const s = scale ?? defaultScale(shape);
  if (!(Number.isInteger(s) && s >= 1)) throw new RangeError(`writeImagePng: scale must be a positive integer, got ${s}`);
  const channels: 1 | 3 = C === 1 ? 1 : 3;
  const width = W * s;
  const height = H * s;
  const data = new Uint8Array(width * height * channels).fill(255);
  blit(data, width, channels, image, shape, s, 0, 0);
  return { data, width, height, channels };
}
