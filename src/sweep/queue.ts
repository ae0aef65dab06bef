// Distributed sweeps on a BullMQ queue in Redis.
//
// The sweep (queueExecutor) puts its jobs on the queue `gradleak` (one queue per Redis database, so
// `gradleak worker --queue URL` needs no sweep id); each job's BullMQ id is `<sweep id>.<job key>`,
// so re-adding a job is a no-op, two sweeps never mix, and a sweep only listens to its own jobs.
// Workers (runQueueWorker, `gradleak worker`) run each job on a worker thread, so the main thread
// stays free to renew the job's lock however long the attack takes; a worker that dies (SIGKILL,
// power loss) stops renewing, and another worker's stalled-job check puts the job back on the queue.
// Results come back as the job's return value; the sweep hands each job key to onResult exactly
// once, however many times the job was run.
import { createHash } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { Worker as Thread } from 'node:worker_threads';
import { Queue, QueueEvents, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { UserError } from '../util/errors.js';
import { jobKey, type SweepJob, type SweepResult } from './job.js';
import { decodeResult, encodeResult } from './results-log.js';

import type { Executor } from './run-sweep.js';
export type SweepExecutor = Executor;

/** The queue workers and sweeps share (one per Redis database). */
export const DEFAULT_QUEUE_NAME = 'gradleak';
/** Seconds a sweep or worker waits for Redis to answer before giving up (unreachable Redis: exit 2). */
export const CONNECT_TIMEOUT_MS = 3000;
/**
 * Worker lock and stalled-job settings. A killed worker's lock expires at most lockDurationMs after
 * its last renewal (renewed every lockDurationMs / 2); a live worker checks for stalled jobs every
 * stalledIntervalMs and moves a job back to the queue at the first check that finds it (a) marked at
 * the previous check and (b) without a lock. So a killed worker's job runs again within about
 * lockDurationMs + 2 * stalledIntervalMs (≤ 20 s with these defaults). Jobs run on threads, so the
 * lock is renewed even while an attack runs for minutes.
 */
export const DEFAULT_LOCK_DURATION_MS = 10_000;
export const DEFAULT_STALLED_INTERVAL_MS = 5_000;
/** A job whose worker died more than this many times fails (it may be what kills the workers). */
export const DEFAULT_MAX_STALLED_COUNT = 2;
/** Attempts of a job whose attack throws (the error is reported after the last). */
export const DEFAULT_ATTEMPTS = 2;

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
}

/** Parses `redis://[[user]:password@]host[:port][/db]` (port 6379, db 0 by default). */
export function parseRedisUrl(url: string): RedisTarget {
  const bad = (why: string) => new UserError(`invalid Redis URL '${url}': ${why} (expected redis://HOST:PORT[/DB])`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('not a URL');
  }
  if (u.protocol !== 'redis:') throw bad(u.protocol === 'rediss:' ? 'TLS (rediss://) is not supported' : `scheme must be redis://, not ${u.protocol}//`);
  if (!u.hostname) throw bad('no host');
  if (u.search || u.hash) throw bad('no query or fragment allowed');
  const port = u.port === '' ? 6379 : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`bad port '${u.port}'`);
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw bad(`database must be a number, got '${path}'`);
  const db = path === '' ? 0 : Number(path);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1'); // [::1] → ::1
  return {
    host, port, db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

/** Redis without credentials, for messages. */
function showUrl(t: RedisTarget): string {
  return `redis://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}${t.db ? `/${t.db}` : ''}`;
}

function respCommand(args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
}

/**
 * Fails fast (UserError, within timeoutMs) unless Redis answers PING at the target (after AUTH and
 * SELECT when the URL has a password or database). BullMQ itself would retry forever.
 */
export function checkRedis(t: RedisTarget, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  const commands: string[][] = [];
  if (t.password !== undefined) commands.push(t.username ? ['AUTH', t.username, t.password] : ['AUTH', t.password]);
  if (t.db) commands.push(['SELECT', String(t.db)]);
  commands.push(['PING']);
  return new Promise((resolve, reject) => {
    let buffer = '';
    let replies = 0;
    let settled = false;
    const socket = netConnect({ host: t.host, port: t.port });
    const finish = (why?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (why === undefined) resolve();
      else reject(new UserError(`cannot reach Redis at ${showUrl(t)} (${why}); start redis-server or pass --queue redis://HOST:PORT`));
    };
    const timer = setTimeout(() => finish(`no answer within ${timeoutMs / 1000} s`), timeoutMs);
    socket.on('connect', () => socket.write(commands.map(respCommand).join('')));
    socket.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
    socket.on('close', () => finish('connection closed'));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        if (line.startsWith('-')) return finish(`Redis said: ${line.slice(1)}`);
        if (++replies === commands.length) return finish(line === '+PONG' ? undefined : `unexpected reply to PING: ${line.slice(0, 60)}`);
      }
    });
  });
}

