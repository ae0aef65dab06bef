// Pixels on canvases, rasterised by the library's own code (src/report/raster.ts), so that what the page
// shows is what snapshots.png holds.
import { rasterImage, type RasterImage, type TextRasterizer } from '../../src/report/raster.js';

export function drawRaster(canvas: HTMLCanvasElement, r: RasterImage): void {
  canvas.width = r.width;
  canvas.height = r.height;
  const rgba = new ImageData(r.width, r.height);
  for (let i = 0; i < r.width * r.height; i++) {
    for (let c = 0; c < 3; c++) rgba.data[4 * i + c] = r.data[r.channels * i + (r.channels === 1 ? 0 : c)]!;
    rgba.data[4 * i + 3] = 255;
  }
  canvas.getContext('2d')!.putImageData(rgba, 0, 0);
}

/** A 1x28x28 image on a canvas, upscaled `scale` times. */
export function drawImage(canvas: HTMLCanvasElement, image: Float64Array, scale = 8): void {
  drawRaster(canvas, rasterImage(image, [1, 28, 28], scale));
}

/** The browser's SVG renderer as the grid's text rasteriser (Node uses sharp's librsvg). */
export const browserText: TextRasterizer = async (svg, width, height) => {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image(width, height);
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0, width, height);
    return new Uint8Array(ctx.getImageData(0, 0, width, height).data.buffer);
  } finally {
    URL.revokeObjectURL(url);
  }
};
