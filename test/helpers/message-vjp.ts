// The attacker's VJP of a message function against central finite differences: D = ||m(x, y) - target||^2 for a
// random target, dD/dx and dD/dy (soft labels) from vjp(), compared with (D(v + h d) - D(v - h d)) / 2h along
// random directions d. Returns the analytic gradients for further checks.
import assert from 'node:assert/strict';
import type { MessageFunction } from '../../src/fl/message.js';
import { Prng } from '../../src/util/prng.js';

export function checkVjpByDifferences(fn: MessageFunction, x: Float64Array, y: Float64Array, o: { h: number; directions: number; seed: number }) {
  const target = new Prng(o.seed).fillNormal(new Float64Array(fn.size)).map((v) => 0.01 * v);
  const D = (xx: Float64Array, yy: Float64Array) => {
    const m = fn.message(xx, { kind: 'soft', logits: yy });
    let s = 0;
    for (let i = 0; i < m.length; i++) s += (m[i] - target[i]) ** 2;
    return s;
  };
  const m = fn.message(x, { kind: 'soft', logits: y });
  const dm = Float64Array.from(m, (v, i) => 2 * (v - target[i]));
  const dx = new Float64Array(x.length), dy = new Float64Array(y.length);
  fn.vjp(dm, dx, dy);
  for (const [name, vec, grad] of [['x', x, dx], ['y', y, dy]] as const) {
    for (let k = 0; k < o.directions; k++) {
      const dir = new Prng(o.seed + 1 + 2 * k + (name === 'x' ? 0 : 1)).fillNormal(new Float64Array(vec.length));
      const shifted = (s: number) => vec.map((v, i) => v + s * o.h * dir[i]);
      const fd = name === 'x' ? (D(shifted(1), y) - D(shifted(-1), y)) / (2 * o.h) : (D(x, shifted(1)) - D(x, shifted(-1))) / (2 * o.h);
      const analytic = grad.reduce((s, g, i) => s + g * dir[i], 0);
      assert.ok(Math.abs(fd - analytic) < 1e-6 * Math.max(1e-3, Math.abs(fd)), `d${name} along direction ${k}: ${analytic} vs ${fd}`);
    }
  }
  return { dx, dy };
}
