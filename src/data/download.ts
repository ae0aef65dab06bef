// Downloading dataset archives: HTTP(S) with redirects, resume of a partial `<dest>.part` via
// HTTP Range (restarting when the server ignores it), bounded retries with exponential backoff on
// network errors and 5xx, an idle timeout so nothing hangs, and an MD5 check at the end.
// DATASET_SOURCES holds the official URLs and MD5 sums (the ones torchvision uses).
import { makeDirs } from '../util/files.js';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../util/errors.js';
import { extractTarGz } from './archive.js';

export interface SourceFile {
  /** File name at the base URL, e.g. 'lfw.tgz'. */
  file: string;
  /** MD5 of the file (lowercase hex). */
  md5: string;
  /** The folder the archive creates when extracted into the data root. */
  extractsTo: string;
}

export interface DatasetSource {
  /** Base URL: everything before the file name (ends with '/'); --mirror replaces it. */
  baseUrl: string;
  /** The default file; `variants` lists alternatives (LFW). */
  file: SourceFile;
  variants?: Record<string, SourceFile>;
}

/** Official archives, as in torchvision (CIFAR10/CIFAR100/LFWPeople). */
export const DATASET_SOURCES: Record<'cifar10' | 'cifar100' | 'lfw', DatasetSource> = {
  cifar10: {
    baseUrl: 'https://www.cs.toronto.edu/~kriz/',
    file: { file: 'cifar-10-python.tar.gz', md5: 'c58f30108f718f92721af3b95e74349a', extractsTo: 'cifar-10-batches-py' },
  },
  cifar100: {
    baseUrl: 'https://www.cs.toronto.edu/~kriz/',
    file: { file: 'cifar-100-python.tar.gz', md5: 'eb9058c3a382ffc7106e4002c42a8d85', extractsTo: 'cifar-100-python' },
  },
  lfw: {
    baseUrl: 'http://vis-www.cs.umass.edu/lfw/',
    file: { file: 'lfw.tgz', md5: 'a17d05bd522c52d84eca14327a23d494', extractsTo: 'lfw' },
    variants: {
      original: { file: 'lfw.tgz', md5: 'a17d05bd522c52d84eca14327a23d494', extractsTo: 'lfw' },
      deepfunneled: { file: 'lfw-deepfunneled.tgz', md5: '68331da3eb755a505a502b5aacb3c201', extractsTo: 'lfw-deepfunneled' },
      funneled: { file: 'lfw-funneled.tgz', md5: '1b42dfed7d15c9b2dd63d5e5840c86ad', extractsTo: 'lfw_funneled' },
    },
  },
};

export type DownloadableDataset = keyof typeof DATASET_SOURCES;

export function isDownloadable(name: string): name is DownloadableDataset {
  return  Object.hasOwn(DATASET_SOURCES, name);
}

/** The archive of `name` (and LFW `variant`), with the MD5 to expect. */
export function sourceFile(name: DownloadableDataset, variant?: string): SourceFile {
  const src = DATASET_SOURCES[name];
  if (variant === undefined) return src.file;
  const v = src.variants?.[variant];
  if (!v) {
    const known = Object.keys(src.variants ?? {});
    throw new UserError(`${name}: unknown variant '${variant}'${known.length ? ` (available: ${known.join(', ')})` : ' (it has none)'}`);
  }
  return v;
}

