// Decoding one image file into a CHW Float64Array in [0,1] with sharp, and a Dataset of a single
// image (the CLI's --image FILE --label K --num-classes C).
//
// Resizing follows the iDLG code (PIL `Image.open(f).convert('RGB')` then
// `transforms.Resize((H, W))`): the image is resized to exactly H x W (fit 'fill': no crop, aspect
// ratio not preserved), with sharp's bilinear ('linear') kernel, which like PIL antialiases when
// shrinking; JPEG shrink-on-load is disabled so the whole image goes through that filter.
// C=3: sRGB, alpha dropped (as PIL convert('RGB')); grey images are replicated to 3 channels.
// C=1: luminance (sharp greyscale). EXIF orientation is ignored, as in PIL.
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { UserError } from '../util/errors.js';
import { checkIndex, type Dataset, type Example } from './dataset.js';

export type ImageShape = [number, number, number];

/** File extensions treated as images when scanning folders. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif'] as const;

export function isImageName(name: string): boolean {
  if (name.startsWith('.')) return false;
  return (IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(name).toLowerCase());
}

export function checkShape(shape: ImageShape, what = 'image shape'): void {
  const [c, h, w] = shape;
  if (c !== 1 && c !== 3) throw new UserError(`${what} [${shape.join(',')}]: only 1 (grey) or 3 (RGB) channels are supported`);
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1 || h > 4096 || w > 4096) {
    throw new UserError(`${what} [${shape.join(',')}]: height and width must be integers in 1..4096`);
  }
}

function isJpeg(buf: Buffer): boolean {
  return buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
}

/**
 * Decodes `file` and resizes it to `shape` = [C,H,W] (see the header comment for exactly how).
 * `jpegOnly`: refuse anything that does not start with the JPEG signature. Throws UserError naming
 * the file if it cannot be read or is not a decodable image.
 */
export async function decodeImage(file: string, shape: ImageShape, opts: { jpegOnly?: boolean } = {}): Promise<Float64Array> {
  const [c, h, w] = shape;
  let buf: Buffer;
  try {
    buf = await fs.promises.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: cannot read the image (${code === 'ENOENT' ? 'file not found' : code ?? (e as Error).message})`);
  }
  if (buf.length === 0) throw new UserError(`${file}: empty file, not an image`);
  if (opts.jpegOnly && !isJpeg(buf)) throw new UserError(`${file}: not a JPEG file`);
  let data: Buffer;
  let channels: number;
  try {
    let img = sharp(buf).resize(w, h, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false });
    img = c === 3 ? img.removeAlpha().toColourspace('srgb') : img.greyscale().removeAlpha();
    const out = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    data = out.data;
    channels = out.info.channels;
    if (out.info.width !== w || out.info.height !== h) throw new Error(`decoded to ${out.info.width}x${out.info.height}`);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!;
    throw new UserError(`${file}: ${opts.jpegOnly ? 'corrupt JPEG' : 'not a decodable image'} (${msg})`);
  }
  // HWC bytes -> CHW floats; tolerate a channel count different from C (grey -> RGB, extra channels dropped)
  const plane = h * w;
  const image = new Float64Array(c * plane);
  for (let ch = 0; ch < c; ch++) {
    const src = Math.min(ch, channels - 1);
    for (let i = 0; i < plane; i++) image[ch * plane + i] = data[i * channels + src]! / 255;
  }
  return image;
}

export interface ImageFileDataset extends Dataset {
  readonly file: string;
}

/**
 * A Dataset of the single image `file` with label `label` (0..numClasses-1), resized to `shape`.
 * The image is decoded now, so a bad file fails at open time.
 */
export async function openImageFile(file: string, label: number, numClasses: number, shape: ImageShape): Promise<ImageFileDataset> {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new UserError(`--num-classes ${numClasses}: expected a positive integer`);
  if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
    throw new UserError(`--label ${label}: must be an integer in 0..${numClasses - 1} (--num-classes ${numClasses})`);
  }
  checkShape(shape);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new UserError(`${file}: image file not found`);
  }
  if (!st.isFile()) throw new UserError(`${file}: not a file`);
  const image = await decodeImage(file, shape);
  const ds: ImageFileDataset = {
    name: 'image',
    split: path.basename(file),
    count: 1,
    shape: [...shape] as ImageShape,
    numClasses,
    file: path.resolve(file),
    async get(index: number): Promise<Example> {
      checkIndex(ds, index);
      return { image: image.slice(), label };
    },
  };
  return ds;
}
