// Where a distributed sweep's queue lives and how to reach it: the Redis URL, a fast check that Redis
// answers (BullMQ itself would retry forever), BullMQ's connection options, the queue's name, and what
// the executor (queue-executor.ts) and the workers (queue-worker.ts) put on it and take from it.
import { connect as netConnect } from 'node:net';
import type { ConnectionOptions } from 'bullmq';
import { UserError } from '../util/errors.js';
import type { SweepJob } from './job.js';

/** The queue workers and sweeps share (one per Redis database). */
export const DEFAULT_QUEUE_NAME = 'gradleak';
/** Seconds a sweep or worker waits for Redis to answer before giving up (unreachable Redis: exit 2). */
export const CONNECT_TIMEOUT_MS = 3000;

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
export function showUrl(t: RedisTarget): string {
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

export function checkQueueName(name: string): string {
  if (name === '' || name.includes(':')) throw new UserError(`invalid queue name '${name}': it must be non-empty and contain no ':'`);
  return name;
}

export function connection(t: RedisTarget, blocking: boolean): ConnectionOptions {
  // Blocking connections (Worker, QueueEvents) must retry commands forever (BullMQ's requirement).
  return { ...t, connectTimeout: CONNECT_TIMEOUT_MS, ...(blocking ? { maxRetriesPerRequest: null } : {}) };
}

// Results travel as one results.jsonl line (results-log.ts keeps non-finite metrics: PSNR can be Infinity).
export interface QueueReturn {
  line: string;
}

/** A queued job: its sweep, its key and the job itself (plain data). */
export interface QueueJobData {
  sweep: string;
  key: string;
  job: SweepJob;
}

// A job's UserError (bad input: the same on every worker) is not retried and stays a UserError.
export const USER_ERROR_PREFIX = 'UserError: ';
