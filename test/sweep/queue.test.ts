// Distributed sweeps through Redis (BullMQ). Starts its own redis-server on a free port (test/helpers/redis.ts);
// without redis-server on PATH the tests FAIL within seconds saying how to install it; they are never skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { UserError } from '../../src/util/errors.js';
import { jobKey, type SweepJob } from '../../src/sweep/job.js';
import { checkRedis, parseRedisUrl } from '../../src/sweep/queue-connection.js';
import { queueExecutor } from '../../src/sweep/queue-executor.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
let REDIS = ''; // set by before(): the private server's URL
let redis: TestRedis | undefined;
before(async () => {
  redis = await startRedis();
  REDIS = redis.url;
});
const QUEUE = `gradleak-test-${process.pid}-${Date.now()}`;
// Short lock and stalled-check intervals: a killed worker's job is retried within ~2-4 s.
const LOCK_MS = 2000;
const STALLED_MS = 1000;

const children: ChildProcess[] = [];
const dirs: string[] = [];
let queueUsed = false;

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (queueUsed) {
    const q = new Queue(QUEUE, { connection: { ...parseRedisUrl(REDIS), maxRetriesPerRequest: 1 } });
    await q.obliterate({ force: true }).catch(() => {});
    await q.close();
  }
  redis?.stop();
});

const BASE: SweepJob = {
  attack: 'dlg', protocol: { kind: 'fedsgd', steps: 1, lr: 0.1, rho: 0.1 }, defense: { name: 'none', strength: 0, adaptive: false },
  dataset: 'mnist', split: 'test', image: 0, seed: 0, restarts: 1, iterations: 50, modelSeed: 1234, precision: 'float64',
};

interface Proc {
  child: ChildProcess;
  lines: { at: number; text: string }[];
  stderr: () => string;
  /** Resolves at the first stdout line matching re. */
  waitFor: (re: RegExp, ms: number) => Promise<string>;
}

function startWorker(extra: string[] = [], queue = QUEUE): Proc {
  const child = spawn(process.execPath, [CLI, 'worker', '--queue', REDIS, '--queue-name', queue,
    '--lock-duration', String(LOCK_MS), '--stalled-interval', String(STALLED_MS), ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: Proc['lines'] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let out = '', err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const text = out.slice(0, nl);
      out = out.slice(nl + 1);
      lines.push({ at: Date.now(), text });
      for (const w of [...waiters]) if (w.re.test(text)) waiters.splice(waiters.indexOf(w), 1), w.resolve(text);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const waitFor = (re: RegExp, ms: number) => {
    const seen = lines.find((l) => re.test(l.text));
    if (seen) return Promise.resolve(seen.text);
    return new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`worker printed no line matching ${re} within ${ms} ms; stdout:\n${lines.map((l) => l.text).join('\n')}\nstderr:\n${err}`)), ms);
      waiters.push({ re, resolve: (l) => (clearTimeout(t), resolve(l)) });
    });
  };
  return { child, lines, stderr: () => err, waitFor };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)))])
    .finally(() => clearTimeout(t!));
}

