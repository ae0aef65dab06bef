// linear: z[B,out] = a[B,in] W[out,in]^T + b  (bias = false: no b, paramShapes holds the weight only).
// On a [..., in] input (a sequence [T, in]) it maps the last dimension, as PyTorch's nn.Linear: every
// leading index is one more row of a, so B below counts B * T rows.
import type { Arr, Kernels } from '../kernels.js';
import { sizeOf, type Layer, type ParamSlot, type Shape } from './layer.js';
import { addBias, sumBias } from './bias.js';

export class Linear implements Layer {
  readonly kind = 'linear';
  readonly inShape: Shape;
  readonly outShape: Shape;
  readonly paramShapes;
  private w!: ParamSlot;
  private b: ParamSlot | null = null;
  private readonly rows: number; // per sample

  /** `lead`: the input's leading dimensions ([] for a flat input, [T] for a sequence). */
  constructor(
    private readonly k: Kernels, readonly inFeatures: number, readonly outFeatures: number, readonly bias = true,
    lead: readonly number[] = [],
  ) {
    this.inShape = [...lead, inFeatures];
    this.outShape = [...lead, outFeatures];
    this.rows = sizeOf(lead);
    this.paramShapes = [{ suffix: 'weight', shape: [outFeatures, inFeatures] }];
    if (bias) this.paramShapes.push({ suffix: 'bias', shape: [outFeatures] });
  }

  bind([w, b]: ParamSlot[]): void {
    this.w = w;
    this.b = this.bias ? b : null;
  }

  forward(a: Arr, z: Arr, samples: number): void {
    const B = samples * this.rows;
    this.k.gemmNT(B, this.outFeatures, this.inFeatures, a, this.w.value, z, false);
    if (this.b) addBias(z, this.b.value, B, this.outFeatures, 1);
  }

  backward(a: Arr, _z: Arr, dz: Arr, da: Arr | null, samples: number): void {
    const B = samples * this.rows;
    const { k, inFeatures: I, outFeatures: O } = this;
    k.gemmTN(O, I, B, dz, a, this.w.grad, false); // dW = dz^T a
    if (this.b) sumBias(dz, this.b.grad, B, O, 1);
    if (da) k.gemmNN(B, I, O, dz, this.w.value, da, false); // da = dz W
  }

  tangentForward(a: Arr, adot: Arr | null, _z: Arr, zdot: Arr, samples: number): void {
    const B = samples * this.rows;
    const { k, inFeatures: I, outFeatures: O } = this;
    k.gemmNT(B, O, I, a, this.w.dir, zdot, false); // z' = a W'^T + a' W^T + b'
    if (adot) k.gemmNT(B, O, I, adot, this.w.value, zdot, true);
    if (this.b) addBias(zdot, this.b.dir, B, O, 1);
  }

  tangentBackward(
    a: Arr, adot: Arr | null, _z: Arr, _zdot: Arr, dz: Arr, dzdot: Arr,
    dadot: Arr | null, withParams: boolean, samples: number,
  ): void {
    const B = samples * this.rows;
    const { k, inFeatures: I, outFeatures: O } = this;
    if (dadot) {
      k.gemmNN(B, I, O, dz, this.w.dir, dadot, false); // da' = dz W' + dz' W
      k.gemmNN(B, I, O, dzdot, this.w.value, dadot, true);
    }
    if (withParams) {
      k.gemmTN(O, I, B, dzdot, a, this.w.hess, false); // dW' = dz'^T a + dz^T a'
      if (adot) k.gemmTN(O, I, B, dz, adot, this.w.hess, true);
      if (this.b) sumBias(dzdot, this.b.hess, B, O, 1);
    }
  }
}
