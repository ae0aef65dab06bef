// Downloads and archive extraction against a local HTTP server on 127.0.0.1 serving generated
// archives: good, resumed, interrupted, corrupted, truncated, hostile (../, absolute, symlink).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as tar from 'tar';
import { UserError } from '../../src/util/errors.js';
import { download, fetchDataset, sourceUrl } from '../../src/data/download.js';
import { extractTarGz } from '../../src/data/archive.js';
import { openLfw } from '../../src/data/lfw.js';
import { ensureDataset } from '../../src/data/status.js';
import { CLI } from '../cli/helpers.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

let tmp: string;
let server: http.Server;
let base: string;
const files = new Map<string, Buffer>();
const requests: { url: string; range?: string }[] = [];
const dropOnce = new Set<string>(); // paths whose first request is cut half-way
const noRange = new Set<string>(); // paths served without Range support
const hang = new Set<string>(); // paths that never answer

function mkTmp(name: string): string {
  const d = path.join(tmp, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** Builds a .tar.gz of `entries` (paths relative to `cwd`) and returns its bytes. */
async function makeTgz(cwd: string, entries: string[], opts: { preservePaths?: boolean } = {}): Promise<Buffer> {
  const out = path.join(tmp, `a-${Math.random().toString(36).slice(2)}.tgz`);
  await tar.c({ gzip: true, file: out, cwd, portable: true, preservePaths: opts.preservePaths }, entries);
  return fs.readFileSync(out);
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gradleak-dl-'));
  // a fake LFW: 3 people x 2 tiny JPEGs (plain bytes suffice for download tests; lfw.test.ts decodes real ones)
  const sharp = (await import('sharp')).default;
  const src = mkTmp('src-lfw');
  for (const [p, person] of ['Alice_A', 'Bob_B', 'Carol_C'].entries()) {
    fs.mkdirSync(path.join(src, 'lfw', person), { recursive: true });
    for (let k = 1; k <= 2; k++) {
      const jpg = await sharp({ create: { width: 250, height: 250, channels: 3, background: { r: 60 * p, g: 100, b: 40 * k } } }).jpeg().toBuffer();
      fs.writeFileSync(path.join(src, 'lfw', person, `${person}_000${k}.jpg`), jpg);
    }
  }
  const good = await makeTgz(src, ['lfw']);
  files.set('/lfw.tgz', good);
  files.set('/resume/lfw.tgz', good);
  files.set('/norange/lfw.tgz', good);
  noRange.add('/norange/lfw.tgz');
  files.set('/drop/lfw.tgz', good);
  dropOnce.add('/drop/lfw.tgz');
  hang.add('/hang/lfw.tgz');
  // a corrupted archive: same length, bytes flipped in the middle
  const bad = Buffer.from(good);
  for (let i = 100; i < 140; i++) bad[i] = bad[i]! ^ 0xff;
  files.set('/corrupt/lfw.tgz', bad);
  files.set('/truncated/lfw.tgz', good.subarray(0, Math.floor(good.length / 2)));
  // hostile archives
  const h = mkTmp('src-hostile/inner');
  fs.writeFileSync(path.join(tmp, 'src-hostile', 'evil.txt'), 'evil');
  fs.writeFileSync(path.join(h, 'ok.txt'), 'ok');
  files.set('/dotdot/lfw.tgz', await makeTgz(h, ['ok.txt', '../evil.txt'], { preservePaths: true }));
  const absFile = path.join(tmp, 'src-hostile', 'abs-evil.txt');
  fs.writeFileSync(absFile, 'abs');
  files.set('/absolute/lfw.tgz', await makeTgz(h, ['ok.txt', absFile], { preservePaths: true }));
  const l = mkTmp('src-link');
  fs.mkdirSync(path.join(l, 'lfw'));
  fs.symlinkSync('../../outside-target', path.join(l, 'lfw', 'link'));
  files.set('/symlink/lfw.tgz', await makeTgz(l, ['lfw']));

  server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push({ url, range: req.headers.range });
    if (hang.has(url)) return; // never answers
    const body = files.get(url);
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    if (dropOnce.has(url)) {
      dropOnce.delete(url);
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !noRange.has(url)) {
      const start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const fast = { retries: 2, backoffMs: 10, timeoutMs: 2000 };

test('good download: MD5 checked, extracted, opens as LFW', async () => {
  const root = mkTmp('good');
  const progress: number[] = [];
  const r = await fetchDataset('lfw', root, { ...fast, mirror: `${base}/`, md5: md5(files.get('/lfw.tgz')!), onProgress: (n) => progress.push(n) });
  assert.equal(r.download.skipped, false);
  assert.equal(r.folder, path.join(root, 'lfw'));
  assert.equal(progress.at(-1), files.get('/lfw.tgz')!.length);
  assert.ok(!fs.existsSync(path.join(root, 'lfw.tgz.part')));
  assert.deepEqual(fs.readdirSync(root).sort(), ['lfw', 'lfw.tgz']); // no staging folder left
  const ds = await openLfw(root);
  assert.equal(ds.count, 6);
  assert.equal(ds.numClasses, 3);
  // idempotent: the archive is there with the right MD5, nothing is fetched again
  const n = requests.length;
  const again = await download(`${base}/lfw.tgz`, path.join(root, 'lfw.tgz'), md5(files.get('/lfw.tgz')!), fast);
  assert.equal(again.skipped, true);
  assert.equal(requests.length, n);
});

test('resume of a partial file with an HTTP Range request', async () => {
  const root = mkTmp('resume');
  const body = files.get('/resume/lfw.tgz')!;
  const half = Math.floor(body.length / 3);
  fs.writeFileSync(path.join(root, 'lfw.tgz.part'), body.subarray(0, half));
  const r = await download(`${base}/resume/lfw.tgz`, path.join(root, 'lfw.tgz'), md5(body), fast);
  assert.equal(r.resumed, true);
  assert.equal(requests.filter((q) => q.url === '/resume/lfw.tgz').at(-1)!.range, `bytes=${half}-`);
  assert.deepEqual(fs.readFileSync(path.join(root, 'lfw.tgz')), body);
});

test('a server that ignores Range: the download restarts from zero', async () => {
  const root = mkTmp('norange');
  const body = files.get('/norange/lfw.tgz')!;
  fs.writeFileSync(path.join(root, 'lfw.tgz.part'), Buffer.from('garbage prefix that is not the file'));
  const r = await download(`${base}/norange/lfw.tgz`, path.join(root, 'lfw.tgz'), md5(body), fast);
  assert.equal(r.resumed, false);
  assert.deepEqual(fs.readFileSync(path.join(root, 'lfw.tgz')), body);
});

test('a connection dropped half-way is retried (and resumed)', async () => {
  const root = mkTmp('drop');
  const body = files.get('/drop/lfw.tgz')!;
  const notes: string[] = [];
  const r = await download(`${base}/drop/lfw.tgz`, path.join(root, 'lfw.tgz'), md5(body), { ...fast, log: (m) => notes.push(m) });
  assert.equal(r.attempts, 2);
  assert.ok(notes.some((m) => /retrying/.test(m)), notes.join('\n'));
  assert.deepEqual(fs.readFileSync(path.join(root, 'lfw.tgz')), body);
});

test('a corrupted archive: checksum mismatch, the file is removed', async () => {
  const root = mkTmp('corrupt');
  const want = md5(files.get('/lfw.tgz')!);
  const dest = path.join(root, 'lfw.tgz');
  await assert.rejects(download(`${base}/corrupt/lfw.tgz`, dest, want, fast), (e: Error) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, new RegExp(`checksum mismatch \\(expected ${want} got ${md5(files.get('/corrupt/lfw.tgz')!)}\\)`));
    assert.ok(!e.message.includes('\n'));
    return true;
  });
  assert.deepEqual(fs.readdirSync(root), []);
});

test('a truncated archive with its correct MD5: extraction fails, nothing extracted', async () => {
  const root = mkTmp('truncated');
  const body = files.get('/truncated/lfw.tgz')!;
  await assert.rejects(fetchDataset('lfw', root, { ...fast, mirror: `${base}/truncated`, md5: md5(body) }), (e: Error) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /lfw\.tgz: truncated or corrupt archive/);
    return true;
  });
  assert.deepEqual(fs.readdirSync(root), ['lfw.tgz']);
});

