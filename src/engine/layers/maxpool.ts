// max-pool (PyTorch MaxPool2d, ceil_mode = false, dilation 1): z[c,oy,ox] = max of the in-image part of
// the k x k window at (oy*s - p, ox*s - p); padding counts as -Infinity, so it is never chosen.
// Selection, as PyTorch's CPU kernel: scan the window row-major from -Infinity and take a value if
// `v > best || isNaN(v)`. So ties go to the FIRST maximum, a NaN wins (the LAST NaN of the window, the
// output is NaN), and an all -Infinity window picks its first in-image element.
// Away from ties z is locally linear, z = a[argmax], so with the argmax m(o) fixed by forward:
//   backward        da[m(o)] += dz[o]   (da zeroed first; overlapping windows accumulate)
//   tangentForward  z'[o] = a'[m(o)]
//   tangentBackward da'[m(o)] += dz'[o] (the argmax does not move to first order)
import { convOutSize, type Arr } from '../kernels.js';
import { sizeOf, type Layer, type Shape } from './layer.js';

export class MaxPool implements Layer {
  readonly kind = 'maxpool';
  readonly outShape: Shape;
  readonly paramShapes = [];
  private readonly outSize: number;
  /** Flat index into a of the max of each output. The batch is unknown here: sized by the first forward. */
  private argmax = new Int32Array(0);

  constructor(readonly inShape: Shape, readonly kernel: number, readonly stride: number, readonly padding: number) {
    const [C, H, W] = inShape;
    if (padding > kernel / 2) throw new Error(`maxpool: padding ${padding} must be at most half the kernel ${kernel}`);
    this.outShape = [C, convOutSize(H, kernel, stride, padding), convOutSize(W, kernel, stride, padding)];
    this.outSize = sizeOf(this.outShape);
  }

  bind(): void {}

  forward(a: Arr, z: Arr, B: number): void {
    if (this.argmax.length < B * this.outSize) this.argmax = new Int32Array(B * this.outSize); // once per batch size
    const [C, H, W] = this.inShape;
    const [, Ho, Wo] = this.outShape;
    const { kernel: k, stride: s, padding: p, argmax } = this;
    for (let bc = 0; bc < B * C; bc++) {
      for (let oy = 0; oy < Ho; oy++) {
        const y0 = Math.max(oy * s - p, 0), y1 = Math.min(oy * s - p + k, H);
        for (let ox = 0; ox < Wo; ox++) {
          const x0 = Math.max(ox * s - p, 0), x1 = Math.min(ox * s - p + k, W);
          let best = -Infinity, at = (bc * H + y0) * W + x0;
          for (let y = y0; y < y1; y++) {
            for (let x = x0; x < x1; x++) {
              const i = (bc * H + y) * W + x, v = a[i];
              if (v > best || Number.isNaN(v)) {
                best = v;
                at = i;
              }
            }
          }
          const o = (bc * Ho + oy) * Wo + ox;
          z[o] = best;
          argmax[o] = at;
        }
      }
    }
  }

  backward(_a: Arr, _z: Arr, dz: Arr, da: Arr | null, B: number): void {
    if (da) this.route(dz, da, B);
  }

  tangentForward(_a: Arr, adot: Arr | null, _z: Arr, zdot: Arr, B: number): void {
    if (!adot) return void zdot.fill(0);
    for (let o = 0; o < B * this.outSize; o++) zdot[o] = adot[this.argmax[o]];
  }

  tangentBackward(
    _a: Arr, _ad: Arr | null, _z: Arr, _zd: Arr, _dz: Arr, dzdot: Arr, dadot: Arr | null, _w: boolean, B: number,
  ): void {
    if (dadot) this.route(dzdot, dadot, B);
  }

  /** The transpose of z = a[argmax]: g[argmax[o]] += dz[o], after zeroing g. */
  private route(dz: Arr, g: Arr, B: number): void {
    g.fill(0);
    for (let o = 0; o < B * this.outSize; o++) g[this.argmax[o]] += dz[o];
  }
}
