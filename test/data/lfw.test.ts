// LFW loader: discovery (lfw/, lfw-deepfunneled/ nested, only the .tgz), lazy indexing,
// decoding one JPEG to 3x32x32 in [0,1], broken files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import * as tar from 'tar';
import { UserError } from '../../src/util/errors.js';
import { openLfw, findLfwDir } from '../../src/data/lfw.js';

let tmp: string;
const PEOPLE = ['Carol_C', 'Alice_A', 'Bob_B']; // written unsorted on purpose
const COLOUR: Record<string, { r: number; g: number; b: number }> = {
  Alice_A: { r: 255, g: 0, b: 0 },
  Bob_B: { r: 0, g: 255, b: 0 },
  Carol_C: { r: 0, g: 0, b: 255 },
};

async function jpeg(colour: { r: number; g: number; b: number }, size = 250): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background: colour } }).jpeg({ quality: 95 }).toBuffer();
}

async function fakeLfw(dir: string): Promise<void> {
  for (const p of PEOPLE) {
    fs.mkdirSync(path.join(dir, p), { recursive: true });
    for (let k = 1; k <= 2; k++) fs.writeFileSync(path.join(dir, p, `${p}_000${k}.jpg`), await jpeg(COLOUR[p]!));
  }
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gradleak-lfw-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('indexes lfw/ (sorted names, identity labels) and decodes one image to 3x32x32 in [0,1]', async () => {
  const root = path.join(tmp, 'plain');
  await fakeLfw(path.join(root, 'lfw'));
  fs.writeFileSync(path.join(root, 'lfw', 'README.txt'), 'not a person');
  fs.mkdirSync(path.join(root, 'lfw', 'Empty_Person'));
  const ds = await openLfw(root);
  assert.equal(ds.dir, path.join(root, 'lfw'));
  assert.deepEqual(ds.names, ['Alice_A', 'Bob_B', 'Carol_C']); // folders without jpgs are not identities
  assert.equal(ds.numClasses, 3);
  assert.equal(ds.count, 6);
  assert.deepEqual([...ds.labels], [0, 0, 1, 1, 2, 2]);
  assert.equal(path.basename(ds.files[2]!), 'Bob_B_0001.jpg');
  assert.deepEqual(ds.shape, [3, 32, 32]);
  assert.equal(ds.split, 'all');
  const ex = await ds.get(2);
  assert.equal(ex.label, 1);
  assert.equal(ex.image.length, 3 * 32 * 32);
  assert.ok(ex.image.every((v) => v >= 0 && v <= 1));
  const mean = (c: number) => ex.image.subarray(c * 1024, (c + 1) * 1024).reduce((a, b) => a + b, 0) / 1024;
  assert.ok(mean(1) > 0.9 && mean(0) < 0.1 && mean(2) < 0.1, `green expected, got ${mean(0)} ${mean(1)} ${mean(2)}`);
  await assert.rejects(ds.get(6), /index 6 out of range: lfw all has 6 images/);
});

test('finds lfw-deepfunneled/ nested deeper, and root itself when it is the LFW folder', async () => {
  const root = path.join(tmp, 'nested');
  await fakeLfw(path.join(root, 'downloads', 'lfw-deepfunneled', 'lfw-deepfunneled'));
  const ds = await openLfw(root);
  assert.equal(ds.dir, path.join(root, 'downloads', 'lfw-deepfunneled', 'lfw-deepfunneled'));
  assert.equal(ds.count, 6);
  assert.equal(findLfwDir(ds.dir), ds.dir);
});

test('only lfw.tgz present: it is extracted into the root first', async () => {
  const src = path.join(tmp, 'tgz-src');
  await fakeLfw(path.join(src, 'lfw'));
  const root = path.join(tmp, 'tgz');
  fs.mkdirSync(root);
  await tar.c({ gzip: true, file: path.join(root, 'lfw.tgz'), cwd: src, portable: true }, ['lfw']);
  const notes: string[] = [];
  const ds = await openLfw(root, { log: (m) => notes.push(m) });
  assert.equal(ds.count, 6);
  assert.match(notes[0]!, /extracting .*lfw\.tgz/);
  assert.deepEqual(fs.readdirSync(root).sort(), ['lfw', 'lfw.tgz']);
});

test('a .jpg that is not a JPEG, and a corrupt JPEG: one-line UserError naming the file', async () => {
  const root = path.join(tmp, 'broken');
  await fakeLfw(path.join(root, 'lfw'));
  const notJpeg = path.join(root, 'lfw', 'Alice_A', 'Alice_A_0001.jpg');
  fs.writeFileSync(notJpeg, 'this is text, not a picture');
  const corrupt = path.join(root, 'lfw', 'Bob_B', 'Bob_B_0001.jpg');
  const good = fs.readFileSync(corrupt);
  fs.writeFileSync(corrupt, Buffer.concat([good.subarray(0, 20), Buffer.alloc(200, 7)]));
  const png = path.join(root, 'lfw', 'Carol_C', 'Carol_C_0001.jpg');
  fs.writeFileSync(png, await sharp({ create: { width: 8, height: 8, channels: 3, background: 'white' } }).png().toBuffer());
  const ds = await openLfw(root); // indexing reads no image
  await assert.rejects(ds.get(0), (e: Error) => e instanceof UserError && e.message === `${notJpeg}: not a JPEG file`);
  await assert.rejects(ds.get(2), (e: Error) => e instanceof UserError && e.message.startsWith(`${corrupt}: corrupt JPEG (`) && !e.message.includes('\n'));
  await assert.rejects(ds.get(4), new RegExp(`${png}: not a JPEG file`));
  assert.equal((await ds.get(1)).image.length, 3072);
});

test('missing LFW, an empty root, a file as root', async () => {
  const root = path.join(tmp, 'empty');
  fs.mkdirSync(root);
  await assert.rejects(openLfw(root), /empty: LFW not found \(looked for lfw\/, lfw-deepfunneled\/, lfw_funneled\/ or lfw\.tgz.*\); get it with: gradleak datasets download lfw --data-dir/);
  await assert.rejects(openLfw(path.join(tmp, 'nope')), /nope: LFW not found/);
  fs.mkdirSync(path.join(root, 'lfw', 'Someone'), { recursive: true });
  await assert.rejects(openLfw(root), /LFW not found/); // people folders without images are not LFW
  const file = path.join(tmp, 'a-file');
  fs.writeFileSync(file, 'x');
  await assert.rejects(openLfw(file), /a-file: not a folder/);
});

test('lazy: indexing 1000 files reads no image; one get() decodes one file (timings)', async (t) => {
  const lfw = path.join(tmp, 'big', 'lfw');
  const one = await jpeg({ r: 128, g: 64, b: 32 });
  // 250 people x 4 images; all but the first file are not JPEGs at all, so any eager decode would fail
  for (let p = 0; p < 250; p++) {
    const name = `Person_${String(p).padStart(4, '0')}`;
    fs.mkdirSync(path.join(lfw, name), { recursive: true });
    for (let k = 1; k <= 4; k++) fs.writeFileSync(path.join(lfw, name, `${name}_000${k}.jpg`), p === 0 && k === 1 ? one : 'x');
  }
  let t0 = performance.now();
  const ds = await openLfw(path.join(tmp, 'big'));
  const indexMs = performance.now() - t0;
  assert.equal(ds.count, 1000);
  assert.equal(ds.numClasses, 250);
  await ds.get(0); // warm sharp up
  t0 = performance.now();
  const ex = await ds.get(0);
  const decodeMs = performance.now() - t0;
  assert.equal(ex.image.length, 3072);
  t.diagnostic(`LFW index of 1000 files / 250 people: ${indexMs.toFixed(1)} ms; one 250x250 JPEG decode+resize: ${decodeMs.toFixed(2)} ms`);
  assert.ok(indexMs < 3000, `indexing took ${indexMs} ms`);
});
