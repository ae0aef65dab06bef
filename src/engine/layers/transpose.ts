// transpose: permutes the per-sample dimensions (ONNX Transpose / torch.permute without the batch axis),
// out.shape[i] = in.shape[perm[i]]. A permutation of the elements, z[j] = a[src[j]]: its transpose is the
// inverse permutation, da[src[j]] = dz[j], and the tangent passes move the tangents the same way.
import type { Arr } from '../kernels.js';
import { sizeOf, type Shape } from './layer.js';
import { LinearMap } from './linear-map.js';

export class Transpose extends LinearMap {
  readonly kind = 'transpose';
  readonly outShape: Shape;
  private readonly src: Int32Array; // per output element of a sample: its input element
  private readonly n: number;

  constructor(readonly inShape: Shape, readonly perm: readonly number[]) {
    super();
    const r = inShape.length;
    if (perm.length !== r || [...perm].sort((x, y) => x - y).some((p, i) => p !== i)) throw new Error(`transpose: perm [${perm}] is not a permutation of the ${r} dimensions of [${inShape}]`);
    this.outShape = perm.map((p) => inShape[p]);
    this.n = sizeOf(inShape);
    const inStride = inShape.map((_, i) => sizeOf(inShape.slice(i + 1)));
    this.src = new Int32Array(this.n);
    const idx = new Array<number>(r).fill(0); // the output index, row-major
    for (let j = 0; j < this.n; j++) {
      let at = 0;
      for (let i = 0; i < r; i++) at += idx[i] * inStride[perm[i]];
      this.src[j] = at;
      for (let i = r - 1; i >= 0 && ++idx[i] === this.outShape[i]; i--) idx[i] = 0;
    }
  }

  protected apply(a: Arr, z: Arr, B: number): void {
    const { n, src } = this;
    for (let b = 0; b < B; b++) for (let j = 0, o = b * n; j < n; j++) z[o + j] = a[o + src[j]];
  }

  protected transpose(dz: Arr, da: Arr, B: number): void {
    const { n, src } = this;
    for (let b = 0; b < B; b++) for (let j = 0, o = b * n; j < n; j++) da[o + src[j]] = dz[o + j];
  }
}
