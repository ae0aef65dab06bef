// README's audit table is the committed audit of examples/audit-mnist.yaml (docs/audit-mnist/audit.csv, written by
// `gradleak audit examples/audit-mnist.yaml`), row by row: no number in it was typed by hand. Running that audit
// takes ~40 minutes on 2 cores, so the test checks the README against the run's CSV, and the CSV against the config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAuditConfig } from '../../src/audit/config.js';

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

function csvRows(text: string): Record<string, string>[] {
  const [head, ...lines] = text.trim().split('\n');
  const keys = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [keys[i], v])));
}

test('README "Audit a deployment": its table is docs/audit-mnist/audit.csv, whose settings are examples/audit-mnist.yaml\'s', () => {
  const rows = csvRows(readFileSync(root('docs/audit-mnist/audit.csv'), 'utf8'));
  assert.deepEqual(rows.map((r) => r.setting), loadAuditConfig(root('examples/audit-mnist.yaml')).settings.map((s) => s.id));
  const readme = readFileSync(root('README.md'), 'utf8');
  assert.ok(readme.includes('## Audit a deployment'), 'README has the section');
  const start = readme.indexOf('## Audit a deployment'), end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const table = section.split('\n').filter((l) => /^\| [a-z]/.test(l) && !l.startsWith('| setting'));
  assert.equal(table.length, rows.length, 'one README row per setting');
  table.forEach((line, i) => {
    const [setting, epsilon, accuracy, recovered, naive, ssim, labels] = line.split('|').slice(1, -1).map((c) => c.trim());
    const r = rows[i];
    assert.equal(setting, r.setting);
    assert.equal(epsilon, r.epsilon ? `${String(Number(Number(r.epsilon).toPrecision(3)))} vs ${r.adversary}` : '-', `${setting} epsilon`);
    assert.equal(accuracy, Number(r.accuracy).toFixed(3), `${setting} accuracy`);
    assert.equal(recovered, `${r.recovered}/${r.samples}`, `${setting} recovered`);
    assert.equal(naive, `${r.recovered_naive}/${r.samples}`, `${setting} recovered by the naive attacks`);
    assert.equal(ssim, Number(r.mean_worst_ssim).toFixed(3), `${setting} SSIM`);
    assert.equal(labels, `${Math.round(100 * Number(r.labels_recovered_fraction))}%`, `${setting} labels`);
  });
});
