// concat: the inputs side by side along one dimension of the sample (ONNX Concat of graph tensors, e.g.
// circular padding). Each input element has one place in the output, so z = sum_i P_i x_i is linear with
// 0/1 maps P_i: backward dx_i = P_i^T dz, tangentForward z' = sum_i P_i x_i', tangentBackward dx_i' = P_i^T dz'.
import type { Arr } from '../kernels.js';
import { sizeOf, type MultiInputLayer, type Shape } from './layer.js';

export class Concat implements MultiInputLayer {
  readonly kind = 'concat';
  readonly outShape: Shape;
  readonly paramShapes = [];
  private readonly dst: Int32Array[]; // per input, per element of a sample: its output element
  private readonly m: number;

  constructor(readonly inShapes: Shape[], readonly axis: number) {
    const r = inShapes[0].length;
    if (!Number.isInteger(axis) || axis < 0 || axis >= r) throw new Error(`concat: axis ${axis} outside [0, ${r})`);
    if (inShapes.some((s) => s.length !== r || s.some((d, i) => i !== axis && d !== inShapes[0][i]))) {
      throw new Error(`concat: shapes [${inShapes.map((s) => `[${s}]`)}] differ outside axis ${axis}`);
    }
    this.outShape = inShapes[0].map((d, i) => (i === axis ? inShapes.reduce((t, s) => t + s[axis], 0) : d));
    this.m = sizeOf(this.outShape);
    const inner = sizeOf(this.outShape.slice(axis + 1)), outer = sizeOf(this.outShape.slice(0, axis)), width = this.outShape[axis] * inner;
    let offset = 0;
    this.dst = inShapes.map((s) => {
      const block = s[axis] * inner, d = new Int32Array(outer * block);
      for (let o = 0; o < outer; o++) for (let k = 0; k < block; k++) d[o * block + k] = o * width + offset + k;
      offset += block;
      return d;
    });
  }

  bind(): void {}

  forward(x: Arr[], z: Arr, B: number): void {
    this.place(x, z, B);
  }
  backward(_x: Arr[], _z: Arr, dz: Arr, dx: (Arr | null)[], B: number): void {
    this.pick(dz, dx, B);
  }
  tangentForward(_x: Arr[], xdot: (Arr | null)[], _z: Arr, zdot: Arr, B: number): void {
    this.place(xdot, zdot, B);
  }
  tangentBackward(
    _x: Arr[], _xd: (Arr | null)[], _z: Arr, _zd: Arr, _dz: Arr, dzdot: Arr, dxdot: (Arr | null)[], _w: boolean, B: number,
  ): void {
    this.pick(dzdot, dxdot, B);
  }

  /** z = sum_i P_i x_i (a null x_i is zeros). */
  private place(x: (Arr | null)[], z: Arr, B: number): void {
    const m = this.m;
    this.dst.forEach((d, i) => {
      const xi = x[i], n = d.length;
      for (let b = 0; b < B; b++) for (let j = 0; j < n; j++) z[b * m + d[j]] = xi ? xi[b * n + j] : 0;
    });
  }

  /** dx_i = P_i^T g for every wanted input. */
  private pick(g: Arr, dx: (Arr | null)[], B: number): void {
    const m = this.m;
    this.dst.forEach((d, i) => {
      const di = dx[i], n = d.length;
      if (di) for (let b = 0; b < B; b++) for (let j = 0; j < n; j++) di[b * n + j] = g[b * m + d[j]];
    });
  }
}
