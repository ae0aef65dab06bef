// Safe extraction of .tar.gz archives with `tar`. Every entry is checked before anything is
// written: absolute paths, `..` components, links pointing outside the destination and special
// files (devices, FIFOs) are refused. Extraction goes into a staging folder inside destDir and is
// moved into place only when the whole archive has been read without error, so a corrupt or
// hostile archive leaves nothing behind but the archive itself, and nothing is ever written
// outside destDir.
import { makeDirs } from '../util/files.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tar from 'tar';
import { UserError } from '../util/errors.js';

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

/** Why `entryPath` (of the given tar type, with link target `linkpath`) may not be extracted; null if it is safe. */
export function unsafeEntryReason(entryPath: string, type: string, linkpath?: string): string | null {
  const p = entryPath.replace(/\\/g, '/');
  if (p.startsWith('/') || /^[a-zA-Z]:/.test(p)) return 'absolute path';
  const parts = p.split('/');
  if (parts.includes('..')) return "path contains '..'";
  if (!ALLOWED_TYPES.has(type)) return `unsupported entry type ${type}`;
  if (type === 'SymbolicLink' || type === 'Link') {
    const target = (linkpath ?? '').replace(/\\/g, '/');
    if (target === '' || target.startsWith('/') || /^[a-zA-Z]:/.test(target)) return `link to an absolute path '${target}'`;
    // symlinks resolve relative to the entry's folder, hardlinks relative to the archive root
    const base = type === 'SymbolicLink' ? path.posix.dirname(p) : '.';
    const resolved = path.posix.normalize(path.posix.join(base, target));
    if (resolved === '..' || resolved.startsWith('../')) return `link pointing outside the archive '${target}'`;
  }
  return null;
}

export interface ExtractResult {
  /** Top-level names (files or folders) the archive created in destDir. */
  topLevel: string[];
  /** Number of entries extracted. */
  entries: number;
}

function why(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { tarCode?: string };
  return (err.message ?? String(e)).split('\n')[0]!;
}

/**
 * Extracts the gzip-compressed tar `archive` into `destDir` (created if needed). Throws UserError
 * naming the archive (and the entry) if the archive is truncated or corrupt, or if any entry would
 * land outside destDir. Existing top-level folders of the same name in destDir are replaced.
 */
export async function extractTarGz(archive: string, destDir: string): Promise<ExtractResult> {
  if (!fs.existsSync(archive)) throw new UserError(`${archive}: archive not found`);
  try {
    makeDirs(destDir);
  } catch (e) {
    throw new UserError(`${destDir}: cannot create the data directory (${why(e)})`);
  }
  const dest = fs.realpathSync(destDir);

  // Pass 1: read the whole archive without writing anything, validating every entry. This also
  // detects truncation and corruption before a single file is created.
  let bad: { entry: string; reason: string } | null = null;
  try {
    await tar.t({
      file: archive,
      strict: true,
      onReadEntry: (entry) => {
        const reason = unsafeEntryReason(entry.path, entry.type, entry.linkpath);
        if (reason && !bad) bad = { entry: entry.path, reason };
      },
    });
  } catch (e) {
    throw new UserError(`${archive}: truncated or corrupt archive (${why(e)})`);
  }
  if (bad) {
    const b = bad as { entry: string; reason: string };
    throw new UserError(`${archive}: refusing to extract entry '${b.entry}' (${b.reason})`);
  }

  // Pass 2: extract into a staging folder inside destDir, with tar's own path protections on
  // and the same filter as a second line of defence.
  const staging = fs.mkdtempSync(path.join(dest, '.gradleak-extract-'));
  let entries = 0;
  try {
    await tar.x({
      file: archive,
      cwd: staging,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      filter: (p, entry) => {
        const e = entry as tar.ReadEntry;
        const reason = unsafeEntryReason(p, e.type ?? 'File', e.linkpath);
        if (reason) {
          if (!bad) bad = { entry: p, reason };
          return false;
        }
        entries++;
        return true;
      },
    });
    if (bad) {
      const b = bad as { entry: string; reason: string };
      throw new UserError(`${archive}: refusing to extract entry '${b.entry}' (${b.reason})`);
    }
    const topLevel = fs.readdirSync(staging);
    for (const name of topLevel) {
      const target = path.join(dest, name);
      if (fs.existsSync(target)) fs.rmSync(target, { recursive: true, force: true });
      fs.renameSync(path.join(staging, name), target);
    }
    return { topLevel, entries };
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${archive}: cannot extract into ${destDir} (${why(e)})`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
