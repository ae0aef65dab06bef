import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefense, checkDefense, roundToHalf, survivingMask, type DefenseSpec } from '../../src/defenses/defense.js';
import type { ParamSlot } from '../../src/engine/layers/layer.js';
import { UserError } from '../../src/util/errors.js';
import { Prng } from '../../src/util/prng.js';

const slot = (name: string, offset: number, size: number) => ({ name, shape: [size], size, offset }) as unknown as ParamSlot;
const params = [slot('a.weight', 0, 600), slot('a.bias', 600, 400)];
const message = new Prng(3).fillNormal(new Float64Array(1000));
const spec = (name: DefenseSpec['name'], strength = 0, adaptive = false): DefenseSpec => ({ name, strength, adaptive });

test('fp16 rounding matches IEEE binary16', () => {
  assert.equal(roundToHalf(1 / 3), 0.333251953125);
  assert.equal(roundToHalf(65504), 65504);
  assert.equal(roundToHalf(70000), Infinity);
  assert.equal(Math.abs(roundToHalf(-2.5e-8)), 0); // below half the smallest subnormal (2^-25): rounds to zero
  assert.equal(roundToHalf(3 * 2 ** -25), 2 * 2 ** -24); // a tie between subnormals goes to even
  assert.equal(roundToHalf(1 + 2 ** -11), 1); // tie to even
  assert.equal(roundToHalf(1 + 3 * 2 ** -11), 1 + 2 ** -9);
  assert.equal(roundToHalf(0.1), 0.0999755859375);
});

test('gaussian and laplacian noise have the requested variance; noise is seeded', () => {
  for (const name of ['gaussian', 'laplacian'] as const) {
    const zero = new Float64Array(20000);
    const noisy = applyDefense(zero, spec(name, 0.01), params, 7);
    const variance = noisy.reduce((s, v) => s + v * v, 0) / noisy.length;
    assert.ok(Math.abs(variance - 0.01) < 0.0006, `${name} variance ${variance}`);
    assert.deepEqual(applyDefense(zero, spec(name, 0.01), params, 7), noisy);
  }
});

test('int8 quantises each tensor symmetrically to 255 levels', () => {
  const q = applyDefense(message, spec('int8'), params, 0);
  for (const p of params) {
    const t = message.subarray(p.offset, p.offset + p.size), u = q.subarray(p.offset, p.offset + p.size);
    const s = Math.max(...Array.from(t, Math.abs)) / 127;
    const levels = new Set(Array.from(u, (v) => Math.round(v / s)));
    assert.ok(levels.size <= 255);
    for (let i = 0; i < t.length; i++) assert.ok(Math.abs(u[i] - t[i]) <= s / 2 + 1e-15);
  }
});

test('pruning zeroes exactly the requested fraction, the smallest magnitudes; the mask marks the rest', () => {
  const p = applyDefense(message, spec('prune', 0.3), params, 0);
  const zeros = p.filter((v) => v === 0).length;
  assert.equal(zeros, 300);
  const kept = Array.from(p.filter((v) => v !== 0), Math.abs);
  const dropped = Array.from(message.filter((_, i) => p[i] === 0), Math.abs);
  assert.ok(Math.min(...kept) >= Math.max(...dropped));
  assert.equal(survivingMask(p).reduce((s, v) => s + v, 0), 700);
});

test('dp clips the message to norm C before adding noise', () => {
  const clipped = applyDefense(message, { ...spec('dp', 0), clip: 2 }, params, 0);
  assert.ok(Math.abs(Math.hypot(...clipped) - 2) < 1e-12);
});

test('checkDefense rejects unknown defenses, out-of-range strengths and adaptive where there is none', () => {
  for (const bad of [spec('nope' as DefenseSpec['name']), spec('gaussian', 50), spec('gaussian', 0), spec('prune', 1), spec('fp16', 0.5), spec('int8', 0, true)]) {
    assert.throws(() => checkDefense(bad), UserError, JSON.stringify(bad));
  }
  checkDefense(spec('prune', 0.9, true));
  checkDefense(spec('dp', 0.5, true));
});
