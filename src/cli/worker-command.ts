// gradleak worker --queue redis://HOST:PORT: runs the jobs of distributed sweeps (`gradleak sweep
// --queue URL`) until SIGINT/SIGTERM; start any number, on any machines that reach the Redis server.
import { Command } from 'commander';
import { DEFAULT_LOCK_DURATION_MS, DEFAULT_MAX_STALLED_COUNT, DEFAULT_STALLED_INTERVAL_MS, runQueueWorker } from '../sweep/queue-worker.js';
import { DEFAULT_QUEUE_NAME, parseRedisUrl } from '../sweep/queue-connection.js';
import { scoreLine } from '../sweep/job.js';
import { nonNegativeInt, positiveInt } from './parse.js';

export function workerCommand(): Command {
  return new Command('worker')
    .description('run the jobs of distributed sweeps from a Redis queue (gradleak sweep --queue URL) until interrupted')
    .requiredOption('--queue <url>', 'Redis server holding the queue: redis://HOST:PORT[/DB]')
    .option('--concurrency <n>', 'jobs run at once (one thread each)', positiveInt, 1)
    .option('--queue-name <name>', 'BullMQ queue name (the sweep must use the same)', DEFAULT_QUEUE_NAME)
    .option('--lock-duration <ms>', 'job lock lifetime: a dead worker\'s job is retried elsewhere after at most this plus 2 stalled intervals', positiveInt, DEFAULT_LOCK_DURATION_MS)
    .option('--stalled-interval <ms>', 'how often to look for jobs of dead workers', positiveInt, DEFAULT_STALLED_INTERVAL_MS)
    .option('--max-stalled <n>', 'a job whose worker died more than n times fails', nonNegativeInt, DEFAULT_MAX_STALLED_COUNT)
    .option('--idle-exit <ms>', 'stop once no job has run for this long (default: run until interrupted)', positiveInt)
    .action(async (o: {
      queue: string; concurrency: number; queueName: string; lockDuration: number; stalledInterval: number; maxStalled: number; idleExit?: number;
    }) => {
      parseRedisUrl(o.queue); // bad URL → UserError before anything else
      const worker = await runQueueWorker(o.queue, {
        concurrency: o.concurrency, queueName: o.queueName, lockDurationMs: o.lockDuration, stalledIntervalMs: o.stalledInterval,
        maxStalledCount: o.maxStalled, idleExitMs: o.idleExit,
        onEvent: (e) => {
          if (e.type === 'started') console.log(`started ${e.key}`);
          else if (e.type === 'completed') console.log(`done ${e.key} ${e.seconds.toFixed(2)} s  ${scoreLine(e.result)}`);
          else console.log(`failed ${e.key} ${e.seconds.toFixed(2)} s: ${e.error.split('\n')[0]}`);
        },
      });
      console.log(`worker: waiting for jobs on ${o.queue.replace(/\/\/[^@/]*@/, '//')} (queue ${o.queueName}, concurrency ${o.concurrency})`);
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals) => {
        if (++signals > 1) {
          console.error(`worker: ${sig} again: abandoning running jobs (another worker retries them once their lock expires)`);
          process.exit(130);
        }
        console.error(`worker: ${sig}: finishing running jobs, then exiting (send it again to abandon them)`);
        void worker.close();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        await worker.closed;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      console.log('worker: stopped');
    });
}
