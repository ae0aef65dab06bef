// avg-pool (no padding): z[c,oy,ox] = mean of the k x k window at (oy*s, ox*s). It is linear
// and parameter-free, so the tangent passes apply the same map to the tangents.
import { convOutSize, type Arr } from '../kernels.js';
import type { Layer, Shape } from './layer.js';

export class AvgPool implements Layer {
  readonly kind = 'avgpool';
  readonly outShape: Shape;
  readonly paramShapes = [];

  constructor(readonly inShape: Shape, readonly kernel: number, readonly stride: number) {
    const [C, H, W] = inShape;
    this.outShape = [C, convOutSize(H, kernel, stride, 0), convOutSize(W, kernel, stride, 0)];
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
    this.visit(B, (ai, zi, scale) => {
      z[zi] += a[ai] * scale;
    }, z);
  }

  /** The transpose of pool: spread each output adjoint evenly over its window. */
  private unpool(dz: Arr, da: Arr, B: number): void {
    this.visit(B, (ai, zi, scale) => {
      da[ai] += dz[zi] * scale;
    }, da);
  }

  private visit(B: number, f: (ai: number, zi: number, scale: number) => void, zeroed: Arr): void {
    zeroed.fill(0);
    const [C, H, W] = this.inShape;
    const [, Ho, Wo] = this.outShape;
    const k = this.kernel, scale = 1 / (k * k);
    for (let bc = 0; bc < B * C; bc++) {
      for (let oy = 0; oy < Ho; oy++) {
        for (let ox = 0; ox < Wo; ox++) {
          const zi = (bc * Ho + oy) * Wo + ox;
          for (let i = 0; i < k; i++) {
            for (let j = 0; j < k; j++) f((bc * H + oy * this.stride + i) * W + ox * this.stride + j, zi, scale);
          }
        }
      }
    }
  }
}
