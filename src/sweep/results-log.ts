// DIR/results.jsonl: one line per finished job, appended by the main thread only. Each line is one
// writeSync on a file opened with O_APPEND, then fsync, so a crash (SIGKILL included) leaves whole lines
// and at worst a partial last line; opening the log truncates such a partial line away before
// anything is appended. Non-finite numbers (PSNR of an exact reconstruction is Infinity) are written
// as the strings "Infinity", "-Infinity", "NaN" and read back as numbers.
import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import type { SweepResult } from './job.js';

export function encodeResult(r: SweepResult): string {
  return JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) + '\n';
}

const NON_FINITE: Record<string, number> = { Infinity: Infinity, '-Infinity': -Infinity, NaN: NaN };

export function decodeResult(line: string): SweepResult {
  return JSON.parse(line, (_k, v) => (typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v)) as SweepResult;
}

export interface LogContents {
  /** Results in file order, the first line of each key only. */
  results: SweepResult[];
  /** Bytes of a trailing partial line (0 when the file ends with a newline). */
  partialBytes: number;
  /** Complete lines that were not a result (e.g. after a power loss), skipped. */
  badLines: number;
  /** Lines whose key had already appeared (never written by gradleak; skipped). */
  duplicates: number;
}

/** Parses the log; `text` ends at the last newline that matters. */
export function parseLog(text: string): LogContents {
  const end = text.lastIndexOf('\n') + 1;
  const out: LogContents = { results: [], partialBytes: Buffer.byteLength(text.slice(end)), badLines: 0, duplicates: 0 };
  const seen = new Set<string>();
  for (const line of text.slice(0, end).split('\n')) {
    if (line.trim() === '') continue;
    let r: SweepResult;
    try {
      r = decodeResult(line);
    } catch {
      out.badLines++;
      continue;
    }
    if (typeof r?.key !== 'string' || typeof r.metrics !== 'object' || r.metrics === null) {
      out.badLines++;
      continue;
    }
    if (seen.has(r.key)) {
      out.duplicates++;
      continue;
    }
    seen.add(r.key);
    out.results.push(r);
  }
  return out;
}

export class ResultsLog {
  private constructor(readonly path: string, private fd: number, readonly contents: LogContents) {}

  /** Opens (or creates) the log for appending, cutting off a trailing partial line first. */
  static open(path: string): ResultsLog {
    let fd: number;
    try {
      fd = openSync(path, 'a+');
    } catch (e) {
      throw new UserError(`${path}: cannot open for appending (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const buf = readFileSync(path);
    const end = buf.lastIndexOf(0x0a) + 1;
    const contents = parseLog(buf.subarray(0, end).toString('utf8'));
    contents.partialBytes = buf.length - end;
    if (contents.partialBytes > 0) {
      ftruncateSync(fd, end);
      fsyncSync(fd);
    }
    return new ResultsLog(path, fd, contents);
  }

  /** Appends one whole line and makes it durable before returning. */
  append(r: SweepResult): void {
    const line = Buffer.from(encodeResult(r));
    const n = writeSync(this.fd, line);
    if (n !== line.length) throw new Error(`${this.path}: short write (${n} of ${line.length} bytes)`);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
