// Image folder (labels from subfolders) and single image datasets, and their broken inputs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { UserError } from '../../src/util/errors.js';
import { openImageFolder } from '../../src/data/folder.js';
import { openImageFile, decodeImage } from '../../src/data/image-file.js';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gradleak-folder-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const img = (w: number, h: number, bg: { r: number; g: number; b: number; alpha?: number }, fmt: 'png' | 'jpeg' = 'png') =>
  sharp({ create: { width: w, height: h, channels: bg.alpha === undefined ? 3 : 4, background: bg } })[fmt]().toBuffer();

test('folder: labels from sorted subfolder names, nested files, images resized to the model input', async () => {
  const dir = path.join(tmp, 'classes');
  for (const [cls, colour] of [['zebra', { r: 255, g: 255, b: 255 }], ['ant', { r: 0, g: 0, b: 0 }], ['bee', { r: 255, g: 0, b: 0 }]] as const) {
    fs.mkdirSync(path.join(dir, cls, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, cls, 'b.png'), await img(40, 20, colour));
    fs.writeFileSync(path.join(dir, cls, 'sub', 'a.jpg'), await img(7, 9, colour, 'jpeg'));
    fs.writeFileSync(path.join(dir, cls, 'notes.txt'), 'ignored');
    fs.writeFileSync(path.join(dir, cls, '.hidden.png'), 'ignored');
  }
  fs.mkdirSync(path.join(dir, 'empty-class'));
  const ds = openImageFolder(dir, [3, 16, 16]);
  assert.deepEqual(ds.classes, ['ant', 'bee', 'zebra']);
  assert.equal(ds.numClasses, 3);
  assert.equal(ds.count, 6);
  assert.deepEqual([...ds.labels], [0, 0, 1, 1, 2, 2]);
  assert.deepEqual(ds.files.map((f) => path.relative(dir, f)), ['ant/b.png', 'ant/sub/a.jpg', 'bee/b.png', 'bee/sub/a.jpg', 'zebra/b.png', 'zebra/sub/a.jpg']);
  const bee = await ds.get(2);
  assert.equal(bee.label, 1);
  assert.equal(bee.image.length, 3 * 16 * 16);
  assert.ok(bee.image.subarray(0, 256).every((v) => v > 0.99) && bee.image.subarray(256).every((v) => v < 0.01));
  // grey model input
  const grey = openImageFolder(dir, [1, 28, 28]);
  const z = await grey.get(5);
  assert.equal(z.image.length, 784);
  assert.ok(z.image.every((v) => v > 0.95));
});

test('folder: empty, no images, images without class subfolders, not a folder, a .png that is not an image', async () => {
  const empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty);
  assert.throws(() => openImageFolder(empty, [3, 32, 32]), (e: Error) => e instanceof UserError && e.message === `${empty}: empty folder (expected one subfolder of images per class)`);
  const noImages = path.join(tmp, 'no-images');
  fs.mkdirSync(path.join(noImages, 'cls'), { recursive: true });
  fs.writeFileSync(path.join(noImages, 'cls', 'x.txt'), 'x');
  assert.throws(() => openImageFolder(noImages, [3, 32, 32]), /no-images: no images found in its subfolders/);
  const flat = path.join(tmp, 'flat');
  fs.mkdirSync(flat);
  fs.writeFileSync(path.join(flat, 'a.png'), await img(4, 4, { r: 1, g: 2, b: 3 }));
  assert.throws(() => openImageFolder(flat, [3, 32, 32]), /flat: images must be in one subfolder per class/);
  assert.throws(() => openImageFolder(path.join(flat, 'a.png'), [3, 32, 32]), /a\.png: not a folder/);
  assert.throws(() => openImageFolder(path.join(tmp, 'nope'), [3, 32, 32]), /nope: image folder not found/);
  const bad = path.join(tmp, 'bad', 'cls');
  fs.mkdirSync(bad, { recursive: true });
  fs.writeFileSync(path.join(bad, 'fake.png'), 'not an image at all');
  const ds = openImageFolder(path.dirname(bad), [3, 8, 8]);
  await assert.rejects(ds.get(0), (e: Error) => e instanceof UserError && e.message.startsWith(`${path.join(bad, 'fake.png')}: not a decodable image (`) && !e.message.includes('\n'));
  assert.throws(() => openImageFolder(path.dirname(bad), [2, 8, 8]), /only 1 \(grey\) or 3 \(RGB\) channels/);
});

test('single image: one example, resized, alpha dropped; bad label, bad file', async () => {
  const file = path.join(tmp, 'one.png');
  fs.writeFileSync(file, await img(50, 30, { r: 0, g: 0, b: 255, alpha: 0.5 }));
  const ds = await openImageFile(file, 7, 10, [3, 32, 32]);
  assert.equal(ds.count, 1);
  assert.equal(ds.numClasses, 10);
  assert.equal(ds.name, 'image');
  const ex = await ds.get(0);
  assert.equal(ex.label, 7);
  assert.equal(ex.image.length, 3072);
  assert.ok(ex.image.subarray(2048).every((v) => v > 0.99));
  ex.image[0] = 42; // a fresh copy each time
  assert.equal((await ds.get(0)).image[0], 0);
  await assert.rejects(ds.get(1), /index 1 out of range/);
  await assert.rejects(openImageFile(file, 10, 10, [3, 32, 32]), /--label 10: must be an integer in 0\.\.9 \(--num-classes 10\)/);
  await assert.rejects(openImageFile(file, 0, 0, [3, 32, 32]), /--num-classes 0: expected a positive integer/);
  await assert.rejects(openImageFile(path.join(tmp, 'missing.png'), 0, 2, [3, 32, 32]), /missing\.png: image file not found/);
  const fake = path.join(tmp, 'fake.jpg');
  fs.writeFileSync(fake, 'GIF89a but not really');
  await assert.rejects(openImageFile(fake, 0, 2, [3, 32, 32]), (e: Error) => e instanceof UserError && e.message.startsWith(`${fake}: not a decodable image`));
  const emptyFile = path.join(tmp, 'empty.jpg');
  fs.writeFileSync(emptyFile, '');
  await assert.rejects(decodeImage(emptyFile, [3, 4, 4]), /empty\.jpg: empty file, not an image/);
});
