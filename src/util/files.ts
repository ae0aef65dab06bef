// Writing outputs: a failure is the user's problem to fix (path, permissions, disk), so it is a one-line UserError.
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, rmdirSync, openSync, readdirSync, statSync, writeFileSync, type Dirent, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from './errors.js';

function why(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/**
 * mkdir -p, one level at a time from the nearest existing ancestor. Node's recursive mkdirSync loops forever
 * when the kernel answers ENOENT for a parent that exists (e.g. under /proc); this throws that error instead.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let at = resolve(dir); !existsSync(at); at = dirname(at)) {
    missing.push(at);
    if (dirname(at) === at) break;
  }
  for (const d of missing.reverse()) mkdirSync(d);
}

/** Creates `dir` (and parents) and checks it is writable, before any long computation starts. */
export function prepareOutDir(dir: string, flag = '--out'): void {
  try {
    makeDirs(dir);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new UserError(`${flag} ${dir}: cannot create or write the directory (${why(e)})`);
  }
}

/**
 * Checks that `dir` could be created and written, without creating anything: it, or its nearest existing
 * ancestor, must be a writable directory. Lets a command fail fast on a bad --out yet leave no trace when
 * it fails later for another reason.
 */
export function checkOutDir(dir: string, flag = '--out'): void {
  let at = resolve(dir);
  for (;;) {
    let st: Stats;
    try {
      st = statSync(at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(at) === at) throw new UserError(`${flag} ${dir}: cannot create or write the directory (${why(e)})`);
      at = dirname(at);
      continue;
    }
    if (!st.isDirectory()) throw new UserError(`${flag} ${dir}: cannot create or write the directory (${at} is not a directory)`);
    try {
      accessSync(at, constants.W_OK);
      // permissions are not the whole story (/proc, read-only mounts): create and remove a probe directory
      if (at !== resolve(dir)) rmdirSync(mkdtempSync(join(at, '.gradleak-probe-')));
    } catch (e) {
      throw new UserError(`${flag} ${dir}: cannot create or write the directory (${why(e)})`);
    }
    return;
  }
}

export function writeText(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new UserError(`${path}: cannot write (${why(e)})`);
  }
}

/** Opens a file for reading; a missing or unreadable file is a UserError naming it. */
export function openForReading(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${path}: file not found`);
    if (code === 'EISDIR') throw new UserError(`${path}: is a directory, expected a file`);
    throw new UserError(`${path}: cannot open (${why(e)})`);
  }
}

/** The entries of a folder; an unreadable folder is a UserError naming it. */
export function readFolder(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new UserError(`${dir}: cannot read the folder (${why(e)})`);
  }
}

/** True for a folder entry, following a symbolic link to a folder. */
export function isFolder(full: string, d: Dirent): boolean {
  if (d.isDirectory()) return true;
  if (!d.isSymbolicLink()) return false;
  try {
    return statSync(full).isDirectory();
  } catch {
    return false;
  }
}
