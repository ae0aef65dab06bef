// One worker thread running sweep jobs (sweep-worker.ts), one at a time: the pool of the local executor
// and of each queue worker. The thread starts at the first job; a job's UserError stays a UserError.
import { Worker as Thread } from 'node:worker_threads';
import { UserError } from '../util/errors.js';
import type { SweepJob, SweepResult } from './job.js';

export class JobThread {
  private thread: Thread | null = null;
  private pending: { resolve: (r: SweepResult) => void; reject: (e: Error) => void } | null = null;
  private stopped = false;

  run(job: SweepJob): Promise<SweepResult> {
    if (this.stopped) return Promise.reject(new Error('the job thread was stopped'));
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
        this.settle(new Error(why));
      };
      t.on('error', (e) => lost(`worker thread crashed: ${e.message}`));
      t.on('exit', (code) => lost(`worker thread exited with code ${code}`));
      this.thread = t;
    }
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.thread!.postMessage({ job });
    });
  }

  /** Ends the thread; a job still running is rejected, and no new one starts. */
  async stop(): Promise<void> {
    this.stopped = true;
    const t = this.thread;
    this.thread = null;
    this.settle(new Error('the job thread was stopped'));
    await t?.terminate();
  }

  private settle(e: Error): void {
    const p = this.pending;
    this.pending = null;
    p?.reject(e);
  }
}
