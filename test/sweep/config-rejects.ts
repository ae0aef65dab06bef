import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gradleak } from '../cli/helpers.js';
import { parseSweepConfig } from '../../src/sweep/config.js';
import { throwsUser } from '../helpers/user-error.js';

/** The sweep config `raw` (as if read from cfg.yaml) is rejected with one line naming the file and matching `re`. */
export function rejects(raw: unknown, re: RegExp): void {
  throwsUser(() => parseSweepConfig(raw, 'cfg.yaml'), 'cfg.yaml: ', re);
}

/** `gradleak sweep` (with `args`) on each config file (YAML text) exits 2 with one matching line on stderr and writes no --out. */
export function sweepRejects(dir: string, cases: readonly [string, RegExp][], args: readonly string[] = []): void {
  cases.forEach(([yaml, re], i) => {
    const cfg = join(dir, `c${i}.yaml`), out = join(dir, `o${i}`);
    writeFileSync(cfg, yaml);
    const r = gradleak(['sweep', '--config', cfg, '--out', out, ...args]);
    assert.equal(r.code, 2, `${yaml}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trim(), re);
    assert.ok(!existsSync(out), 'no output directory');
  });
}
