// The worker side of distributed sweeps (`gradleak worker --queue URL`): takes jobs from the queue and
// runs each on a worker thread, so the main thread stays free to renew the job's lock however long the
// attack takes; a worker that dies (SIGKILL, power loss) stops renewing, and another worker's
// stalled-job check puts the job back on the queue. The result is the BullMQ job's return value.
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { UserError } from '../util/errors.js';
import type { SweepResult } from './job.js';
import { JobThread } from './job-thread.js';
import { encodeResult } from './results-log.js';
import {
  checkQueueName, checkRedis, connection, DEFAULT_QUEUE_NAME, parseRedisUrl, showUrl, USER_ERROR_PREFIX, type QueueJobData, type QueueReturn,
} from './queue-connection.js';

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
  const slots = Array.from({ length: concurrency }, () => new JobThread());
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
