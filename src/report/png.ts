// PNG files of images and image grids: rasterised by report/raster.ts, labels drawn by sharp (librsvg +
// pango + fontconfig; with no font installed the text renders as nothing, without failing), encoded by
// report/png-encode.ts (the same encoder as the page's downloads).
import { writeFileSync } from 'node:fs';
import * as nodePath from 'node:path';
import sharp from 'sharp';
import { makeDirs } from '../util/files.js';
import { UserError } from '../util/errors.js';
import { rasterImage, renderImageGrid, type Image, type ImageGrid, type RasterImage } from './raster.js';
import { encodePng } from './png-encode.js';

export { defaultScale, gridLayout, renderImageGrid, type Image, type ImageGrid, type RasterImage } from './raster.js';

/** The SVG text layer as RGBA pixels, rendered by sharp (librsvg). */
export async function sharpText(svg: string, width: number, height: number): Promise<Uint8Array | null> {
  const { data, info } = await sharp(Buffer.from(svg), { density: 72 }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return info.width === width && info.height === height && info.channels === 4 ? data : null;
}

function writeRaster(path: string, r: RasterImage): void {
  try {
    makeDirs(nodePath.dirname(path));
    writeFileSync(path, encodePng(r));
  } catch (err) {
    throw new UserError(`${path}: cannot write PNG (${(err as Error).message.split('\n')[0]})`);
  }
}

/**
 * Writes a grid of images as a PNG: rows top to bottom, cells left to right, optional
 * row labels on the left and column labels on top. Rows may have different lengths
 * (missing cells stay white). Parent directories are created.
 */
export async function writeImageGrid(path: string, grid: ImageGrid): Promise<void> {
  writeRaster(path, await renderImageGrid(grid, sharpText));
}

/** Writes one CHW image (1 or 3 channels) as a PNG, upscaled by `scale` (default ~96 px). */
export async function writeImagePng(path: string, image: Image, shape: readonly [number, number, number], scale?: number): Promise<void> {
  writeRaster(path, rasterImage(image, shape, scale));
}
