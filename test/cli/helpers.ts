import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Runs the CLI; a command still running after `timeoutMs` is killed (code null), so a hang fails its test. */
export function gradleak(args: string[], timeoutMs = 180_000) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, GRADLEAK_DEBUG: '' }, timeout: timeoutMs, killSignal: 'SIGKILL' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the CLI, sends `signal` after `afterMs`, and resolves with its exit code and stderr (for interrupt tests). */
export async function interrupted(args: string[], afterMs: number, signal: NodeJS.Signals = 'SIGINT'): Promise<{ code: number | null; stderr: string; ms: number }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdout!.resume();
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c))); // also when it ends before the signal
  await Promise.race([new Promise((r) => setTimeout(r, afterMs)), exited]);
  const t = Date.now();
  child.kill(signal);
  const code = await exited;
  return { code, stderr, ms: Date.now() - t };
}

/** Each `attack` case (flags, expected message) fails with exit 2, one line on stderr, and no run directory `out`. */
export function attackRejects(cases: [string[], RegExp][], out: string): void {
  for (const [args, re] of cases) {
    const r = gradleak(['attack', ...args, '--iterations', '1', '--out', out]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
    assert.ok(!existsSync(out));
  }
}
