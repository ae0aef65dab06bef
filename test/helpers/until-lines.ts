import { existsSync, readFileSync } from 'node:fs';

/** Resolves once the file at `path` has `n` complete lines; rejects after `timeoutMs`. */
export async function untilLines(path: string, n: number, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (existsSync(path) && readFileSync(path, 'utf8').split('\n').length - 1 >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${path}: no ${n} line(s) after ${timeoutMs} ms`);
}
