// avg-pool (PyTorch AvgPool2d, ceil_mode = false): z[c,oy,ox] = (1/n) * sum of the in-image part of
// the k x k window at (oy*s - p, ox*s - p); padding contributes zeros. n = k*k with
// countIncludePad, else the number of in-image elements of the window. It is linear and
// parameter-free, so the tangent passes apply the same map to the tangents.
import { convOutSize, type Arr } from '../kernels.js';
import type { Shape } from './layer.js';
import { LinearMap } from './linear-map.js';

export class AvgPool extends LinearMap {
  readonly kind = 'avgpool';
  readonly outShape: Shape;

  constructor(
    readonly inShape: Shape, readonly kernel: number, readonly stride: number,
    readonly padding = 0, readonly countIncludePad = true,
  ) {
    super();
    const [C, H, W] = inShape;
    if (padding > kernel / 2) throw new Error(`avgpool: padding ${padding} must be at most half the kernel ${kernel}`);
    this.outShape = [C, convOutSize(H, kernel, stride, padding), convOutSize(W, kernel, stride, padding)];
  }

  protected apply(a: Arr, z: Arr, B: number): void {
    this.visit(B, (ai, zi, scale) => {
      z[zi] += a[ai] * scale;
    }, z);
  }

  /** The transpose of pool: spread each output adjoint evenly over its window. */
  protected transpose(dz: Arr, da: Arr, B: number): void {
    this.visit(B, (ai, zi, scale) => {
      da[ai] += dz[zi] * scale;
    }, da);
  }

  /** Calls f for every (in-image input, output) pair of every window, with the window's 1/n. */
  private visit(B: number, f: (ai: number, zi: number, scale: number) => void, zeroed: Arr): void {
    zeroed.fill(0);
    const [C, H, W] = this.inShape;
    const [, Ho, Wo] = this.outShape;
    const { kernel: k, stride: s, padding: p } = this;
    for (let bc = 0; bc < B * C; bc++) {
      for (let oy = 0; oy < Ho; oy++) {
        const y0 = Math.max(oy * s - p, 0), y1 = Math.min(oy * s - p + k, H);
        for (let ox = 0; ox < Wo; ox++) {
          const x0 = Math.max(ox * s - p, 0), x1 = Math.min(ox * s - p + k, W);
          const zi = (bc * Ho + oy) * Wo + ox;
          const scale = 1 / (this.countIncludePad ? k * k : (y1 - y0) * (x1 - x0));
          for (let y = y0; y < y1; y++) {
            for (let x = x0; x < x1; x++) f((bc * H + y) * W + x, zi, scale);
          }
        }
      }
    }
  }
}
