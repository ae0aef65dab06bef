// global average pool: [C,H,W] -> [C,1,1], z[c] = (1/HW) sum_p a[c,p]. Linear and parameter-free:
// backward spreads dz[c]/HW over the channel, the tangent passes apply the same maps to the tangents.
import type { Arr } from '../kernels.js';
import type { Layer, Shape } from './layer.js';

export class GlobalAvgPool implements Layer {
  readonly kind = 'global_avgpool';
  readonly outShape: Shape;
  readonly paramShapes = [];
  private readonly P: number; // H*W

  constructor(readonly inShape: Shape) {
    const [C, H, W] = inShape;
    this.outShape = [C, 1, 1];
    this.P = H * W;
  }

  bind(): void {}

  forward(a: Arr, z: Arr, B: number): void {
    this.pool(a, z, B);
  }
  backward(_a: Arr, _z: Arr, dz: Arr, da: Arr | null, B: number): void {
    if (da) this.unpool(dz, da, B);
  }
  tangentForward(_a: Arr, adot: Arr | null, _z: Arr, zdot: Arr, B: number): void {
    if (adot) this.pool(adot, zdot, B);
    else zdot.fill(0);
  }
  tangentBackward(
    _a: Arr, _ad: Arr | null, _z: Arr, _zd: Arr, _dz: Arr, dzdot: Arr, dadot: Arr | null, _w: boolean, B: number,
  ): void {
    if (dadot) this.unpool(dzdot, dadot, B);
  }

  private pool(a: Arr, z: Arr, B: number): void {
    const P = this.P;
    for (let bc = 0; bc < B * this.inShape[0]; bc++) {
      let s = 0;
      for (let p = bc * P; p < (bc + 1) * P; p++) s += a[p];
      z[bc] = s / P;
    }
  }

  /** The transpose of pool: da[c,p] = dz[c] / HW. */
  private unpool(dz: Arr, da: Arr, B: number): void {
    const P = this.P;
    for (let bc = 0; bc < B * this.inShape[0]; bc++) da.fill(dz[bc] / P, bc * P, (bc + 1) * P);
  }
}
