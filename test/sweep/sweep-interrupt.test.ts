// Ctrl-C during gradleak sweep: no new job starts, the outputs show the jobs that finished, stderr says how many are
// saved and the command that resumes the sweep, the exit code is 130; that command then runs the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, gradleak } from '../cli/helpers.js';
import { untilLines } from '../helpers/until-lines.js';

const JOBS = 4;
const CONFIG = `attacks: [dlg]\nseeds: {count: ${JOBS}}\niterations: 30\n`;

const keysOf = (out: string) => readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).key as string);

test('SIGINT after the first job: exit 130, the saved count and the resume command on stderr, a report of the finished jobs; resuming runs the rest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gradleak-sweep-int-'));
  const cfg = join(dir, 'sweep.yaml'), out = join(dir, 'out');
  writeFileSync(cfg, CONFIG);
  const child = spawn(process.execPath, [CLI, 'sweep', '--config', cfg, '--out', out, '--workers', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await untilLines(join(out, 'results.jsonl'), 1, 60_000);
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);

  const saved = keysOf(out).length;
  assert.ok(saved >= 1 && saved < JOBS, `stopped after ${saved} of ${JOBS} jobs`);
  const lines = stderr.trim().split('\n');
  assert.match(lines[0], /^gradleak: interrupted: no new job starts/);
  assert.equal(lines[1], `gradleak: interrupted: ${saved} of ${JOBS} jobs saved in ${join(out, 'results.jsonl')}; ${join(out, 'report.html')} and summary.csv show them`);
  assert.equal(lines[2], `gradleak: to resume, run the same command again: gradleak sweep --config ${cfg} --out ${out} --workers 1`);
  assert.equal(lines.length, 3, stderr);
  // the outputs of the finished jobs: their one cell, and a report that says it is partial
  const csv = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 2);
  assert.match(csv[1], new RegExp(`^dlg,fedsgd,none,0,1,${saved},`));
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), new RegExp(`Interrupted: ${saved} of ${JOBS} jobs finished`));
  assert.ok(!existsSync(join(out, '.sweep.lock')), 'the lock is released');

  const resume = lines[2].replace(/^.*run the same command again: gradleak /, '').split(' ');
  const r = gradleak([...resume, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual([j.total, j.resumed, j.ran], [JOBS, saved, JOBS - saved]);
  assert.equal(new Set(keysOf(out)).size, JOBS);
  assert.doesNotMatch(readFileSync(join(out, 'report.html'), 'utf8'), /Interrupted:/);
});
