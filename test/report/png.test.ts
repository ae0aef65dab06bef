import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { defaultScale, gridLayout, writeImageGrid, writeImagePng, type ImageGrid } from '../../src/report/png.js';
import { UserError } from '../../src/util/errors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradleak-png-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function readBack(p: string): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const meta = await sharp(p).metadata();
  assert.equal(meta.format, 'png');
  // sharp decodes to sRGB by default; keep a greyscale file greyscale.
  const pipeline = meta.channels === 1 ? sharp(p).toColourspace('b-w') : sharp(p);
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, meta.channels);
  return { data, width: info.width, height: info.height, channels: meta.channels };
}

function pixel(img: { data: Buffer; width: number; channels: number }, x: number, y: number): number[] {
  const o = (y * img.width + x) * img.channels;
  return [...img.data.subarray(o, o + img.channels)];
}

function filled(n: number, v: number): Float64Array {
  return new Float64Array(n).fill(v);
}

test('defaultScale shows 28 and 32 px images at about 96 px', () => {
  assert.equal(defaultScale([1, 28, 28]), 3);
  assert.equal(defaultScale([3, 32, 32]), 3);
  assert.equal(defaultScale([3, 250, 250]), 1);
  assert.equal(defaultScale([1, 8, 8]), 12);
});

test('writeImageGrid: greyscale grid with labels; white, black, clipped, NaN cells', async () => {
  const n = 28 * 28;
  const over = filled(n, 7); // clipped to 1 -> white
  const under = filled(n, -3); // clipped to 0 -> black
  const grid: ImageGrid = {
    shape: [1, 28, 28],
    columnLabels: ['ground truth', 'iter 0', 'iter 10'],
    rows: [
      { label: 'DLG', images: [filled(n, 1), filled(n, 0), filled(n, NaN)] },
      { label: 'iDLG <&>', images: [over, under] }, // short row: last cell stays white
    ],
  };
  const p = path.join(dir, 'sub', 'dir', 'grid.png'); // parent dirs are created
  await writeImageGrid(p, grid);
  const img = await readBack(p);
  const L = gridLayout(grid);
  assert.equal(L.scale, 3);
  assert.ok(L.labelW > 0 && L.headerH > 0);
  assert.equal(img.width, L.width);
  assert.equal(img.height, L.height);
  assert.equal(img.width, L.labelW + 4 + 3 * (84 + 4));
  assert.equal(img.height, L.headerH + 4 + 2 * (84 + 4));
  assert.equal(img.channels, 1);
  const centre = (i: number, j: number): number[] => pixel(img, L.cellX(j) + 42, L.cellY(i) + 42);
  const corner = (i: number, j: number): number[] => pixel(img, L.cellX(j), L.cellY(i) + L.cellH - 1);
  assert.deepEqual(centre(0, 0), [255]);
  assert.deepEqual(corner(0, 0), [255]);
  assert.deepEqual(centre(0, 1), [0]);
  assert.deepEqual(corner(0, 1), [0]);
  assert.deepEqual(centre(0, 2), [128]); // NaN -> mid-grey
  assert.deepEqual(centre(1, 0), [255]);
  assert.deepEqual(centre(1, 1), [0]);
  assert.deepEqual(centre(1, 2), [255]); // missing cell
  assert.deepEqual(pixel(img, L.cellX(1) - 1, L.cellY(0) + 10), [255]); // gap between cells is white
  // some text was drawn in the label areas (fonts are installed here; see the no-font test too)
  let inkTop = 0;
  for (let y = 0; y < L.headerH; y++) for (let x = 0; x < img.width; x++) if (pixel(img, x, y)[0]! < 128) inkTop++;
  let inkLeft = 0;
  for (let y = 0; y < img.height; y++) for (let x = 0; x < L.labelW; x++) if (pixel(img, x, y)[0]! < 128) inkLeft++;
  assert.ok(inkTop > 0, 'column labels drawn');
  assert.ok(inkLeft > 0, 'row labels drawn');
});

