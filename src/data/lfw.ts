// Labeled Faces in the Wild, laid out as <variant>/<Name>/<Name>_0001.jpg with variant one of
// lfw/ (original), lfw-deepfunneled/, lfw_funneled/, found anywhere under the data root (up to 4
// levels deep). If none is there but lfw.tgz / lfw-deepfunneled.tgz / lfw-funneled.tgz is, the
// archive is extracted into the folder that holds it first (safely, see archive.ts).
//
// Labels are identity indices: people folders holding at least one .jpg, sorted by name in
// code-unit order (deterministic; the same order as Python's sorted()). Opening only lists the
// folders (no image is read); get(i) reads and decodes one JPEG with sharp, converted to RGB and
// resized to 32x32 (see image-file.ts: fit 'fill', bilinear, as iDLG's
// transforms.Resize((32, 32)); LFW images are 250x250 so the aspect ratio is kept).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors.js';
import { isFolder, readFolder } from '../util/files.js';
import { checkIndex, type Dataset, type Example } from './dataset.js';
import { checkShape, decodeImage, type ImageShape } from './image-file.js';
import { extractTarGz } from './archive.js';

/** LFW folder names in order of preference, and the archive each comes from. */
export const LFW_FOLDERS = [
  { folder: 'lfw', archive: 'lfw.tgz' },
  { folder: 'lfw-deepfunneled', archive: 'lfw-deepfunneled.tgz' },
  { folder: 'lfw_funneled', archive: 'lfw-funneled.tgz' },
] as const;

export interface LfwDataset extends Dataset {
  readonly name: 'lfw';
  readonly split: 'all';
  /** The folder holding the people folders. */
  readonly dir: string;
  /** Identity names; label k is names[k]. */
  readonly names: string[];
  /** Absolute JPEG paths, in index order. */
  readonly files: string[];
  readonly labels: Int32Array;
}

export interface OpenLfwOptions {
  /** Output shape [C,H,W]; default [3,32,32] as in iDLG. */
  shape?: ImageShape;
  /** Only accept this folder name (e.g. 'lfw-deepfunneled'); default: the first found in LFW_FOLDERS order. */
  folder?: string;
  /** Extract a .tgz found in root when no folder is there (default true). */
  extract?: boolean;
  /** Notes such as "extracting ...". */
  log?: (message: string) => void;
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const JPG = /\.jpe?g$/i;

/** True if some subfolder of `dir` (checking the first few) holds a .jpg: it looks like people folders. */
function looksLikeLfw(dir: string): boolean {
  let n = 0;
  for (const d of readFolder(dir)) {
    if (d.name.startsWith('.')) continue;
    const full = path.join(dir, d.name);
    if (!isFolder(full, d)) continue;
    if (++n > 20) break;
    try {
      if (fs.readdirSync(full).some((f) => JPG.test(f) && !f.startsWith('.'))) return true;
    } catch {
      /* unreadable: not it */
    }
  }
  return false;
}

/** Breadth-first search under root for an LFW folder (root itself included), up to 4 levels. */
export function findLfwDir(root: string, only?: string): string | null {
  const wanted: string[] = only ? [only] : LFW_FOLDERS.map((f) => f.folder);
  let level = [root];
  for (let depth = 0; depth <= 4 && level.length > 0; depth++) {
    // candidates at this depth, by preference
    for (const name of wanted) {
      for (const dir of level) {
        if (path.basename(dir) === name && looksLikeLfw(dir)) return dir;
      }
    }
    const next: string[] = [];
    for (const dir of level) {
      let ents: fs.Dirent[];
      try {
        ents = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      // do not descend into people folders or hidden/staging folders
      if (ents.some((d) => JPG.test(d.name))) continue;
      for (const d of ents) {
        if (d.name.startsWith('.')) continue;
        const full = path.join(dir, d.name);
        if (isFolder(full, d)) next.push(full);
      }
      if (next.length > 2000) break;
    }
    level = next.sort(byCodeUnit);
  }
  return null;
}

function missingMessage(root: string): string {
  return `${root}: LFW not found (looked for ${LFW_FOLDERS.map((f) => f.folder + '/').join(', ')} or ${LFW_FOLDERS.map((f) => f.archive).join(', ')} under it); get it with: gradleak datasets download lfw --data-dir ${root} (or add --download)`;
}

/**
 * Opens LFW under `root` (see the header comment). Throws UserError if it is missing (saying how
 * to get it), if there are no JPEGs, or (on get) if a file is not a valid JPEG.
 */
export async function openLfw(root: string, opts: OpenLfwOptions = {}): Promise<LfwDataset> {
  const shape: ImageShape = opts.shape ?? [3, 32, 32];
  checkShape(shape);
  if (!fs.existsSync(root)) throw new UserError(missingMessage(root));
  if (!fs.statSync(root).isDirectory()) throw new UserError(`${root}: not a folder (the data directory must be a folder)`);
  let dir = findLfwDir(root, opts.folder);
  if (!dir && opts.extract !== false) {
    const archives = LFW_FOLDERS.filter((f) => !opts.folder || f.folder === opts.folder).map((f) => path.join(root, f.archive));
    const archive = archives.find((a) => fs.existsSync(a));
    if (archive) {
      opts.log?.(`extracting ${archive} into ${root}`);
      await extractTarGz(archive, root);
      dir = findLfwDir(root, opts.folder);
      if (!dir) throw new UserError(`${archive}: extracted, but no LFW people folders with JPEGs were found in it`);
    }
  }
  if (!dir) throw new UserError(missingMessage(root));

  const names: string[] = [];
  const files: string[] = [];
  const labelList: number[] = [];
  const people = readFolder(dir)
    .filter((d) => !d.name.startsWith('.') && isFolder(path.join(dir!, d.name), d))
    .map((d) => d.name)
    .sort(byCodeUnit);
  for (const person of people) {
    const pdir = path.join(dir, person);
    const jpgs = readFolder(pdir)
      .filter((d) => !d.name.startsWith('.') && JPG.test(d.name) && !d.isDirectory())
      .map((d) => d.name)
      .sort(byCodeUnit);
    if (jpgs.length === 0) continue;
    const label = names.length;
    names.push(person);
    for (const f of jpgs) {
      files.push(path.join(pdir, f));
      labelList.push(label);
    }
  }
  if (files.length === 0) throw new UserError(`${dir}: no JPEG images in its people folders`);
  const labels = Int32Array.from(labelList);
  const ds: LfwDataset = {
    name: 'lfw',
    split: 'all',
    count: files.length,
    shape: [...shape] as ImageShape,
    numClasses: names.length,
    dir,
    names,
    files,
    labels,
    async get(index: number): Promise<Example> {
      checkIndex(ds, index);
      return { image: await decodeImage(files[index]!, ds.shape, { jpegOnly: true }), label: labels[index]! };
    },
  };
  return ds;
}