/** The URL of `file` under `mirror` (replacing the official base URL) or under `baseUrl`. */
export function sourceUrl(baseUrl: string, file: string, mirror?: string): string {
  let base = mirror ?? baseUrl;
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    throw new UserError(`--mirror ${base}: not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UserError(`--mirror ${base}: only http and https URLs are supported`);
  if (!base.endsWith('/')) base += '/';
  return base + file;
}

export interface DownloadOptions {
  /** Attempts after the first one, on network errors, 5xx and truncated transfers (default 4). */
  retries?: number;
  /** First backoff delay in ms, doubled after each failure, capped at 30 s (default 1000). */
  backoffMs?: number;
  /** Idle timeout in ms: no connection or no data for this long aborts the attempt (default 30000). */
  timeoutMs?: number;
  /** Called as bytes arrive; `total` is the full file size when the server says it. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** One-line notes (retries, resume), e.g. to stderr. */
  log?: (message: string) => void;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  /** The file was already there with the right MD5; nothing was fetched. */
  skipped: boolean;
  /** Some attempt continued a partial file with an HTTP Range request. */
  resumed: boolean;
  attempts: number;
}

/** MD5 of a file, lowercase hex (streamed). */
export async function md5File(file: string): Promise<string> {
  const h = createHash('md5');
  await pipeline(fs.createReadStream(file), h);
  return h.digest('hex');
}

class Retryable extends Error {}

interface AttemptState {
  resumed: boolean;
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function request(url: string, headers: Record<string, string>, timeoutMs: number, redirects = 5): Promise<{ res: http.IncomingMessage; req: http.ClientRequest }> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new UserError(`${url}: not a URL`));
      return;
    }
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    if (!mod) {
      reject(new UserError(`${url}: only http and https URLs are supported`));
      return;
    }
    const req = mod.get(u, { headers: { 'user-agent': 'gradleak', ...headers } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects <= 0) {
          reject(new UserError(`${url}: too many redirects`));
          return;
        }
        const next = new URL(res.headers.location, u).toString();
        request(next, headers, timeoutMs, redirects - 1).then(resolve, reject);
        return;
      }
      resolve({ res, req });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Retryable(`no data for ${timeoutMs / 1000} s`)));
    req.on('error', (e) => reject(e instanceof UserError ? e : new Retryable((e as Error).message)));
  });
}

/** One attempt: continue (or restart) `part`. Resolves when the part holds the whole file. */
async function attempt(url: string, part: string, opts: Required<Pick<DownloadOptions, 'timeoutMs'>> & DownloadOptions, state: AttemptState): Promise<void> {
  let offset = sizeOf(part);
  const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
  const { res, req } = await request(url, headers, opts.timeoutMs);
  const status = res.statusCode ?? 0;
  let total: number | undefined;
  const len = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : undefined;
  let flags = 'w';
  if (status === 206 && offset > 0) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
    if (!m || Number(m[1]) !== offset) {
      res.resume();
      req.destroy();
      fs.rmSync(part, { force: true });
      throw new Retryable(`server answered the range request with an unexpected range '${res.headers['content-range'] ?? ''}', restarting`);
    }
    total = m[3] === '*' ? undefined : Number(m[3]);
    flags = 'a';
    state.resumed = true;
    opts.log?.(`resuming ${path.basename(part)} at ${offset} bytes`);
  } else if (status === 200) {
    if (offset > 0) opts.log?.('server ignored the range request: restarting the download');
    offset = 0;
    total = len;
  } else if (status === 416 && offset > 0) {
    res.resume();
    const m = /^bytes \*\/(\d+)$/.exec(res.headers['content-range'] ?? '');
    if (m && Number(m[1]) === offset) return; // the part was already complete
    fs.rmSync(part, { force: true });
    throw new Retryable('partial file larger than the remote file, restarting');
  } else {
    res.resume();
    if (status >= 500 || status === 429 || status === 408) throw new Retryable(`HTTP ${status}`);
    throw new UserError(`${url}: HTTP ${status}${res.statusMessage ? ' ' + res.statusMessage : ''}`);
  }

  let received = offset;
  opts.onProgress?.(received, total);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      opts.onProgress?.(received, total);
      cb(null, chunk);
    },
  });
  let out: fs.WriteStream;
  try {
    out = fs.createWriteStream(part, { flags });
  } catch (e) {
    res.resume();
    throw new UserError(`${part}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let writeError: NodeJS.ErrnoException | null = null;
  out.on('error', (e) => (writeError = e));
  try {
    await pipeline(res, counter, out);
  } catch (e) {
    if (writeError) throw new UserError(`${part}: cannot write (${(writeError as NodeJS.ErrnoException).code ?? (writeError as Error).message})`);
    throw new Retryable(`connection lost after ${received} bytes (${(e as Error).message})`);
  }
  if (total !== undefined && received !== total) throw new Retryable(`connection closed after ${received} of ${total} bytes`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Downloads `url` to `dest`, checking its MD5 (lowercase hex `md5`). Data goes to `dest + '.part'`
 * first; a part left by an earlier run is resumed with an HTTP Range request (restarted if the
 * server ignores it). Network errors, 5xx and short transfers are retried `retries` times with
 * exponential backoff; 4xx fails at once. On an MD5 mismatch the file is deleted and a UserError
 * "checksum mismatch ... expected X got Y" is thrown. If `dest` already exists with the right MD5,
 * nothing is fetched.
 */
export async function download(url: string, dest: string, md5: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const want = md5.toLowerCase();
  const retries = opts.retries ?? 4;
  const backoffMs = opts.backoffMs ?? 1000;
  const o = { ...opts, timeoutMs: opts.timeoutMs ?? 30000 };
  try {
    makeDirs(path.dirname(dest));
  } catch (e) {
    throw new UserError(`${path.dirname(dest)}: cannot create the directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (fs.existsSync(dest)) {
    if ((await md5File(dest)) === want) return { path: dest, bytes: sizeOf(dest), skipped: true, resumed: false, attempts: 0 };
    opts.log?.(`${dest}: existing file has the wrong checksum, downloading again`);
    fs.rmSync(dest, { force: true });
  }
  const part = dest + '.part';
  const state: AttemptState = { resumed: false };
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      await attempt(url, part, o, state);
      break;
    } catch (e) {
      if (!(e instanceof Retryable)) throw e;
      if (attempts > retries) {
        // promise a resume only when there is a partial file to resume from
        const kept = fs.existsSync(part) && fs.statSync(part).size > 0;
        throw new UserError(`${url}: download failed after ${attempts} attempts (${e.message}); ${kept ? `run again to resume ${part}` : 'nothing was received; check the URL or --mirror and run again'}`);
      }
      const delay = Math.min(backoffMs * 2 ** (attempts - 1), 30000);
      opts.log?.(`download interrupted (${e.message}); retrying in ${(delay / 1000).toFixed(1)} s`);
      await sleep(delay);
    }
  }
  const got = await md5File(part);
  if (got !== want) {
    fs.rmSync(part, { force: true });
    throw new UserError(`${dest}: checksum mismatch (expected ${want} got ${got}); the file was deleted, run again to download it again`);
  }
  fs.renameSync(part, dest);
  return { path: dest, bytes: sizeOf(dest), skipped: false, resumed: state.resumed, attempts };
}

export interface FetchOptions extends DownloadOptions {
  /** Replaces the official base URL (everything before the file name). */
  mirror?: string;
  /** LFW: 'original' (lfw.tgz, default), 'deepfunneled' or 'funneled'. */
  variant?: string;
  /**
   * Expected MD5; default: the registry's. The environment variable GRADLEAK_TEST_MD5_OVERRIDE
   * (for tests against generated archives) takes precedence over both.
   */
  md5?: string;
}

export interface FetchResult {
  archive: string;
  folder: string;
  download: DownloadResult;
  extractedEntries: number;
}

/**
 * Downloads the archive of dataset `name` into `root`, checks its MD5 and extracts it there
 * (into root/<extractsTo>). The archive is kept (for `datasets verify`). The caller decides
 * beforehand whether the dataset is already present (see datasets-command.ts).
 */
export async function fetchDataset(name: DownloadableDataset, root: string, opts: FetchOptions = {}): Promise<FetchResult> {
  const src = DATASET_SOURCES[name];
  const f = sourceFile(name, opts.variant);
  const url = sourceUrl(src.baseUrl, f.file, opts.mirror);
  const md5 = process.env.GRADLEAK_TEST_MD5_OVERRIDE || opts.md5 || f.md5;
  const archive = path.join(root, f.file);
  const dl = await download(url, archive, md5, opts);
  const ex = await extractTarGz(archive, root);
  const folder = path.join(root, f.extractsTo);
  if (!fs.existsSync(folder)) {
    throw new UserError(`${archive}: extracted, but it did not contain the expected folder ${f.extractsTo}/ (found: ${ex.topLevel.join(', ') || 'nothing'})`);
  }
  return { archive, folder, download: dl, extractedEntries: ex.entries };
}
