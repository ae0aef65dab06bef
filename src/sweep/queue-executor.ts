// The producer side of distributed sweeps (`gradleak sweep --queue URL`): an executor that puts a sweep's
// jobs on the BullMQ queue and hands each result to onResult once. The queue is `gradleak` (one per Redis
// database, so `gradleak worker --queue URL` needs no sweep id); each job's BullMQ id is
// `<sweep id>.<job key>`, so re-adding a job is a no-op, two sweeps never mix, and a sweep only listens
// to its own jobs. Results come back as the job's return value; the sweep hands each job key to
// onResult exactly once, however many times the job was run.
import { createHash } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { UserError } from '../util/errors.js';
import { jobKey, type SweepJob } from './job.js';
import { decodeResult } from './results-log.js';
import type { Executor } from './run-sweep.js';
import {
  checkQueueName, checkRedis, connection, DEFAULT_QUEUE_NAME, parseRedisUrl, showUrl, USER_ERROR_PREFIX, type QueueJobData, type QueueReturn,
} from './queue-connection.js';

/** Attempts of a job whose attack throws (the error is reported after the last). */
export const DEFAULT_ATTEMPTS = 2;

/** A sweep's id: a hash of its sorted job keys (the same jobs → the same id → re-adding is a no-op). */
export function sweepId(jobs: SweepJob[]): string {
  return createHash('sha256').update([...new Set(jobs.map(jobKey))].sort().join('\n')).digest('hex').slice(0, 16);
}

/** BullMQ job id of a job key in a sweep (BullMQ forbids ':' in ids: such keys are hashed). */
export function queueJobId(sweep: string, key: string): string {
  return `${sweep}.${key.includes(':') ? `h${createHash('sha256').update(key).digest('hex').slice(0, 32)}` : key}`;
}

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
 * onResult, exactly once per job key, or within 0.2 s of shouldStop turning true (the jobs stay queued).
 */
export function queueExecutor(url: string, opts: QueueExecutorOptions = {}): Executor {
  const target = parseRedisUrl(url); // bad URL: fail when the executor is made, before any work
  const name = checkQueueName(opts.queueName ?? DEFAULT_QUEUE_NAME);
  return async (jobs, onResult, shouldStop = () => false) => {
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
    // an interrupt: stop waiting (the queued jobs stay, and a rerun of the sweep collects their results)
    let stopped = false;
    const stopCheck = setInterval(() => {
      if (!finished && shouldStop()) (finished = stopped = true), settle.resolve();
    }, 200);
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
      if (!stopped && (opts.removeWhenDone ?? true)) {
        const ids = [...keyOfId.keys()];
        for (let i = 0; i < ids.length; i += 500) await Promise.all(ids.slice(i, i + 500).map((id) => queue.remove(id).catch(() => 0)));
      }
    } finally {
      finished = true;
      clearTimeout(timer);
      clearInterval(stopCheck);
      await events?.close().catch(() => {});
      await queue.close().catch(() => {});
    }
  };
}
