// The Rényi-DP accountant of the Poisson-subsampled Gaussian mechanism checked three ways: the closed form at
// q = 1, the binomial sum at integer orders computed directly (no log space), and 60 epsilons of Opacus's RDP
// analysis over the same orders (test/data/fixtures/dp/, how they were made is in the file and the README there);
// sampling without replacement against 51 epsilons of dp-accounting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_ORDERS, epsilonFromRdp, gaussianEpsilon, stepRdp } from '../../src/privacy/rdp.js';

const close = (a: number, b: number, rel: number, what: string) => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${what}: ${a} vs ${b}`);

test('the orders are dp-accounting\'s defaults: 1.1 .. 10.9 by 0.1, 11 .. 63, 128, 256, 512, 1024', () => {
  assert.equal(DEFAULT_ORDERS.length, 99 + 53 + 4);
  assert.deepEqual([DEFAULT_ORDERS[0], DEFAULT_ORDERS[1], DEFAULT_ORDERS[98], DEFAULT_ORDERS[99], DEFAULT_ORDERS[151]], [1.1, 1.2, 10.9, 11, 63]);
  assert.deepEqual(DEFAULT_ORDERS.slice(-4), [128, 256, 512, 1024]);
});

test('q = 1: RDP a / (2 z^2) per step, and the general sums approach it as q -> 1', () => {
  for (const z of [0.7, 1.1, 3]) {
    for (const a of [1.5, 2, 7.3, 32]) {
      assert.equal(stepRdp(1, z, a), a / (2 * z * z));
      close(stepRdp(1 - 1e-9, z, a), a / (2 * z * z), 1e-6, `q -> 1, z ${z}, order ${a}`);
    }
  }
  // with every step seeing the record, epsilon is the Gaussian mechanism's: min_a T a/(2 z^2) + conversion
  const e = gaussianEpsilon({ q: 1, z: 1, steps: 10, delta: 1e-5 });
  const direct = Math.min(...DEFAULT_ORDERS.map((a) => (10 * a) / 2 + Math.log((a - 1) / a) - (Math.log(1e-5) + Math.log(a)) / (a - 1)));
  close(e.epsilon, direct, 1e-12, 'q = 1, z = 1, T = 10');
});

// A_a - 1 = sum_k C(a,k) (1-q)^(a-k) q^k (exp((k^2 - k)/(2 z^2)) - 1), since the binomial weights sum to 1: every
// term >= 0, so the direct sum has no cancellation even where A_a is 1 + 1e-9. The accountant's log-space sum
// cancels its first two terms there (log A_a ~ 1e-9 from terms ~3e-4): 1e-8 relative is what it keeps of such tiny
// RDPs, far below what moves epsilon (the Opacus values below agree to 1e-11)
test('integer orders: the binomial sum A_a = sum_k C(a,k) (1-q)^(a-k) q^k exp((k^2 - k)/(2 z^2)), summed directly', () => {
  const binom = (n: number, k: number) => {
    let c = 1;
    for (let i = 0; i < k; i++) c = (c * (n - i)) / (i + 1);
    return c;
  };
  for (const q of [0.5, 0.1, 0.01, 1e-4]) {
    for (const z of [0.9, 2, 5]) {
      for (const a of [2, 3, 5, 8, 13, 20]) {
        let excess = 0;
        for (let k = 0; k <= a; k++) excess += binom(a, k) * (1 - q) ** (a - k) * q ** k * Math.expm1((k * k - k) / (2 * z * z));
        close(stepRdp(q, z, a), Math.log1p(excess) / (a - 1), 1e-8, `q ${q}, z ${z}, order ${a}`);
      }
    }
  }
});

test('fractional orders: continuous at the integers, and RDP non-decreasing in the order', () => {
  for (const [q, z] of [[0.01, 1.1], [0.2, 0.8], [1e-3, 4]]) {
    for (const a of [2, 3, 6, 11]) close(stepRdp(q, z, a + 1e-7), stepRdp(q, z, a), 1e-5, `q ${q}, z ${z}, order ${a}+`);
    const rdp = DEFAULT_ORDERS.slice(0, 152).map((a) => stepRdp(q, z, a));
    rdp.forEach((r, i) => i > 0 && assert.ok(r >= rdp[i - 1] * (1 - 1e-9), `q ${q}, z ${z}: RDP at ${DEFAULT_ORDERS[i]} < at ${DEFAULT_ORDERS[i - 1]}`));
  }
});

test('60 epsilons of Opacus\'s RDP analysis (q from 1e-4 to 1, z 0.8 .. 4, 1 .. 10000 steps): within 1e-6, at the same order', () => {
  const ref = JSON.parse(readFileSync(new URL('../../../test/data/fixtures/dp/opacus-rdp-epsilons.json', import.meta.url), 'utf8'));
  assert.deepEqual(ref.orders, DEFAULT_ORDERS, 'the reference used the same orders');
  assert.equal(ref.points.length, 60);
  for (const p of ref.points) {
    const e = gaussianEpsilon({ q: p.q, z: p.noise_multiplier, steps: p.steps, delta: p.delta });
    close(e.epsilon, p.epsilon, 1e-6, `q ${p.q}, z ${p.noise_multiplier}, T ${p.steps}, delta ${p.delta}`);
    assert.equal(e.order, p.order);
  }
});

test('sampling without replacement: 51 epsilons of dp-accounting (Wang et al. 2019 Thm 27, fractional orders interpolated) within 1e-9', () => {
  const ref = JSON.parse(readFileSync(new URL('../../../test/data/fixtures/dp/dp-accounting-epsilons.json', import.meta.url), 'utf8'));
  assert.deepEqual(ref.orders, DEFAULT_ORDERS);
  const wor = ref.points.filter((p: { sampling: string }) => p.sampling === 'without-replacement');
  assert.equal(wor.length, 51);
  for (const p of wor) {
    const e = gaussianEpsilon({ q: p.q, z: p.noise_multiplier, steps: p.steps, delta: p.delta, sampling: 'without-replacement' });
    close(e.epsilon, p.epsilon, 1e-9, `without replacement: q ${p.q}, z ${p.noise_multiplier}, T ${p.steps}`);
    assert.equal(e.order, p.order);
  }
  // dp-accounting sums the absolute values of the fractional-order series (an upper bound on A_a); ours is the
  // exact alternating series, as Opacus's: never above theirs, and within 1% where q <= 0.05
  for (const p of ref.points.filter((x: { sampling: string }) => x.sampling === 'poisson')) {
    const e = gaussianEpsilon({ q: p.q, z: p.noise_multiplier, steps: p.steps, delta: p.delta });
    assert.ok(e.epsilon <= p.epsilon * (1 + 1e-9), `Poisson q ${p.q}, z ${p.noise_multiplier}, T ${p.steps}: ${e.epsilon} > ${p.epsilon}`);
    if (p.q <= 0.05) close(e.epsilon, p.epsilon, 0.01, `Poisson q ${p.q}, z ${p.noise_multiplier}, T ${p.steps}`);
  }
});

test('without replacement costs at least as much as Poisson sampling at the same q (replace-one vs add/remove)', () => {
  for (const [q, z] of [[0.01, 1.1], [0.1, 2], [0.5, 0.9]]) {
    const p = gaussianEpsilon({ q, z, steps: 100, delta: 1e-5 }), w = gaussianEpsilon({ q, z, steps: 100, delta: 1e-5, sampling: 'without-replacement' });
    assert.ok(w.epsilon >= p.epsilon, `q ${q}, z ${z}: ${w.epsilon} < ${p.epsilon}`);
  }
});

test('epsilon never negative; no noise, no privacy', () => {
  assert.equal(epsilonFromRdp([0, 0], [2, 3], 0.5).epsilon, 0);
  assert.equal(gaussianEpsilon({ q: 0.1, z: 1e-3, steps: 1, delta: 1e-5 }).epsilon > 100, true);
});