function checkQueueName(name: string): string {
  if (name === '' || name.includes(':')) throw new UserError(`invalid queue name '${name}': it must be non-empty and contain no ':'`);
  return name;
}

function connection(t: RedisTarget, blocking: boolean): ConnectionOptions {
  // Blocking connections (Worker, QueueEvents) must retry commands forever (BullMQ's requirement).
  return { ...t, connectTimeout: CONNECT_TIMEOUT_MS, ...(blocking ? { maxRetriesPerRequest: null } : {}) };
}

// Results travel as one results.jsonl line (results-log.ts keeps non-finite metrics: PSNR can be Infinity).
interface QueueReturn {
  line: string;
}

/** A sweep's id: a hash of its sorted job keys (the same jobs → the same id → re-adding is a no-op). */
export function sweepId(jobs: SweepJob[]): string {
  return createHash('sha256').update([...new Set(jobs.map(jobKey))].sort().join('\n')).digest('hex').slice(0, 16);
}

/** BullMQ job id of a job key in a sweep (BullMQ forbids ':' in ids: such keys are hashed). */
export function queueJobId(sweep: string, key: string): string {
  return `${sweep}.${key.includes(':') ? `h${createHash('sha256').update(key).digest('hex').slice(0, 32)}` : key}`;
}

interface QueueJobData {
  sweep: string;
  key: string;
  job: SweepJob;
}

// A job's UserError (bad input: the same on every worker) is not retried and stays a UserError.
const USER_ERROR_PREFIX = 'UserError: ';

/** A job that failed on the workers after its last attempt. */
export class QueueJobFailed extends Error {
  constructor(readonly key: string, readonly reason: string, attempts: number) {
    super(`job ${key} failed on the workers after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason}`);
    this.name = 'QueueJobFailed';
  }
}

export interface QueueExecutorOptions {
  /** BullMQ queue name (default `gradleak`; workers must use the same). */
  queueName?: string;
  /**
   * Sweep id (default: sweepId(jobs)). Pass one derived from the whole sweep (e.g. all of its jobs,
   * before removing those already in results.jsonl) so a resumed sweep finds jobs queued earlier.
   */
  sweepId?: string;
  /** Attempts per job when the attack throws (default 2). */
  attempts?: number;
  /** Remove this sweep's jobs from Redis once every result has arrived (default true). */
  removeWhenDone?: boolean;
  /** Seconds between checks of the jobs' states, in case an event was missed (default 10 s). */
  reconcileMs?: number;
  /** Connection check timeout (default 3 s). */
  connectTimeoutMs?: number;
}

/**
 * An executor that runs a sweep's jobs on `gradleak worker` processes through Redis at `url`.
 * Rejects with a UserError (within connectTimeoutMs) when Redis cannot be reached or when a job
 * throws a UserError on a worker (`job KEY: message`, not retried), and with QueueJobFailed when a
 * job exhausts its attempts otherwise (or its workers died more than maxStalledCount times); resolves once every job's result was passed to
 * onResult, exactly once per job key.
 */
