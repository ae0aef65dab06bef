// A private redis-server for the distributed-sweep tests: on a free port, in a temporary directory, in memory
// only, stopped afterwards. Tests never touch a Redis on 6379, which may be the user's own.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRedis, parseRedisUrl } from '../../src/sweep/queue-connection.js';

export interface TestRedis {
  url: string;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts redis-server; fails within seconds, with how to install it, when it is not on PATH. */
export async function startRedis(): Promise<TestRedis> {
  if (spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).error) {
    throw new Error('redis-server is not on PATH: the distributed-sweep tests need it (Debian: apt-get install -y redis-server)');
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gradleak-redis-'));
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    try {
      await checkRedis(parseRedisUrl(url), 500);
      return { url, stop };
    } catch (e) {
      if (i >= 20 || child.exitCode !== null) {
        stop();
        throw new Error(`redis-server on port ${port} did not answer: ${(e as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
