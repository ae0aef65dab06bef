// identity / reshape: z = a (row-major data is unchanged by a reshape), so every pass is a copy.
import type { Arr } from '../kernels.js';
import { sizeOf, type Layer, type Shape } from './layer.js';

export class Identity implements Layer {
  readonly kind: 'identity' | 'reshape';
  readonly paramShapes = [];

  constructor(readonly inShape: Shape, readonly outShape: Shape = inShape) {
    if (sizeOf(inShape) !== sizeOf(outShape)) throw new Error(`reshape: [${inShape}] and [${outShape}] differ in size`);
    this.kind = inShape.length === outShape.length && inShape.every((d, i) => d === outShape[i]) ? 'identity' : 'reshape';
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