export function queueExecutor(url: string, opts: QueueExecutorOptions = {}): SweepExecutor {
  const target = parseRedisUrl(url); // bad URL: fail when the executor is made, before any work
  const name = checkQueueName(opts.queueName ?? DEFAULT_QUEUE_NAME);
  return async (jobs, onResult) => {
    await checkRedis(target, opts.connectTimeoutMs);
    const byKey = new Map<string, SweepJob>();
    for (const j of jobs) byKey.set(jobKey(j), j);
    if (byKey.size === 0) return;
    const sweep = opts.sweepId ?? sweepId(jobs);
    const keyOfId = new Map<string, string>();
    for (const key of byKey.keys()) keyOfId.set(queueJobId(sweep, key), key);
    const attempts = opts.attempts ?? DEFAULT_ATTEMPTS;
    const delivered = new Set<string>();

    const queue = new Queue<QueueJobData>(name, { connection: connection(target, false) });
    let events: QueueEvents | undefined;
    let timer: NodeJS.Timeout | undefined;
    let settle!: { resolve: () => void; reject: (e: unknown) => void };
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    // A job may fail while jobs are still being added: `await done` below reports it; until then it must
    // not count as an unhandled rejection (which would end the process with a stack trace).
    done.catch(() => {});
    let finished = false;
    const fail = (e: unknown) => {
      if (!finished) (finished = true), settle.reject(e);
    };
    const deliver = (id: string, value: unknown) => {
      const key = keyOfId.get(id);
      if (key === undefined || delivered.has(key) || finished) return;
      try {
        const r = decodeResult((typeof value === 'string' ? (JSON.parse(value) as QueueReturn) : (value as QueueReturn)).line);
        if (r?.key !== key) throw new Error(`job ${key}: the worker returned a result for ${String(r?.key)}`);
        delivered.add(key);
        onResult(r);
      } catch (e) {
        return fail(e);
      }
      if (delivered.size === byKey.size) (finished = true), settle.resolve();
    };
    const failed = (id: string, reason: string) => {
      const key = keyOfId.get(id);
      if (key === undefined || delivered.has(key)) return;
      // a job's UserError already names the job (sweep-worker.ts)
      fail(reason.startsWith(USER_ERROR_PREFIX) ? new UserError(reason.slice(USER_ERROR_PREFIX.length)) : new QueueJobFailed(key, reason, attempts));
    };
    // Connection problems after the check: BullMQ reconnects by itself; say so once, don't crash.
    let warned = false;
    const warn = (e: Error) => {
      if (!warned) (warned = true), console.error(`gradleak: Redis at ${showUrl(target)}: ${e.message} (retrying)`);
    };
    queue.on('error', warn);

    // Reads the states of the jobs without a result: completed → deliver; failed → fail (or retry).
    // (Concurrent commands on one connection are pipelined by the client.)
    const reconcile = async (retryFailed: boolean) => {
      const client = await queue.client;
      const ids = [...keyOfId].filter(([, key]) => !delivered.has(key)).map(([id]) => id);
      for (let i = 0; i < ids.length && !finished; i += 1000) {
        const chunk = ids.slice(i, i + 1000);
        const states = await Promise.all(chunk.map(async (id) => {
          const [completed, failedScore] = await Promise.all([client.zscore(queue.keys.completed, id), client.zscore(queue.keys.failed, id)]);
          if (completed !== null) return { id, returnvalue: await client.hget(queue.toKey(id), 'returnvalue') };
          if (failedScore !== null) return { id, failedReason: (await client.hget(queue.toKey(id), 'failedReason')) ?? 'unknown reason' };
          return { id };
        }));
        for (const st of states) {
          if (st.returnvalue) deliver(st.id, st.returnvalue);
          else if (st.failedReason !== undefined) {
            if (retryFailed) await (await queue.getJob(st.id))?.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }); // a new run of the sweep tries again
            else failed(st.id, st.failedReason);
          }
        }
      }
    };

    try {
      // Listen from an event of our own, added now: no completion after it is missed, however late
      // the listener starts reading (reconcile() below catches jobs that had completed before).
      const client = await queue.client;
      const start = await client.xadd(queue.keys.events, '*', { event: 'gradleak-sweep-start', sweep });
      events = new QueueEvents(name, { connection: connection(target, true), lastEventId: start });
      events.on('error', warn);
      events.on('completed', ({ jobId, returnvalue }) => deliver(jobId, returnvalue));
      events.on('failed', ({ jobId, failedReason }) => failed(jobId, failedReason));
      await events.waitUntilReady();

      const entries = [...byKey].map(([key, job]) => ({
        name: 'attack',
        data: { sweep, key, job } satisfies QueueJobData,
        opts: {
          jobId: queueJobId(sweep, key),
          attempts,
          removeOnComplete: { age: 7 * 24 * 3600 }, // kept for a resumed sweep; removed below when done
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      }));
      // Before adding: deliver what an earlier run of this sweep completed and retry what it failed. (After
      // adding, a failed job may be one of this run's, which must fail the sweep, not be retried.)
      await reconcile(true);
      for (let i = 0; i < entries.length && !finished; i += 1000) await queue.addBulk(entries.slice(i, i + 1000));
      if (!finished) await reconcile(false);
      const every = opts.reconcileMs ?? 10_000;
      const tick = () => {
        timer = setTimeout(() => reconcile(false).then(sayWorkers).then(() => !finished && tick(), fail), every);
      };
      // a sweep without workers would otherwise wait in silence: say so, and again whenever the count changes
      let workersSaid = -1;
      const sayWorkers = async () => {
        if (finished) return;
        const n = (await queue.getWorkers().catch(() => null))?.length;
        if (n === undefined || n === workersSaid || (n > 0 && workersSaid === -1)) return void (workersSaid = n ?? workersSaid);
        workersSaid = n;
        console.error(n === 0
          ? `gradleak: waiting for workers: none connected to ${showUrl(target)} queue '${name}' (start some with: gradleak worker --queue ${showUrl(target)} --queue-name ${name})`
          : `gradleak: ${n} worker${n === 1 ? '' : 's'} connected`);
      };
      if (!finished) await sayWorkers();
      if (!finished) tick();
      await done;
      if (opts.removeWhenDone ?? true) {
        const ids = [...keyOfId.keys()];
        for (let i = 0; i < ids.length; i += 500) await Promise.all(ids.slice(i, i + 500).map((id) => queue.remove(id).catch(() => 0)));
      }
    } finally {
      finished = true;
      clearTimeout(timer);
      await events?.close().catch(() => {});
      await queue.close().catch(() => {});
    }
  };
}

