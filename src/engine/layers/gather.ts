// gather: each output element copies one input element of its sample, or is zero. Per dimension of the
// sample, a list of source indices along it (-1: a zero), or null to keep that dimension as it is. Slices
// (x[:, 1:-1], x[:, ::2]), index lists (x[:, [2, 0]]), and padding of every mode (zeros, reflect, edge,
// circular) are such lists, so one linear map covers them (ONNX Slice, Gather, Pad). z = S a with S a 0/1
// matrix: backward da = S^T dz sums the adjoints of the copies (an edge pad copies one element several times).
import type { Arr } from '../kernels.js';
import { sizeOf, type Shape } from './layer.js';
import { LinearMap } from './linear-map.js';

export type GatherIndices = readonly (readonly number[] | null)[];

export class Gather extends LinearMap {
  readonly kind = 'gather';
  readonly outShape: Shape;
  private readonly src: Int32Array; // per output element of a sample: its input element, or -1
  private readonly n: number;

  constructor(readonly inShape: Shape, indices: GatherIndices) {
    super();
    const r = inShape.length;
    if (indices.length !== r) throw new Error(`gather: ${indices.length} index lists for [${inShape}]`);
    const lists = indices.map((l, i) => l ?? Array.from({ length: inShape[i] }, (_, k) => k));
    lists.forEach((l, i) => {
      if (l.length === 0 || l.some((k) => !Number.isInteger(k) || k < -1 || k >= inShape[i])) throw new Error(`gather: indices of dimension ${i} must be in -1..${inShape[i] - 1}`);
    });
    this.outShape = lists.map((l) => l.length);
    this.n = sizeOf(inShape);
    const inStride = inShape.map((_, i) => sizeOf(inShape.slice(i + 1)));
    this.src = new Int32Array(sizeOf(this.outShape));
    const idx = new Array<number>(r).fill(0); // the output index, row-major
    for (let j = 0; j < this.src.length; j++) {
      let at = 0;
      for (let i = 0; i < r && at >= 0; i++) {
        const k = lists[i][idx[i]];
        at = k < 0 ? -1 : at + k * inStride[i];
      }
      this.src[j] = at;
      for (let i = r - 1; i >= 0 && ++idx[i] === this.outShape[i]; i--) idx[i] = 0;
    }
  }

  protected apply(a: Arr, z: Arr, B: number): void {
    const { n, src } = this, m = src.length;
    for (let b = 0; b < B; b++) for (let j = 0; j < m; j++) z[b * m + j] = src[j] < 0 ? 0 : a[b * n + src[j]];
  }

  protected transpose(dz: Arr, da: Arr, B: number): void {
    const { n, src } = this, m = src.length;
    da.fill(0, 0, B * n);
    for (let b = 0; b < B; b++) for (let j = 0; j < m; j++) if (src[j] >= 0) da[b * n + src[j]] += dz[b * m + j];
  }
}
