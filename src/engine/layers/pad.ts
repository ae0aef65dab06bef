// pad: zeros around the per-sample dimensions (ONNX Pad, mode constant, value 0): pads = [begin..., end...],
// one pair per dimension. z = P a places a inside zeros, so P is linear: backward da = P^T dz (the inner
// block of dz), and the tangent passes apply the same two maps.
import type { Arr } from '../kernels.js';
import { sizeOf, type Shape } from './layer.js';
import { LinearMap } from './linear-map.js';

export class Pad extends LinearMap {
  readonly kind = 'pad';
  readonly outShape: Shape;
  private readonly dst: Int32Array; // per input element of a sample: its output element
  private readonly n: number;
  private readonly m: number;

  constructor(readonly inShape: Shape, readonly pads: readonly number[]) {
    super();
    const r = inShape.length;
    if (pads.length !== 2 * r || pads.some((p) => !Number.isInteger(p) || p < 0)) throw new Error(`pad: pads [${pads}] must be ${2 * r} non-negative integers`);
    this.outShape = inShape.map((d, i) => d + pads[i] + pads[r + i]);
    this.n = sizeOf(inShape);
    this.m = sizeOf(this.outShape);
    const outStride = this.outShape.map((_, i) => sizeOf(this.outShape.slice(i + 1)));
    this.dst = new Int32Array(this.n);
    const idx = new Array<number>(r).fill(0); // the input index, row-major
    for (let j = 0; j < this.n; j++) {
      let at = 0;
      for (let i = 0; i < r; i++) at += (idx[i] + pads[i]) * outStride[i];
      this.dst[j] = at;
      for (let i = r - 1; i >= 0 && ++idx[i] === inShape[i]; i--) idx[i] = 0;
    }
  }

  protected apply(a: Arr, z: Arr, B: number): void {
    const { n, m, dst } = this;
    z.fill(0, 0, B * m);
    for (let b = 0; b < B; b++) for (let j = 0; j < n; j++) z[b * m + dst[j]] = a[b * n + j];
  }

  protected transpose(dz: Arr, da: Arr, B: number): void {
    const { n, m, dst } = this;
    for (let b = 0; b < B; b++) for (let j = 0; j < n; j++) da[b * n + j] = dz[b * m + dst[j]];
  }
}
