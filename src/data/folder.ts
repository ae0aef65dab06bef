// Any folder of images, one subfolder per class (like torchvision's ImageFolder): labels are the
// indices of the class folders sorted by name (code-unit order, deterministic). Class folders are
// scanned recursively; hidden files and non-image extensions are skipped, class folders without
// images are ignored. Opening only lists files; get(i) decodes one image (see image-file.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors.js';
import { isFolder, readFolder } from '../util/files.js';
import { checkIndex, type Dataset, type Example } from './dataset.js';
import { checkShape, decodeImage, IMAGE_EXTENSIONS, isImageName, type ImageShape } from './image-file.js';

export interface ImageFolderDataset extends Dataset {
  readonly dir: string;
  /** Class names; label k is classes[k]. */
  readonly classes: string[];
  /** Absolute image paths, in index order. */
  readonly files: string[];
  readonly labels: Int32Array;
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Image files under `dir`, recursively, sorted by relative path. */
function listImages(dir: string, out: string[] = [], depth = 0): string[] {
  if (depth > 16) return out;
  const entries = readFolder(dir)
    .filter((d) => !d.name.startsWith('.'))
    .sort((a, b) => byCodeUnit(a.name, b.name));
  for (const d of entries) {
    const full = path.join(dir, d.name);
    if (isFolder(full, d)) listImages(full, out, depth + 1);
    else if (isImageName(d.name)) out.push(full);
  }
  return out;
}

/** Opens `dir` (one subfolder per class) lazily; images are resized to `shape` = [C,H,W] on get(). */
export function openImageFolder(dir: string, shape: ImageShape): ImageFolderDataset {
  checkShape(shape);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new UserError(`${dir}: image folder not found`);
  }
  if (!st.isDirectory()) throw new UserError(`${dir}: not a folder (--dataset folder expects a folder with one subfolder of images per class)`);
  const root = path.resolve(dir);
  const entries = readFolder(root).filter((d) => !d.name.startsWith('.'));
  if (entries.length === 0) throw new UserError(`${dir}: empty folder (expected one subfolder of images per class)`);
  const classDirs = entries.filter((d) => isFolder(path.join(root, d.name), d)).map((d) => d.name).sort(byCodeUnit);
  const classes: string[] = [];
  const files: string[] = [];
  const labelList: number[] = [];
  for (const name of classDirs) {
    const imgs = listImages(path.join(root, name));
    if (imgs.length === 0) continue;
    const label = classes.length;
    classes.push(name);
    for (const f of imgs) {
      files.push(f);
      labelList.push(label);
    }
  }
  if (files.length === 0) {
    const loose = entries.some((d) => !isFolder(path.join(root, d.name), d) && isImageName(d.name));
    if (loose) throw new UserError(`${dir}: images must be in one subfolder per class (labels come from subfolder names); for a single image use --image FILE --label K --num-classes C`);
    throw new UserError(`${dir}: no images found in its subfolders (looked for ${IMAGE_EXTENSIONS.join(' ')})`);
  }
  const labels = Int32Array.from(labelList);
  const ds: ImageFolderDataset = {
    name: 'folder',
    split: path.basename(root),
    count: files.length,
    shape: [...shape] as ImageShape,
    numClasses: classes.length,
    dir: root,
    classes,
    files,
    labels,
    async get(index: number): Promise<Example> {
      checkIndex(ds, index);
      return { image: await decodeImage(files[index]!, ds.shape), label: labels[index]! };
    },
  };
  return ds;
}