// ---- workers ------------------------------------------------------------------------------------

// A worker thread (sweep-worker.ts, the local pool's) that runs the jobs it is sent, one at a time.
class ThreadSlot {
  private thread: Thread | null = null;
  private pending: { resolve: (r: SweepResult) => void; reject: (e: Error) => void } | null = null;

  run(job: SweepJob): Promise<SweepResult> {
    if (!this.thread) {
      const t = new Thread(new URL('./sweep-worker.js', import.meta.url));
      t.on('message', (m: { result?: SweepResult; error?: { message: string; user: boolean } }) => {
        const p = this.pending;
        this.pending = null;
        if (m.error !== undefined) p?.reject(m.error.user ? new UserError(m.error.message) : new Error(m.error.message));
        else p?.resolve(m.result!);
      });
      const lost = (why: string) => {
        if (this.thread !== t) return;
        this.thread = null;
        const p = this.pending;
        this.pending = null;
        p?.reject(new Error(why));
      };
      t.on('error', (e) => lost(`worker thread crashed: ${e.message}`));
      t.on('exit', (code) => lost(`worker thread exited with code ${code}`));
      this.thread = t;
    }
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.thread!.postMessage({ index: 0, job });
    });
  }

  async stop(): Promise<void> {
    const t = this.thread;
    this.thread = null;
    await t?.terminate();
  }
}

