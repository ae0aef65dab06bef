// Elementwise ops of two activations, z = f(a, b), with NumPy broadcasting of the two sample shapes (a squeeze-
// and-excitation gate [C,1,1] times a feature map [C,H,W]; SiLU x * sigmoid(x); in-model normalisation). With
// f_a, f_b its first and f_aa, f_ab, f_bb its second partial derivatives, summed over the broadcast copies:
//   backward         da = f_a dz,  db = f_b dz
//   tangentForward   z' = f_a a' + f_b b'
//   tangentBackward  da' = f_a dz' + (f_aa a' + f_ab b') dz,  db' = f_b dz' + (f_ab a' + f_bb b') dz
import type { Arr } from '../kernels.js';
import { sizeOf, type MultiInputLayer, type Shape } from './layer.js';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div';

/** f and its partial derivatives at (a, b): [f_a, f_b, f_aa, f_ab, f_bb]. */
interface BinaryRule {
  f(a: number, b: number): number;
  d(a: number, b: number): [number, number, number, number, number];
}

const RULES: Record<BinaryOp, BinaryRule> = {
  add: { f: (a, b) => a + b, d: () => [1, 1, 0, 0, 0] },
  sub: { f: (a, b) => a - b, d: () => [1, -1, 0, 0, 0] },
  mul: { f: (a, b) => a * b, d: (a, b) => [b, a, 0, 1, 0] },
  // a / b: f_a = 1/b, f_b = -a/b^2, f_ab = -1/b^2, f_bb = 2a/b^3
  div: { f: (a, b) => a / b, d: (a, b) => [1 / b, -a / (b * b), 0, -1 / (b * b), (2 * a) / (b * b * b)] },
};

/** The broadcast shape of two sample shapes (aligned at the last dimension), or null. */
export function broadcastShapes(a: Shape, b: Shape): number[] | null {
  const r = Math.max(a.length, b.length), out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(Math.max(x, y));
  }
  return out;
}

/** Per output element of a sample of shape `out`: the element of an input of shape `s` broadcast to it. */
function sourceOf(s: Shape, out: Shape): Int32Array {
  const full = [...new Array<number>(out.length - s.length).fill(1), ...s];
  const stride = full.map((d, i) => (d === 1 ? 0 : sizeOf(full.slice(i + 1))));
  const src = new Int32Array(sizeOf(out)), idx = out.map(() => 0);
  for (let j = 0; j < src.length; j++) {
    src[j] = idx.reduce((at, k, i) => at + k * stride[i], 0);
    for (let i = out.length - 1; i >= 0 && ++idx[i] === out[i]; i--) idx[i] = 0;
  }
  return src;
}

export class Binary implements MultiInputLayer {
  readonly kind: BinaryOp;
  readonly inShapes: Shape[];
  readonly outShape: Shape;
  readonly paramShapes = [];
  private readonly rule: BinaryRule;
  private readonly src: [Int32Array, Int32Array];
  private readonly sizes: [number, number];

  constructor(op: BinaryOp, a: Shape, b: Shape) {
    const out = broadcastShapes(a, b);
    if (!out) throw new Error(`${op}: cannot broadcast [${a}] and [${b}]`);
    this.kind = op;
    this.rule = RULES[op];
    this.inShapes = [a, b];
    this.outShape = out;
    this.src = [sourceOf(a, out), sourceOf(b, out)];
    this.sizes = [sizeOf(a), sizeOf(b)];
  }

  bind(): void {}

  /** Calls visit(j, ia, ib) for every output element j of the batch with the elements of a and b it reads. */
  private each(B: number, visit: (j: number, ia: number, ib: number) => void): void {
    const [sa, sb] = this.src, [na, nb] = this.sizes, m = sa.length;
    for (let s = 0; s < B; s++) for (let j = 0; j < m; j++) visit(s * m + j, s * na + sa[j], s * nb + sb[j]);
  }

  forward([a, b]: Arr[], z: Arr, B: number): void {
    const f = this.rule.f;
    this.each(B, (j, ia, ib) => {
      z[j] = f(a[ia], b[ib]);
    });
  }

  backward([a, b]: Arr[], _z: Arr, dz: Arr, [da, db]: (Arr | null)[], B: number): void {
    const d = this.rule.d, [na, nb] = this.sizes;
    da?.fill(0, 0, B * na);
    db?.fill(0, 0, B * nb);
    this.each(B, (j, ia, ib) => {
      const [fa, fb] = d(a[ia], b[ib]);
      if (da) da[ia] += fa * dz[j];
      if (db) db[ib] += fb * dz[j];
    });
  }

  tangentForward([a, b]: Arr[], [adot, bdot]: (Arr | null)[], _z: Arr, zdot: Arr, B: number): void {
    const d = this.rule.d;
    this.each(B, (j, ia, ib) => {
      const [fa, fb] = d(a[ia], b[ib]);
      zdot[j] = (adot ? fa * adot[ia] : 0) + (bdot ? fb * bdot[ib] : 0);
    });
  }

  tangentBackward(
    [a, b]: Arr[], [adot, bdot]: (Arr | null)[], _z: Arr, _zdot: Arr, dz: Arr, dzdot: Arr,
    [dadot, dbdot]: (Arr | null)[], _w: boolean, B: number,
  ): void {
    const d = this.rule.d, [na, nb] = this.sizes;
    dadot?.fill(0, 0, B * na);
    dbdot?.fill(0, 0, B * nb);
    this.each(B, (j, ia, ib) => {
      const [fa, fb, faa, fab, fbb] = d(a[ia], b[ib]), at = adot ? adot[ia] : 0, bt = bdot ? bdot[ib] : 0;
      if (dadot) dadot[ia] += fa * dzdot[j] + (faa * at + fab * bt) * dz[j];
      if (dbdot) dbdot[ib] += fb * dzdot[j] + (fab * at + fbb * bt) * dz[j];
    });
  }
}