test('writeImageGrid: colour images give an RGB PNG with the right colours', async () => {
  const shape: [number, number, number] = [3, 32, 32];
  const plane = 32 * 32;
  const red = new Float64Array(3 * plane);
  red.fill(1, 0, plane);
  const white = filled(3 * plane, 1);
  const black = filled(3 * plane, 0);
  const grid: ImageGrid = { shape, rows: [{ images: [red, white, black] }], scale: 2, gap: 3 };
  const p = path.join(dir, 'rgb.png');
  await writeImageGrid(p, grid);
  const img = await readBack(p);
  const L = gridLayout(grid);
  assert.equal(L.labelW, 0);
  assert.equal(L.headerH, 0);
  assert.equal(img.width, 3 + 3 * (64 + 3));
  assert.equal(img.height, 3 + 64 + 3);
  assert.equal(img.channels, 3);
  assert.deepEqual(pixel(img, L.cellX(0) + 5, L.cellY(0) + 5), [255, 0, 0]);
  assert.deepEqual(pixel(img, L.cellX(1) + 5, L.cellY(0) + 5), [255, 255, 255]);
  assert.deepEqual(pixel(img, L.cellX(2) + 63, L.cellY(0) + 63), [0, 0, 0]);
});

test('writeImagePng: one image, nearest-neighbour upscaling', async () => {
  // 2x2 checkerboard at scale 4 -> 8x8 with 4x4 blocks
  const img = new Float32Array([0, 1, 1, 0]);
  const p = path.join(dir, 'one.png');
  await writeImagePng(p, img, [1, 2, 2], 4);
  const r = await readBack(p);
  assert.equal(r.width, 8);
  assert.equal(r.height, 8);
  assert.equal(r.channels, 1);
  assert.deepEqual(pixel(r, 0, 0), [0]);
  assert.deepEqual(pixel(r, 3, 3), [0]);
  assert.deepEqual(pixel(r, 4, 0), [255]);
  assert.deepEqual(pixel(r, 0, 7), [255]);
  assert.deepEqual(pixel(r, 7, 7), [0]);
});

test('writeImageGrid: bad input', async () => {
  await assert.rejects(writeImageGrid(path.join(dir, 'x.png'), { shape: [1, 2, 2], rows: [] }), RangeError);
  await assert.rejects(
    writeImageGrid(path.join(dir, 'x.png'), { shape: [1, 2, 2], rows: [{ images: [new Float64Array(3)] }] }),
    RangeError,
  );
  await assert.rejects(
    writeImageGrid(path.join(dir, 'x.png'), { shape: [2, 2, 2], rows: [{ images: [new Float64Array(8)] }] }),
    RangeError,
  );
  // unwritable destination: parent is a regular file
  const file = path.join(dir, 'afile');
  fs.writeFileSync(file, 'x');
  await assert.rejects(writeImagePng(path.join(file, 'y.png'), new Float64Array(4), [1, 2, 2]), UserError);
});

test('writeImageGrid still works when fontconfig finds no fonts', async () => {
  const conf = path.join(dir, 'empty-fonts.conf');
  fs.writeFileSync(conf, '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig></fontconfig>\n');
  const out = path.join(dir, 'nofont.png');
  const mod = new URL('../../src/report/png.js', import.meta.url).href;
  const script = `
    const { writeImageGrid } = await import(${JSON.stringify(mod)});
    const n = 16 * 16;
    await writeImageGrid(${JSON.stringify(out)}, {
      shape: [1, 16, 16], scale: 2,
      columnLabels: ['ground truth', 'iter 5'],
      rows: [{ label: 'DLG', images: [new Float64Array(n).fill(1), new Float64Array(n)] }],
    });
  `;
  const env = { ...process.env, FONTCONFIG_FILE: conf, FONTCONFIG_PATH: dir };
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env,
    cwd: path.dirname(fileURLToPath(import.meta.url)),
  });
  const img = await readBack(out);
  assert.equal(img.channels, 1);
  assert.ok(img.width > 2 * 32 && img.height > 32);
});

test('long capital row labels (FEDAVG-UNROLLED #0, ADMM-AWARE, WMWM) are not cut off at the left edge', async () => {
  const { renderImageGrid, sharpText } = await import('../../src/report/png.js');
  const img = new Float64Array(28 * 28).fill(0.5);
  for (const label of ['FEDAVG-UNROLLED #0', 'ADMM-AWARE', 'WMWMWMWMWM']) {
    const r = await renderImageGrid({ shape: [1, 28, 28], rows: [{ label, images: [img] }] }, sharpText);
    // no dark text pixel in the leftmost pixel column: the label starts inside the picture
    for (let y = 0; y < r.height; y++) assert.ok(r.data[y * r.width * r.channels] > 128, `${label}: dark pixel at (0, ${y}), the label runs off the left edge`);
  }
});
