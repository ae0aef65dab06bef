// global average pool: [C,H,W] -> [C,1,1], z[c] = (1/HW) sum_p a[c,p]. Linear and parameter-free:
// backward spreads dz[c]/HW over the channel, the tangent passes apply the same maps to the tangents.
import type { Arr } from '../kernels.js';
import type { Shape } from './layer.js';
import { LinearMap } from './linear-map.js';

export class GlobalAvgPool extends LinearMap {
  readonly kind = 'global_avgpool';
  readonly outShape: Shape;
  private readonly P: number; // H*W

  constructor(readonly inShape: Shape) {
    super();
    const [C, H, W] = inShape;
    this.outShape = [C, 1, 1];
    this.P = H * W;
  }

  protected apply(a: Arr, z: Arr, B: number): void {
    const P = this.P;
    for (let bc = 0; bc < B * this.inShape[0]; bc++) {
      let s = 0;
      for (let p = bc * P; p < (bc + 1) * P; p++) s += a[p];
      z[bc] = s / P;
    }
  }

  /** The transpose of pool: da[c,p] = dz[c] / HW. */
  protected transpose(dz: Arr, da: Arr, B: number): void {
    const P = this.P;
    for (let bc = 0; bc < B * this.inShape[0]; bc++) da.fill(dz[bc] / P, bc * P, (bc + 1) * P);
  }
}
