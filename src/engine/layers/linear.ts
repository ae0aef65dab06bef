// linear: z[B,out] = a[B,in] W[out,in]^T + b  (bias = false: no b, paramShapes holds the weight only).
// On a [..., in] input (a sequence [T, in]) it maps the last dimension, as PyTorch's nn.Linear: every
// leading index is one more row of a, so B below counts B * T rows.
// inOut = true keeps the weight as W[in,out] (z = a W + b; ONNX MatMul(x, W) as Keras / tf2onnx store it):
// the same products with the transposes swapped, so its gradients have the file's layout.
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
    lead: readonly number[] = [], readonly inOut = false,
  ) {
    this.inShape = [...lead, inFeatures];
    this.outShape = [...lead, outFeatures];
    this.rows = sizeOf(lead);
    this.paramShapes = [{ suffix: 'weight', shape: inOut ? [inFeatures, outFeatures] : [outFeatures, inFeatures] }];
    if (bias) this.paramShapes.push({ suffix: 'bias', shape: [outFeatures] });
  }

  bind([w, b]: ParamSlot[]): void {
    this.w = w;
    this.b = this.bias ? b : null;
  }

  forward(a: Arr, z: Arr, samples: number): void {
    const B = samples * this.rows;
    this.aW(B, a, this.w.value, z, false);
    if (this.b) addBias(z, this.b.value, B, this.outFeatures, 1);
  }

  backward(a: Arr, _z: Arr, dz: Arr, da: Arr | null, samples: number): void {
    const B = samples * this.rows, O = this.outFeatures;
    this.dzA(B, dz, a, this.w.grad, false); // dW = dz^T a
    if (this.b) sumBias(dz, this.b.grad, B, O, 1);
    if (da) this.dzW(B, dz, this.w.value, da, false); // da = dz W
  }

  tangentForward(a: Arr, adot: Arr | null, _z: Arr, zdot: Arr, samples: number): void {
    const B = samples * this.rows, O = this.outFeatures;
    this.aW(B, a, this.w.dir, zdot, false); // z' = a W'^T + a' W^T + b'
    if (adot) this.aW(B, adot, this.w.value, zdot, true);
    if (this.b) addBias(zdot, this.b.dir, B, O, 1);
  }

  tangentBackward(
    a: Arr, adot: Arr | null, _z: Arr, _zdot: Arr, dz: Arr, dzdot: Arr,
    dadot: Arr | null, withParams: boolean, samples: number,
  ): void {
    const B = samples * this.rows, O = this.outFeatures;
    if (dadot) {
      this.dzW(B, dz, this.w.dir, dadot, false); // da' = dz W' + dz' W
      this.dzW(B, dzdot, this.w.value, dadot, true);
    }
    if (withParams) {
      this.dzA(B, dzdot, a, this.w.hess, false); // dW' = dz'^T a + dz^T a'
      if (adot) this.dzA(B, dz, adot, this.w.hess, true);
      if (this.b) sumBias(dzdot, this.b.hess, B, O, 1);
    }
  }

  /** z[B,O] (+)= a W^T (W[O,I]) or a W (W[I,O]). */
  private aW(B: number, a: Arr, w: Arr, z: Arr, acc: boolean): void {
    const { k, inFeatures: I, outFeatures: O } = this;
    if (this.inOut) k.gemmNN(B, O, I, a, w, z, acc);
    else k.gemmNT(B, O, I, a, w, z, acc);
  }
  /** da[B,I] (+)= dz W (W[O,I]) or dz W^T (W[I,O]). */
  private dzW(B: number, dz: Arr, w: Arr, da: Arr, acc: boolean): void {
    const { k, inFeatures: I, outFeatures: O } = this;
    if (this.inOut) k.gemmNT(B, I, O, dz, w, da, acc);
    else k.gemmNN(B, I, O, dz, w, da, acc);
  }
  /** dW (+)= dz^T a ([O,I]) or a^T dz ([I,O]). */
  private dzA(B: number, dz: Arr, a: Arr, dw: Arr, acc: boolean): void {
    const { k, inFeatures: I, outFeatures: O } = this;
    if (this.inOut) k.gemmTN(I, O, B, a, dz, dw, acc);
    else k.gemmTN(O, I, B, dz, a, dw, acc);
  }
}