export type WorkerEvent =
  | { type: 'started'; key: string }
  | { type: 'completed'; key: string; seconds: number; result: SweepResult }
  | { type: 'failed'; key: string; seconds: number; error: string };

export interface QueueWorkerOptions {
  /** Jobs run at once, each on its own thread (default 1). */
  concurrency?: number;
  queueName?: string;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  /** Stop once no job has run for this long (default: never). */
  idleExitMs?: number;
  connectTimeoutMs?: number;
  onEvent?: (e: WorkerEvent) => void;
}

export interface QueueWorker {
  /** Finishes the running jobs, then disconnects (a second call waits for the first). */
  close(): Promise<void>;
  /** Settles when the worker has stopped (close() or idleExitMs). */
  closed: Promise<void>;
}

/**
 * Starts a worker that runs jobs from the queue at `url` with runSweepJob, each on a thread, and
 * returns the SweepResult as the BullMQ job's return value. Rejects with a UserError within
 * connectTimeoutMs when Redis cannot be reached.
 */
export async function runQueueWorker(url: string, opts: QueueWorkerOptions = {}): Promise<QueueWorker> {
  const target = parseRedisUrl(url);
  const name = checkQueueName(opts.queueName ?? DEFAULT_QUEUE_NAME);
  await checkRedis(target, opts.connectTimeoutMs);
  const concurrency = opts.concurrency ?? 1;
  const slots = Array.from({ length: concurrency }, () => new ThreadSlot());
  const free = [...slots];
  const emit = opts.onEvent ?? (() => {});
  let active = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = () => {
    clearTimeout(idleTimer);
    if (opts.idleExitMs !== undefined && active === 0) idleTimer = setTimeout(() => void close(), opts.idleExitMs);
  };

  const processor = async (job: Job<QueueJobData>): Promise<unknown> => {
    const { key } = job.data;
    const slot = free.pop()!; // BullMQ runs at most `concurrency` jobs at once
    active++;
    clearTimeout(idleTimer);
    const t0 = performance.now();
    emit({ type: 'started', key });
    try {
      const result = await slot.run(job.data.job);
      if (result.key !== key) throw new Error(`job key mismatch: queued as ${key}, computed ${result.key} (different gradleak versions?)`);
      emit({ type: 'completed', key, seconds: (performance.now() - t0) / 1000, result });
      return { line: encodeResult(result) } satisfies QueueReturn;
    } catch (e) {
      emit({ type: 'failed', key, seconds: (performance.now() - t0) / 1000, error: (e as Error).message });
      throw e instanceof UserError ? new UnrecoverableError(USER_ERROR_PREFIX + e.message) : e;
    } finally {
      free.push(slot);
      active--;
      armIdle();
    }
  };

  const worker = new Worker<QueueJobData>(name, processor, {
    connection: connection(target, true),
    concurrency,
    lockDuration: opts.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS,
    stalledInterval: opts.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
    maxStalledCount: opts.maxStalledCount ?? DEFAULT_MAX_STALLED_COUNT,
    autorun: false,
  });
  let warned = false;
  worker.on('error', (e) => {
    if (!warned) (warned = true), console.error(`gradleak: Redis at ${showUrl(target)}: ${e.message} (retrying)`);
  });
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearTimeout(idleTimer);
      try {
        await worker.close();
      } finally {
        await Promise.all(slots.map((s) => s.stop()));
      }
    })());
  const running = worker.run();
  await worker.waitUntilReady();
  armIdle();
  const closed = running.then(() => close());
  closed.catch(() => {});
  return { close, closed };
}
