import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binaryExponent, cos, exp, log, log10, powInt, sin } from '../../src/util/portable-math.js';
import { Prng } from '../../src/util/prng.js';

/** Distance in units in the last place between two doubles of the same sign. */
function ulps(a: number, b: number): number {
  if (Object.is(a, b)) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  const v = new DataView(new ArrayBuffer(16));
  v.setFloat64(0, a);
  v.setFloat64(8, b);
  return Math.abs(Number(v.getBigInt64(0) - v.getBigInt64(8)));
}

function worst(f: (x: number) => number, ref: (x: number) => number, draw: () => number, n = 100_000): number {
  let max = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    max = Math.max(max, ulps(f(x), ref(x)));
  }
  return max;
}

test('exp, log, sin and cos are within 2 ulps of Math\'s over their ranges', () => {
  const rng = new Prng(1);
  const u = () => rng.uniform();
  assert.ok(worst(exp, Math.exp, () => (u() - 0.5) * 1450) <= 1, 'exp on [-725, 725]');
  assert.ok(worst(exp, Math.exp, () => (u() - 0.5) * 4) <= 1, 'exp on [-2, 2]');
  assert.ok(worst(log, Math.log, () => Math.exp((u() - 0.5) * 1400)) <= 1, 'log over the doubles');
  assert.ok(worst(log, Math.log, () => 0.5 + u()) <= 2, 'log near 1');
  assert.ok(worst(log, Math.log, () => u() * 1e-310) <= 2, 'log of subnormals');
  for (const [f, ref] of [[sin, Math.sin], [cos, Math.cos]] as const) {
    assert.ok(worst(f, ref, () => u() * 2 * Math.PI) <= 2, `${f.name} on [0, 2 pi)`);
    assert.ok(worst(f, ref, () => (u() - 0.5) * 2e5) <= 3, `${f.name} on [-1e5, 1e5]`);
  }
  assert.ok(Math.abs(log10(1e-8) + 8) < 1e-14);
});

test('special values: exact points, overflow, underflow, NaN and the domain limits', () => {
  assert.equal(exp(0), 1);
  assert.equal(log(1), 0);
  assert.equal(sin(0), 0);
  assert.equal(cos(0), 1);
  assert.equal(exp(710), Infinity);
  assert.equal(exp(-746), 0);
  assert.equal(exp(-745), Math.exp(-745)); // the smallest subnormal
  assert.ok(ulps(exp(709.78), Math.exp(709.78)) <= 1);
  assert.equal(log(0), -Infinity);
  assert.equal(log(Infinity), Infinity);
  assert.ok(Number.isNaN(log(-1)) && Number.isNaN(exp(NaN)) && Number.isNaN(sin(Infinity)));
  assert.equal(log(5e-324), Math.log(5e-324));
  assert.throws(() => sin(1e7), /beyond/);
  assert.equal(powInt(0.9, 0), 1);
  assert.ok(Math.abs(powInt(0.999, 1000) / 0.999 ** 1000 - 1) < 1e-13); // repeated squaring: an ulp or so per step
  for (const x of [1, 1.5, 2, 0.75, 2 ** -1074, 2 ** -1022, 1.9999999999999998, 65504, -3]) assert.equal(binaryExponent(x), Math.floor(Math.log2(Math.abs(x))), `binaryExponent(${x})`);
});
