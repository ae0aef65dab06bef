// A real PyTorch client of a malicious server (test/data/malicious/, tools/torch_malicious_client.py): the client built
// the modified model itself from weights.safetensors + construction.json and sent float32 messages; `gradleak attack
// --message` with construction.json beside the ONNX model recovers every image alone in its imprint bin, through
// secure aggregation (the same images as one client) and one local FedAvg step (up to float32 rounding of the
// client's new biases), and most images alone in a trap row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '../../src/formats/safetensors.js';
import type { Construction } from '../../src/malicious/construction.js';
import { gradleak } from '../cli/helpers.js';

const DIR = fileURLToPath(new URL('../../../test/data/malicious/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'gradleak-torch-client-'));

interface Fixture { model: string; message: string; attack: 'imprint' | 'trap'; flags: string[] }
const FIXTURES: Record<'a' | 'b' | 'c' | 'd', Fixture> = {
  a: { model: 'imprint-lenet-k32', message: 'fedsgd-b16', attack: 'imprint', flags: [] },
  b: { model: 'imprint-lenet-k32', message: 'fedsgd-u4-b4', attack: 'imprint', flags: [] },
  c: { model: 'imprint-lenet-k32', message: 'fedavg-lr0.1-b16', attack: 'imprint', flags: ['--protocol', 'fedavg', '--lr', '0.1'] },
  d: { model: 'trap-mlp-w64', message: 'fedsgd-b16', attack: 'trap', flags: [] },
};

interface Result { recovered: number; per_image: { index: number; psnr: number }[]; analytic: { expected: number } }

function attack(f: Fixture): Result {
  const dir = join(DIR, f.model), msg = join(dir, f.message);
  const r = gradleak(['attack', '--attack', f.attack, '--model', join(dir, 'model.onnx'), '--message', join(msg, 'message.safetensors'),
    '--truth', join(msg, 'truth.safetensors'), ...f.flags, '--out', join(tmp, `${f.model}-${f.message}`), '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Result;
}

const results = new Map<Fixture, Result>();
const result = (f: Fixture) => results.get(f) ?? results.set(f, attack(f)).get(f)!;
const construction = (f: Fixture): Construction => JSON.parse(readFileSync(join(DIR, f.model, 'construction.json'), 'utf8'));
const weights = (f: Fixture) => readSafetensors(join(DIR, f.model, 'weights.safetensors'));
const message = (f: Fixture) => readSafetensors(join(DIR, f.model, f.message, 'message.safetensors'));
const recoveredImages = (r: Result) => r.per_image.filter((p) => p.psnr > 30).map((p) => p.index).sort((a, b) => a - b);
const psnrOf = (r: Result, s: number) => r.per_image.find((p) => p.index === s)!.psnr;

function truth(f: Fixture): { images: Float64Array[]; d: number } {
  const x = readSafetensors(join(DIR, f.model, f.message, 'truth.safetensors')).get('x')!;
  const [N, C, H, W] = x.shape, d = C * H * W;
  return { images: Array.from({ length: N }, (_, s) => x.data.subarray(s * d, (s + 1) * d)), d };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>, n: number) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
};

/** Each image's imprint bin: the number of thresholds t_k with m·x > t_k, minus 1 (m = imprint.measure's row 0). */
function imprintBins(f: Fixture): number[] {
  const c = construction(f), { images, d } = truth(f);
  const m = weights(f).get(`${c.layer}.weight`)!.data.subarray(c.rows[0] * d, (c.rows[0] + 1) * d);
  return images.map((x) => {
    const v = dot(m, x, d);
    return c.thresholds.filter((t) => v > t).length - 1;
  });
}

/** The images whose bin holds no other image. */
function aloneInBins(f: Fixture): number[] {
  const bins = imprintBins(f);
  return bins.flatMap((b, s) => (bins.filter((o) => o === b).length === 1 ? [s] : []));
}

/** The images alone in at least one trap row (row i fires on x when w_i·x + b_i > 0; the trap's biases are 0). */
function aloneInRows(f: Fixture): number[] {
  const c = construction(f), { images, d } = truth(f), w = weights(f);
  const W = w.get(`${c.layer}.weight`)!.data, b = w.get(`${c.layer}.bias`)!.data;
  const alone = new Set<number>();
  for (const i of c.rows) {
    const fired = images.flatMap((x, s) => (dot(W.subarray(i * d, (i + 1) * d), x, d) + b[i] > 0 ? [s] : []));
    if (fired.length === 1) alone.add(fired[0]);
  }
  return [...alone].sort((a, b) => a - b);
}

/** The gap from |v| to the next float32 up. */
function ulp32(v: number): number {
  const f = new Float32Array([Math.abs(v)]), i = new Int32Array(f.buffer);
  const at = f[0];
  i[0] += 1;
  return f[0] - at;
}

/**
 * A lower bound on the PSNR of image s (alone in bin k) from a float32 FedAvg update U = w_0 - fl(w_0 - lr g): every
 * entry of U is off by at most half an ulp of the new weight, so the bin's x = (U_W,k - U_W,k+1) / (U_b,k - U_b,k+1)
 * is off by at most e_W / |den| per pixel plus the relative error e_b / |den| of the denominator:
 * rms error <= e_W / |den| + (e_b / |den|) rms(x).
 */
function float32Bound(f: Fixture, s: number, k: number): number {
  const c = construction(f), { images, d } = truth(f), w = weights(f), u = message(f);
  const W0 = w.get(`${c.layer}.weight`)!.data, b0 = w.get(`${c.layer}.bias`)!.data;
  const UW = u.get(`${c.layer}.weight`)!.data, Ub = u.get(`${c.layer}.bias`)!.data;
  const units = k + 1 < c.rows.length ? [c.rows[k], c.rows[k + 1]] : [c.rows[k]];
  const half = (w0: number, du: number) => ulp32(Math.abs(w0) + Math.abs(du)) / 2;
  let eW = 0, eb = 0, den = 0;
  units.forEach((r, j) => {
    let rowMax = 0;
    for (let i = 0; i < d; i++) rowMax = Math.max(rowMax, half(W0[r * d + i], UW[r * d + i]));
    eW += rowMax;
    eb += half(b0[r], Ub[r]);
    den += j === 0 ? Ub[r] : -Ub[r];
  });
  const rms = Math.sqrt(dot(images[s], images[s], d) / d);
  return -20 * Math.log10(eW / Math.abs(den) + (eb / Math.abs(den)) * rms);
}

for (const key of ['a', 'b'] as const) {
  const f = FIXTURES[key];
  test(`(${key}) imprint module on LeNet, PyTorch FedSGD ${f.message}: recovered = the images alone in their bin (PSNR > 40 dB)`, () => {
    const r = result(f), alone = aloneInBins(f), c = construction(f);
    assert.equal(alone.length, 12, 'the fixture: 12 of 16 images alone in their bin');
    assert.equal(r.analytic.expected, Number(c.expected_recovered.toFixed(2)));
    assert.ok(r.recovered >= alone.length && r.recovered <= alone.length + 2, `recovered ${r.recovered}, alone in their bin ${alone.length}`);
    assert.equal(recoveredImages(r).length, r.recovered);
    for (const s of alone) assert.ok(psnrOf(r, s) > 40, `image ${s} (alone in bin ${imprintBins(f)[s]}): ${psnrOf(r, s).toFixed(1)} dB`);
  });
}

test('(a) and (b): secure aggregation of 4 users x 4 images gives the server the same images as one client with 16', () => {
  const one = result(FIXTURES.a), four = result(FIXTURES.b);
  assert.equal(four.recovered, one.recovered);
  assert.deepEqual(recoveredImages(four), recoveredImages(one));
  assert.deepEqual(recoveredImages(one), aloneInBins(FIXTURES.a));
});

test('(c) imprint, PyTorch FedAvg one step lr 0.1: each image alone in its bin as exact as float32 rounding of the new biases allows', () => {
  const f = FIXTURES.c, r = result(f), alone = aloneInBins(f), bins = imprintBins(f);
  assert.deepEqual(alone, aloneInBins(FIXTURES.a), 'the same batch as (a)');
  assert.ok(r.recovered <= alone.length + 2, `recovered ${r.recovered}, alone ${alone.length}`);
  const bounds = alone.map((s) => float32Bound(f, s, bins[s]));
  alone.forEach((s, i) => {
    const want = Math.min(40, bounds[i]);
    assert.ok(psnrOf(r, s) > want, `image ${s} (bin ${bins[s]}): ${psnrOf(r, s).toFixed(1)} dB, float32 bound ${bounds[i].toFixed(1)} dB`);
  });
  // every alone image whose bound clears 30 dB is recovered; with an exact update all 12 would be (test (a))
  const sure = bounds.filter((b) => b > 30).length;
  assert.ok(r.recovered >= sure, `recovered ${r.recovered}, alone with a float32 bound above 30 dB ${sure}`);
  assert.ok(sure >= alone.length / 2, `${sure} of ${alone.length}: the bound is not vacuous`);
});

test('(d) trap weights in an MLP\'s fc1 (first_linear), PyTorch FedSGD: at least half the images alone in a row come back exactly', () => {
  const f = FIXTURES.d, r = result(f), alone = aloneInRows(f), c = construction(f);
  assert.equal(c.placement, 'first_linear');
  assert.equal(r.analytic.expected, Number(c.expected_recovered.toFixed(2)));
  assert.ok(r.recovered >= alone.length / 2, `recovered ${r.recovered}, alone in some row ${alone.length}`);
  const got = recoveredImages(r);
  assert.equal(got.length, r.recovered);
  for (const s of got) {
    assert.ok(alone.includes(s), `image ${s} recovered but alone in no row`);
    assert.ok(psnrOf(r, s) > 40, `image ${s}: ${psnrOf(r, s).toFixed(1)} dB`);
  }
});
