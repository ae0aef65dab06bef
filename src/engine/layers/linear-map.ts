// A parameter-free linear map z = A a (pools, flatten, reshape, identity): backward is the transpose,
// and since A does not depend on the weights the tangent passes apply the same two maps to the tangents:
//   backward da = A^T dz,  tangentForward z' = A a',  tangentBackward da' = A^T dz'.
import type { Arr } from '../kernels.js';
import type { Layer, Shape } from './layer.js';

export abstract class LinearMap implements Layer {
  abstract readonly kind: string;
  abstract readonly inShape: Shape;
  abstract readonly outShape: Shape;
  readonly paramShapes = [];

  /** z = A a (overwrites z). */
  protected abstract apply(a: Arr, z: Arr, B: number): void;
  /** da = A^T dz (overwrites da). */
  protected abstract transpose(dz: Arr, da: Arr, B: number): void;

  bind(): void {}
  forward(a: Arr, z: Arr, B: number): void {
    this.apply(a, z, B);
  }
  backward(_a: Arr, _z: Arr, dz: Arr, da: Arr | null, B: number): void {
    if (da) this.transpose(dz, da, B);
  }
  tangentForward(_a: Arr, adot: Arr | null, _z: Arr, zdot: Arr, B: number): void {
    if (adot) this.apply(adot, zdot, B);
    else zdot.fill(0);
  }
  tangentBackward(
    _a: Arr, _ad: Arr | null, _z: Arr, _zd: Arr, _dz: Arr, dzdot: Arr, dadot: Arr | null, _w: boolean, B: number,
  ): void {
    if (dadot) this.transpose(dzdot, dadot, B);
  }
}
