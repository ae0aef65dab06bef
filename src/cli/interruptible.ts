// Runs a long computation (an attack, a simulation after its data is read) on a worker thread, so that the main thread
// stays free to take Ctrl-C / SIGTERM: the first signal raises a shared flag that the computation reads at its
// next checkpoint (a logged iteration, a round) and it returns what it has; a second signal exits at once.
// The worker script posts {progress} messages, then one {result} or {error}.
import { Worker } from 'node:worker_threads';
import { UserError } from '../util/errors.js';
import { cliMessage } from './flags.js';

/** What every such worker receives besides its own data: [0] = 1 once an interrupt arrived. */
export interface Interruptible {
  stop: Int32Array;
}

export function stopFlag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

/** Ctrl-C / SIGTERM until dispose(): the first calls `onFirst` (and sets `asked`), a second calls `onQuit` and exits at once with 130. */
export function listenForInterrupt(onFirst: () => void = () => {}, onQuit: () => void = () => {}): { readonly asked: boolean; dispose(): void } {
  let asked = false;
  const onSignal = () => {
    if (asked) {
      onQuit();
      process.exit(130);
    }
    asked = true;
    onFirst();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    get asked() {
      return asked;
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export async function runInterruptible<D extends Interruptible, P, R>(script: URL, data: D, onProgress: (p: P) => void): Promise<R> {
  const worker = new Worker(script, { workerData: data });
  const interrupt = listenForInterrupt(() => Atomics.store(data.stop, 0, 1));
  try {
    return await new Promise<R>((resolve, reject) => {
      worker.on('message', (m: { progress?: P; result?: R; error?: { message: string; user: boolean } }) => {
        if (m.progress !== undefined) onProgress(m.progress);
        else if (m.result !== undefined) resolve(m.result);
        else if (m.error) reject(m.error.user ? new UserError(m.error.message) : new Error(m.error.message));
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`the worker thread exited (code ${code})`)));
    });
  } finally {
    interrupt.dispose();
    await worker.terminate();
  }
}

/** The worker side: runs `work` (synchronous, or async) with a progress callback and the stop check, and posts its result or error. */
export function serveInterruptible<P, R>(port: { postMessage(m: unknown): void }, stop: Int32Array, work: (progress: (p: P) => void, shouldStop: () => boolean) => R | Promise<R>): void {
  const fail = (e: unknown) => port.postMessage({ error: { message: cliMessage(e as Error), user: e instanceof UserError } });
  try {
    Promise.resolve(work((p) => port.postMessage({ progress: p }), () => Atomics.load(stop, 0) === 1)).then((result) => port.postMessage({ result }), fail);
  } catch (e) {
    fail(e);
  }
}
