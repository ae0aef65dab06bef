// flatten: [B,C,H,W] -> [B,C*H*W]; the data is already row-major, so every pass is a copy.
import type { Arr } from '../kernels.js';
import { sizeOf, type Layer, type Shape } from './layer.js';

export class Flatten implements Layer {
  readonly kind = 'flatten';
  readonly outShape: Shape;
  readonly paramShapes = [];

  constructor(readonly inShape: Shape) {
    this.outShape = [sizeOf(inShape)];
  }

  bind(): void {}
  forward(a: Arr, z: Arr): void {
    z.set(a);
  }
  backward(_a: Arr, _z: Arr, dz: Arr, da: Arr | null): void {
    if (da) da.set(dz);
  }
  tangentForward(_a: Arr, adot: Arr | null, _z: Arr, zdot: Arr): void {
    if (adot) zdot.set(adot);
    else zdot.fill(0);
  }
  tangentBackward(_a: Arr, _ad: Arr | null, _z: Arr, _zd: Arr, _dz: Arr, dzdot: Arr, dadot: Arr | null): void {
    if (dadot) dadot.set(dzdot);
  }
}
