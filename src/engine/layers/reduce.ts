// reduce: the mean or the sum of the sample over some of its dimensions, which stay as dimensions of size 1
// (ONNX ReduceMean / ReduceSum with keepdims; x.mean(dim=(2, 3)) as a global pool, a LayerNorm's statistics).
// Linear, z = R a with R summing (times 1/n for a mean) the elements of each output's group: backward
// da = R^T dz hands each input element its group's adjoint (times 1/n), and the tangents apply the same two maps.
import type { Arr } from '../kernels.js';
import { sizeOf, type Shape } from './layer.js';
import { LinearMap } from './linear-map.js';

export type ReduceOp = 'mean' | 'sum';

export class Reduce extends LinearMap {
  readonly kind = 'reduce';
  readonly outShape: Shape;
  private readonly dst: Int32Array; // per input element of a sample: its output element
  private readonly weight: number; // 1/n for a mean, 1 for a sum
  private readonly n: number;
  private readonly m: number;

  constructor(readonly inShape: Shape, axes: readonly number[], op: ReduceOp) {
    super();
    const r = inShape.length;
    if (axes.length === 0 || axes.some((a) => !Number.isInteger(a) || a < 0 || a >= r) || new Set(axes).size !== axes.length) {
      throw new Error(`reduce: axes [${axes}] must be distinct dimensions of [${inShape}]`);
    }
    this.outShape = inShape.map((d, i) => (axes.includes(i) ? 1 : d));
    this.n = sizeOf(inShape);
    this.m = sizeOf(this.outShape);
    this.weight = op === 'mean' ? this.m / this.n : 1;
    const outStride = this.outShape.map((_, i) => sizeOf(this.outShape.slice(i + 1)));
    this.dst = new Int32Array(this.n);
    const idx = new Array<number>(r).fill(0); // the input index, row-major
    for (let j = 0; j < this.n; j++) {
      this.dst[j] = idx.reduce((at, k, i) => at + (axes.includes(i) ? 0 : k * outStride[i]), 0);
      for (let i = r - 1; i >= 0 && ++idx[i] === inShape[i]; i--) idx[i] = 0;
    }
  }

  protected apply(a: Arr, z: Arr, B: number): void {
    const { n, m, dst, weight } = this;
    z.fill(0, 0, B * m);
    for (let b = 0; b < B; b++) for (let j = 0; j < n; j++) z[b * m + dst[j]] += weight * a[b * n + j];
  }

  protected transpose(dz: Arr, da: Arr, B: number): void {
    const { n, m, dst, weight } = this;
    for (let b = 0; b < B; b++) for (let j = 0; j < n; j++) da[b * n + j] = weight * dz[b * m + dst[j]];
  }
}