test('distributed sweep: two worker processes, one SIGKILLed mid-job; every result is written exactly once', { timeout: 120_000 }, async () => {
  await checkRedis(parseRedisUrl(REDIS), 2000); // the private server of before()
  queueUsed = true;
  const workers = [startWorker(), startWorker()];
  await Promise.all(workers.map((w) => w.waitFor(/^worker: waiting for jobs/, 20_000)));

  const jobs = [0, 1, 2, 3, 4, 5].map((image) => ({ ...BASE, image }));
  const keys = jobs.map(jobKey);
  const dir = mkdtempSync(join(tmpdir(), 'gradleak-queue-'));
  dirs.push(dir);
  const file = join(dir, 'results.jsonl');
  const write = (r: { key: string }) => appendFileSync(file, JSON.stringify(r) + '\n'); // one line per result, as the sweep does

  // Kill whichever worker starts a job first, while it runs it.
  let killed: { worker: Proc; key: string; at: number } | undefined;
  const killFirst = Promise.race(workers.map((w) => w.waitFor(/^started /, 60_000).then((line) => ({ w, line })))).then(({ w, line }) => {
    if (killed) return;
    w.child.kill('SIGKILL');
    killed = { worker: w, key: line.slice('started '.length), at: Date.now() };
  });
  const t0 = Date.now();
  await withTimeout(queueExecutor(REDIS, { queueName: QUEUE, removeWhenDone: false })(jobs, write), 90_000, 'sweep');
  const seconds = (Date.now() - t0) / 1000;
  await killFirst;
  assert.ok(killed, 'a worker was killed');
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { key: string; metrics: { mse: number } });
  assert.deepEqual(lines.map((l) => l.key).sort(), [...keys].sort(), 'every job exactly once');
  for (const l of lines) assert.ok(Number.isFinite(l.metrics.mse));

  // The killed worker was mid-job: it never finished it; the other worker ran it again.
  const victim = killed.worker, survivor = workers.find((w) => w !== victim)!;
  assert.equal(victim.child.signalCode ?? (await new Promise((r) => victim.child.once('exit', (_c, s) => r(s)))), 'SIGKILL');
  assert.ok(!victim.lines.some((l) => l.text.startsWith(`done ${killed!.key} `)), 'the killed worker had not finished its job');
  const rerun = survivor.lines.find((l) => l.text === `started ${killed!.key}`);
  assert.ok(rerun, `the surviving worker re-ran ${killed.key}; its stdout:\n${survivor.lines.map((l) => l.text).join('\n')}`);
  const retryS = (rerun.at - killed.at) / 1000;
  assert.ok(retryS < LOCK_MS / 1000 + 3 * STALLED_MS / 1000 + 2, `retried after ${retryS} s`);
  console.log(`# sweep of ${jobs.length} jobs took ${seconds.toFixed(1)} s; the killed worker's job was retried ${retryS.toFixed(1)} s after SIGKILL`);

  // Running the same sweep again (a resumed sweep) re-adds nothing and gets the stored results.
  const started = survivor.lines.filter((l) => l.text.startsWith('started ')).length;
  const again: string[] = [];
  await withTimeout(queueExecutor(REDIS, { queueName: QUEUE })(jobs, (r) => again.push(r.key)), 20_000, 'second run');
  assert.deepEqual(again.sort(), [...keys].sort());
  assert.equal(survivor.lines.filter((l) => l.text.startsWith('started ')).length, started, 'no job ran again');

  // A job that throws a UserError on the worker (bad image index) fails the sweep at once, not retried.
  const bad = { ...BASE, image: 99_999, iterations: 3 };
  await assert.rejects(withTimeout(queueExecutor(REDIS, { queueName: QUEUE })([bad], () => {}), 20_000, 'failing job'), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, /^job dlg\|.*mnist-test-99999.*: index 99999 out of range/);
    return true;
  });
  assert.equal(survivor.lines.filter((l) => l.text === `started ${jobKey(bad)}`).length, 1, 'a UserError is not retried');

  // SIGTERM: clean shutdown.
  const code = new Promise<number | null>((r) => survivor.child.once('exit', (c) => r(c)));
  survivor.child.kill('SIGTERM');
  assert.equal(await withTimeout(code, 10_000, 'worker exit after SIGTERM'), 0);
  assert.ok(survivor.lines.some((l) => l.text === 'worker: stopped'));
});