for (const [kind, re] of [
  ['dotdot', /refusing to extract entry '\.\.\/evil\.txt' \(path contains '\.\.'\)/],
  ['absolute', /refusing to extract entry '\/.*abs-evil\.txt' \(absolute path\)/],
  ['symlink', /refusing to extract entry 'lfw\/link' \(link pointing outside the archive/],
] as const) {
  test(`an archive with a hostile entry (${kind}) is refused and nothing is written outside`, async () => {
    const parent = mkTmp(`hostile-${kind}`);
    const root = path.join(parent, 'data');
    const archive = path.join(parent, 'lfw.tgz');
    fs.writeFileSync(archive, files.get(`/${kind}/lfw.tgz`)!);
    await assert.rejects(extractTarGz(archive, root), (e: Error) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, re);
      assert.ok(e.message.startsWith(archive));
      return true;
    });
    assert.deepEqual(fs.readdirSync(parent).sort(), ['data', 'lfw.tgz']);
    assert.deepEqual(fs.readdirSync(root), []); // not even the safe entries
    assert.ok(!fs.existsSync(path.join(tmp, 'outside-target')));
  });
}

test('HTTP 404 fails at once; a server that never answers times out', async () => {
  const root = mkTmp('errors');
  const n = requests.length;
  await assert.rejects(download(`${base}/missing/lfw.tgz`, path.join(root, 'x.tgz'), '0'.repeat(32), fast), /missing\/lfw\.tgz: HTTP 404/);
  assert.equal(requests.length, n + 1);
  await assert.rejects(
    download(`${base}/hang/lfw.tgz`, path.join(root, 'y.tgz'), '0'.repeat(32), { retries: 1, backoffMs: 10, timeoutMs: 200 }),
    (e: Error) => {
      assert.match(e.message, /download failed after 2 attempts \(no data for 0\.2 s\)/);
      // nothing arrived, so no .part is promised
      assert.match(e.message, /nothing was received; check the URL or --mirror and run again/);
      assert.ok(!fs.existsSync(path.join(root, 'y.tgz.part')) || fs.statSync(path.join(root, 'y.tgz.part')).size === 0);
      return true;
    },
  );
  assert.equal(sourceUrl('http://vis-www.cs.umass.edu/lfw/', 'lfw.tgz', 'http://127.0.0.1:1/m'), 'http://127.0.0.1:1/m/lfw.tgz');
  assert.throws(() => sourceUrl('http://x/', 'lfw.tgz', 'ftp://127.0.0.1/'), /only http and https/);
});

