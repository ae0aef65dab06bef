// Class fishing (malicious/fishing.ts, the 'fishing' preset): with every class but the target silenced, the message
// outside the silenced rows is the target sample's own gradient (divided by N) whatever the rest of the batch holds,
// and Inverting Gradients on one dummy of the target class recovers that sample from a batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientCase } from '../../src/case/client.js';
import { runAttack } from '../../src/run/image-run.js';
import type { AttackerOptions } from '../../src/attacks/attacker.js';
import { privateBatch } from '../case/helpers.js';
import { maliciousSetup } from './helpers.js';
import { throwsUser } from '../helpers/user-error.js';
import { reconstruct } from '../../src/attacks/attacker.js';

/** Batch of 5 with labels 0, 1, 2, 3, 0: class 1 is held once (image 1), class 0 twice. */
const batch = privateBatch(5);
const FISH = (target: number) => maliciousSetup({ kind: 'fishing', targetClass: target, designImages: 5 });

function cosine(a: Float64Array, b: Float64Array, keep: (i: number) => boolean): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) if (keep(i)) [ab, aa, bb] = [ab + a[i] * b[i], aa + a[i] * a[i], bb + b[i] * b[i]];
  return ab / Math.sqrt(aa * bb);
}

test('class fishing: outside the silenced rows the batch\'s message is the lone target sample\'s gradient', () => {
  const k = clientCase(FISH(1), batch).knowledge, c = k.construction!;
  assert.deepEqual([c.kind, c.placement, c.layer, c.rows, c.target_class], ['fishing', 'last_linear', 'fc', [0, 2, 3], 1]);
  const w = k.net.params.find((p) => p.name === 'fc.weight')!, b = k.net.params.find((p) => p.name === 'fc.bias')!, f = w.shape[1];
  assert.ok(c.rows.every((r) => k.theta.subarray(w.offset + r * f, w.offset + (r + 1) * f).every((v) => v === 0) && k.theta[b.offset + r] === 30));
  const silencedBy = (rows: number[]) => (i: number) => rows.some((r) => (i >= w.offset + r * f && i < w.offset + (r + 1) * f) || i === b.offset + r);
  const silenced = silencedBy(c.rows);
  // the target sample alone, on the same malicious model
  const one = { ...batch, images: batch.images.slice(64, 128), labels: [1], indices: [11] };
  const alone = clientCase(FISH(1), one).knowledge.observed;
  const cos = cosine(k.observed, alone, (i) => !silenced(i));
  assert.ok(cos > 1 - 1e-9, `cosine ${cos}`);
  // a class held twice: its two samples' gradients mix
  const two = clientCase(FISH(0), batch).knowledge.observed;
  const first = clientCase(FISH(0), { ...batch, images: batch.images.slice(0, 64), labels: [0], indices: [10] }).knowledge.observed;
  const other = silencedBy([1, 2, 3]);
  const mixed = cosine(two, first, (i) => !other(i));
  assert.ok(mixed < 1 - 1e-3, `a class held twice: cosine ${mixed} with one of its samples`);
});

test('fishing + IG recovers the lone target sample of a batch of 5 (PSNR > 25 dB), the others not', () => {
  const o: AttackerOptions = { attack: 'fishing', iterations: 1500, seed: 1, logEvery: 500, restarts: 1 };
  const m = runAttack({ ...o, ...FISH(1) }, batch).metrics;
  const target = m.per_image[1];
  assert.equal(target.label_true, 1);
  assert.ok(target.psnr > 25, `target ${target.psnr.toFixed(1)} dB`);
  assert.ok(m.per_image.filter((_, i) => i !== 1).every((p) => p.psnr < 20), m.per_image.map((p) => p.psnr.toFixed(1)).join(' '));
  assert.match(m.threat_model!, /^malicious: fishing \(every class but 1 silenced, written into fc/);
});

test('fishing refusals: no construction, another construction, a class out of range', () => {
  const o: AttackerOptions = { attack: 'fishing', iterations: 1, seed: 1, logEvery: 1, restarts: 1 };
  throwsUser(() => reconstruct(clientCase(maliciousSetup({}), batch).knowledge, o), 'fishing', /class fishing.*carries a imprint construction|carries an imprint/);
  throwsUser(() => clientCase(FISH(4), batch), '--target-class', /a class of 0\.\.3/);
});