async function silentServer(): Promise<Server> {
  const server = createServer(() => {}); // accepts connections, never answers
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

test('unreachable Redis: the sweep fails with a UserError within seconds, the worker exits 2 with one line', { timeout: 30_000 }, async () => {
  for (const url of ['redis://127.0.0.1:1', 'silent']) {
    const server = url === 'silent' ? await silentServer() : undefined;
    const target = server ? `redis://127.0.0.1:${(server.address() as { port: number }).port}` : url;
    const t0 = Date.now();
    await assert.rejects(queueExecutor(target)([BASE], () => {}), (e: unknown) => {
      assert.ok(e instanceof UserError, String(e));
      assert.match(e.message, /^cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(.+\)/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    server?.close();
  }
  const t0 = Date.now();
  const child = spawn(process.execPath, [CLI, 'worker', '--queue', 'redis://127.0.0.1:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await withTimeout(new Promise<number | null>((r) => child.once('exit', (c) => r(c))), 5000, 'gradleak worker on an unreachable Redis');
  assert.equal(code, 2);
  assert.match(stderr, /^gradleak: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)[^\n]*\n$/);
  assert.ok(Date.now() - t0 < 5000);
});

test('bad Redis URLs are UserErrors; the worker command exits 2', async () => {
  assert.deepEqual(parseRedisUrl('redis://example.org:6380/3'), { host: 'example.org', port: 6380, db: 3 });
  assert.deepEqual(parseRedisUrl('redis://:secret@127.0.0.1'), { host: '127.0.0.1', port: 6379, db: 0, password: 'secret' });
  for (const bad of ['localhost:6379', 'http://127.0.0.1:6379', 'redis://', 'redis://h:0', 'redis://h:99999', 'redis://h/x', 'redis://h?a=1', 'rediss://h']) {
    assert.throws(() => queueExecutor(bad), (e: unknown) => e instanceof UserError && /invalid Redis URL/.test(e.message) && !e.message.includes('\n'), bad);
  }
  const child = spawn(process.execPath, [CLI, 'worker', '--queue', 'localhost:6379'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  assert.equal(await new Promise((r) => child.once('exit', (c) => r(c))), 2);
  assert.match(stderr, /^gradleak: invalid Redis URL 'localhost:6379'[^\n]*\n$/);
});

test('gradleak sweep --queue with two worker processes, one SIGKILLed mid-job: results.jsonl has every job exactly once', async () => {
  queueUsed = true;
  const dir = mkdtempSync(join(tmpdir(), 'gradleak-qsweep-'));
  dirs.push(dir);
  const config = join(dir, 'sweep.json');
  // a model seed unique to this run makes a grid (and so a sweep id) that no earlier run has results for
  const modelSeed = (process.pid * 7 + Date.now()) % 100000;
  writeFileSync(config, JSON.stringify({ attacks: ['dlg'], defenses: ['none'], images: { count: 2 }, seeds: { count: 3 }, iterations: 50, modelSeed }));
  const workers = [startWorker(), startWorker()];
  const sweep = spawn(process.execPath, [CLI, 'sweep', '--config', config, '--out', join(dir, 'out'), '--queue', REDIS, '--queue-name', QUEUE, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(sweep);
  let sweepOut = '', sweepErr = '';
  sweep.stdout!.setEncoding('utf8').on('data', (c: string) => (sweepOut += c));
  sweep.stderr!.setEncoding('utf8').on('data', (c: string) => (sweepErr += c));
  const exited = new Promise<number | null>((resolve) => sweep.on('exit', (code) => resolve(code)));
  // kill whichever worker starts a job first, while it is running it
  const first = await withTimeout(Promise.race(workers.map((w, i) => w.waitFor(/^started /, 20_000).then(() => i))), 25_000, 'a worker starting a job');
  workers[first].child.kill('SIGKILL');
  const code = await withTimeout(exited, 60_000, 'the sweep finishing');
  assert.equal(code, 0, `sweep failed: ${sweepErr}`);
  const lines = readFileSync(join(dir, 'out', 'results.jsonl'), 'utf8').trim().split('\n');
  const keys = lines.map((l) => JSON.parse(l).key as string);
  assert.equal(keys.length, 6, 'one line per job');
  assert.equal(new Set(keys).size, 6, 'no job twice');
  assert.equal(JSON.parse(sweepOut.trim().split('\n').pop()!).total, 6);
});

test('a text sweep runs on queue workers as on local threads: the worker prints its scores, results.jsonl holds the same runs', async () => {
  queueUsed = true;
  const dir = mkdtempSync(join(tmpdir(), 'gradleak-qtext-'));
  dirs.push(dir);
  const config = join(dir, 'text.yaml');
  writeFileSync(config, 'dataset: text\nattacks: [tag]\nsentences: [0, 3]\ndefenses: [none, {name: prune, strengths: [0.5]}]\niterations: 5\n');
  const queue = `${QUEUE}-text`; // this worker alone serves it (workers of earlier tests may still serve QUEUE)
  const worker = startWorker([], queue);
  const sweep = spawn(process.execPath, [CLI, 'sweep', '--config', config, '--out', join(dir, 'q'), '--queue', REDIS, '--queue-name', queue], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(sweep);
  let err = '';
  sweep.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const code = await withTimeout(new Promise<number | null>((resolve) => sweep.on('exit', (c) => resolve(c))), 60_000, 'text sweep --queue');
  assert.equal(code, 0, err);
  await worker.waitFor(/^done tag\|fedsgd\|prune-0\.5\|text-3\|seed0\|r1\|it5\|float64\|tiny-gpt \d+\.\d\d s {2}token accuracy \d+\.\d% {2}ROUGE-L \d\.\d{3}$/, 5000);
  worker.child.kill('SIGKILL');
  const local = spawn(process.execPath, [CLI, 'sweep', '--config', config, '--out', join(dir, 'local'), '--workers', '1'], { stdio: 'ignore' });
  assert.equal(await new Promise((resolve) => local.on('exit', (c) => resolve(c))), 0);
  const runs = (out: string) => readFileSync(join(dir, out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    .map((r) => [r.key, r.metrics.recovered_tokens, r.metrics.objective]).sort((a, b) => a[0].localeCompare(b[0]));
  assert.equal(runs('q').length, 4);
  assert.deepEqual(runs('q'), runs('local'));
  const q = new Queue(queue, { connection: { ...parseRedisUrl(REDIS), maxRetriesPerRequest: 1 } });
  await q.obliterate({ force: true }).catch(() => {});
  await q.close();
});

test('gradleak reproduce --queue runs its grid on worker processes: the same outputs as on local threads (apart from seconds)', async () => {
  queueUsed = true;
  const dir = mkdtempSync(join(tmpdir(), 'gradleak-qrep-'));
  dirs.push(dir);
  // a model seed unique to this run: a grid (and so a sweep id) no earlier run has results for
  const args = ['reproduce', '--images', '1', '--seeds', '2', '--iterations', '8', '--local-steps', '1', '--snapshot-every', '4', '--log-every', '2',
    '--model-seed', String((process.pid * 11 + Date.now()) % 100000)];
  const worker = startWorker(['--concurrency', '2']);
  const queued = spawn(process.execPath, [CLI, ...args, '--out', join(dir, 'q'), '--queue', REDIS, '--queue-name', QUEUE], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(queued);
  let err = '';
  queued.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const code = await withTimeout(new Promise<number | null>((resolve) => queued.on('exit', (c) => resolve(c))), 90_000, 'reproduce --queue');
  assert.equal(code, 0, err);
  const local = spawn(process.execPath, [CLI, ...args, '--out', join(dir, 'local'), '--workers', '2'], { stdio: 'ignore' });
  assert.equal(await new Promise((resolve) => local.on('exit', (c) => resolve(c))), 0);
  worker.child.kill('SIGKILL');
  const noSeconds = (f: string) => readFileSync(f, 'utf8').split('\n').map((l) => l.split(',').filter((_, i) => i !== 12).join(','));
  assert.deepEqual(noSeconds(join(dir, 'q', 'results.csv')), noSeconds(join(dir, 'local', 'results.csv')));
  assert.ok(readFileSync(join(dir, 'q', 'fig1-mnist.png')).equals(readFileSync(join(dir, 'local', 'fig1-mnist.png'))), 'Fig. 1 from the snapshots the workers sent back');
  assert.equal(readFileSync(join(dir, 'q', 'fig2-mnist.svg'), 'utf8'), readFileSync(join(dir, 'local', 'fig2-mnist.svg'), 'utf8'));
});

test('gradleak audit --queue runs both phases on worker processes: the same figures as on local threads', async () => {
  queueUsed = true;
  const dir = mkdtempSync(join(tmpdir(), 'gradleak-qaudit-'));
  dirs.push(dir);
  const config = join(dir, 'audit.json');
  // a model seed unique to this run: a grid (and so a queue id) no earlier run has results for
  writeFileSync(config, JSON.stringify({
    clients: 10, fraction: 0.2, rounds: 2, batchSize: 2, trainSamples: 100, testSamples: 50, protocol: { kind: 'fedavg', steps: 1, lr: 0.1 },
    defenses: ['none', { name: 'prune', strengths: [0.9] }], iterations: 10, modelSeed: (process.pid * 17 + Date.now()) % 100000,
  }));
  const worker = startWorker(['--concurrency', '2']);
  const queued = spawn(process.execPath, [CLI, 'audit', config, '--out', join(dir, 'q'), '--queue', REDIS, '--queue-name', QUEUE, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(queued);
  let err = '', out = '';
  queued.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  queued.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const code = await withTimeout(new Promise<number | null>((resolve) => queued.on('exit', (c) => resolve(c))), 90_000, 'audit --queue');
  assert.equal(code, 0, err);
  worker.child.kill('SIGKILL');
  const res = JSON.parse(out.trim().split('\n').pop()!);
  assert.equal(res.ran, 2 + 2 * 3, 'two trainings, then 2 captures x (none, prune naive, prune adaptive)');
  const local = spawn(process.execPath, [CLI, 'audit', config, '--out', join(dir, 'local'), '--workers', '2'], { stdio: 'ignore' });
  assert.equal(await new Promise((resolve) => local.on('exit', (c) => resolve(c))), 0);
  const figures = (d: string) => JSON.parse(readFileSync(join(dir, d, 'audit.json'), 'utf8')).settings
    .map((x: { id: string; accuracy: number; recovered: number; worstSsim: unknown }) => [x.id, x.accuracy, x.recovered, x.worstSsim]);
  assert.deepEqual(figures('q'), figures('local'));
});

test('sweep --queue with no worker says it is waiting for workers instead of waiting in silence', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradleak-qidle-'));
  dirs.push(dir);
  const config = join(dir, 'sweep.json');
  writeFileSync(config, JSON.stringify({ attacks: ['dlg'], iterations: 5, modelSeed: (process.pid * 13 + Date.now()) % 100000 }));
  const idle = `${QUEUE}-idle`;
  const sweep = spawn(process.execPath, [CLI, 'sweep', '--config', config, '--out', join(dir, 'out'), '--queue', REDIS, '--queue-name', idle], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(sweep);
  let err = '';
  const said = new Promise<void>((resolve) => sweep.stderr!.setEncoding('utf8').on('data', (c: string) => {
    err += c;
    if (/waiting for workers: none connected/.test(err)) resolve();
  }));
  await withTimeout(said, 15_000, `the waiting message (stderr so far: ${err})`);
  assert.match(err, new RegExp(`gradleak worker --queue redis://127\\.0\\.0\\.1:\\d+ --queue-name ${idle}`));
  sweep.kill('SIGKILL');
  const q = new Queue(idle, { connection: { ...parseRedisUrl(REDIS), maxRetriesPerRequest: 1 } });
  await q.obliterate({ force: true }).catch(() => {});
  await q.close();
});
