// identity / reshape: z = a (row-major data is unchanged by a reshape), so every pass is a copy.
import type { Arr } from '../kernels.js';
import { sizeOf, type Shape } from './layer.js';
import { LinearMap } from './linear-map.js';

export class Identity extends LinearMap {
  readonly kind: string;

  constructor(readonly inShape: Shape, readonly outShape: Shape = inShape) {
    super();
    if (sizeOf(inShape) !== sizeOf(outShape)) throw new Error(`reshape: [${inShape}] and [${outShape}] differ in size`);
    this.kind = inShape.length === outShape.length && inShape.every((d, i) => d === outShape[i]) ? 'identity' : 'reshape';
  }

  protected apply(a: Arr, z: Arr): void {
    z.set(a);
  }
  protected transpose(dz: Arr, da: Arr): void {
    da.set(dz);
  }
}