test('a missing dataset without --download says how to get it', async () => {
  const root = mkTmp('missing');
  await assert.rejects(openLfw(root), /LFW not found .*gradleak datasets download lfw --data-dir .*missing/);
  await assert.rejects(ensureDataset('lfw', root), /lfw not found under .* get it with: gradleak datasets download lfw --data-dir .* \(or add --download\)/);
});

/** Runs the CLI without blocking this process's event loop (the HTTP server lives here). */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, GRADLEAK_DEBUG: '', ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('CLI: datasets download lfw --mirror (MD5 overridden for the generated archive), then idempotent, list, verify', async () => {
  const root = mkTmp('cli');
  const env = { GRADLEAK_TEST_MD5_OVERRIDE: md5(files.get('/lfw.tgz')!) };
  const r = await cli(['datasets', 'download', 'lfw', '--mirror', `${base}/`, '--data-dir', root], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /lfw: ready in .*lfw \(6 samples, 3 classes\)/);
  const again = await cli(['datasets', 'download', 'lfw', '--mirror', `${base}/`, '--data-dir', root], env);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already present .*nothing to do/);
  const list = await cli(['datasets', 'list', '--data-dir', root]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /data root: .*cli \(--data-dir\)/);
  assert.match(list.stdout, /lfw: INVALID\n {2}looked for: .*lfw\n {2}size: .*\n {2}samples: 6 \(3 classes\)/);
  assert.match(list.stdout, /mnist: ok/);
  assert.match(list.stdout, /cifar100: missing[\s\S]*how: not found; get it with: gradleak datasets download cifar100/);
  // verify: MD5 of the archive ok, but 6 images is not the official 13233 -> exit 1
  const v = await cli(['datasets', 'verify', 'lfw', '--data-dir', root], env);
  assert.equal(v.code, 1);
  assert.match(v.stdout, /MD5 ok[\s\S]*expected 13233 images of 5749 people/);
  const vm = await cli(['datasets', 'verify', 'lfw', '--data-dir', root]); // the real MD5 does not match
  assert.match(vm.stdout, /checksum mismatch \(expected a17d05bd522c52d84eca14327a23d494 got/);
});

test('CLI: a hostile archive from the mirror: exit 2, one line naming the archive and entry', async () => {
  const parent = mkTmp('cli-hostile');
  const root = path.join(parent, 'data');
  const r = await cli(['datasets', 'download', 'lfw', '--mirror', `${base}/dotdot/`, '--data-dir', root], { GRADLEAK_TEST_MD5_OVERRIDE: md5(files.get('/dotdot/lfw.tgz')!) });
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  assert.match(lines.at(-1)!, /^gradleak: .*data\/lfw\.tgz: refusing to extract entry '\.\.\/evil\.txt'/);
  assert.deepEqual(fs.readdirSync(parent), ['data']);
  assert.deepEqual(fs.readdirSync(root), ['lfw.tgz']);
  const missing = await cli(['datasets', 'verify', 'cifar10', '--data-dir', path.join(parent, 'none')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /cifar10: missing[\s\S]*gradleak datasets download cifar10 --data-dir/);
});
