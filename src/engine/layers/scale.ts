// scale: z = c a for a constant c (attention's 1/sqrt(d_head); ONNX Mul or Div by a scalar constant).
// Linear: backward da = c dz, and the tangent passes apply the same maps to the tangents.
import type { Arr } from '../kernels.js';
import type { Shape } from './layer.js';
import { LinearMap } from './linear-map.js';

export class Scale extends LinearMap {
  readonly kind = 'scale';
  readonly outShape: Shape;

  constructor(readonly inShape: Shape, readonly factor: number) {
    super();
    this.outShape = inShape;
  }

  protected apply(a: Arr, z: Arr): void {
    const c = this.factor;
    for (let i = 0; i < z.length; i++) z[i] = c * a[i];
  }

  protected transpose(dz: Arr, da: Arr): void {
    this.apply(dz, da);
  }
}
