// README's "Threat models" tables are the committed output of `gradleak malicious-table --batches 20`
// (docs/malicious-mnist/malicious.md and fishing.md, with their CSVs): no number in them was typed by hand. The run
// takes ~30 minutes on 2 cores, so the test checks the README against the run's files and the files against the
// settings the command measures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MALICIOUS_SETTINGS } from '../../src/experiments/malicious-table.js';

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const tableLines = (text: string) => text.split('\n').filter((l) => l.startsWith('| '));

test('README "Threat models": its tables are docs/malicious-mnist/malicious.md and fishing.md, one row per measured setting', () => {
  const readme = readFileSync(root('README.md'), 'utf8');
  const start = readme.indexOf('## Threat models'), end = readme.indexOf('\n## ', start + 1);
  assert.ok(start >= 0, 'README has the section');
  const section = readme.slice(start, end);
  for (const file of ['malicious.md', 'fishing.md']) {
    const lines = tableLines(readFileSync(root(`docs/malicious-mnist/${file}`), 'utf8'));
    assert.ok(lines.length > 2, file);
    for (const l of lines) assert.ok(section.includes(`${l}\n`), `README lacks the row of ${file}: ${l}`);
  }
  const csv = readFileSync(root('docs/malicious-mnist/malicious.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length - 1, MALICIOUS_SETTINGS.length, 'one CSV row per setting');
  assert.equal(tableLines(readFileSync(root('docs/malicious-mnist/malicious.md'), 'utf8')).length - 2, MALICIOUS_SETTINGS.length);
  // imprint where N / K <= 2: the exact count within 10% of the expectation (the README's claim)
  const [head, ...rows] = csv.map((l) => l.split(','));
  const col = (r: string[], k: string) => Number(r[head.indexOf(k)]);
  for (const r of rows.filter((r) => r[0] === '"imprint"' && col(r, 'images') / col(r, 'units') <= 2)) {
    assert.ok(Math.abs(col(r, 'exact_mean') - col(r, 'expected')) <= 0.1 * col(r, 'expected'), `exact ${col(r, 'exact_mean')} vs expected ${col(r, 'expected')} at N ${col(r, 'images')}, K ${col(r, 'units')}`);
  }
});
