// conv2d (PyTorch semantics: cross-correlation, zero padding, square kernel), as im2col + GEMM
// per sample: z_b[O,P] = W[O,R] col(a_b)[R,P] + b, with R = C*k*k, P = Ho*Wo.
// With bias = false there is no b: paramShapes holds the weight only and every pass skips b.
import { convOutSize, type Arr, type ConvGeometry, type Kernels } from '../kernels.js';
import type { Layer, ParamSlot, Shape } from './layer.js';
import { addBias, sumBias } from './bias.js';

export class Conv2d implements Layer {
  readonly kind = 'conv2d';
  readonly inShape: Shape;
  readonly outShape: Shape;
  readonly paramShapes;
  private readonly geo: ConvGeometry;
  private readonly R: number;
  private readonly P: number;
  private readonly colA: Arr; // im2col of the input, per sample [B][R*P], reused by backward
  private readonly colAdot: Arr; // im2col of the input tangent
  private readonly gcol: Arr; // scratch [R*P]
  private w!: ParamSlot;
  private b: ParamSlot | null = null;

  constructor(
    private readonly k: Kernels,
    inShape: Shape,
    readonly outChannels: number,
    kernel: number,
    stride: number,
    padding: number,
    batch: number,
    readonly bias = true,
  ) {
    const [C, H, W] = inShape;
    const Ho = convOutSize(H, kernel, stride, padding);
    const Wo = convOutSize(W, kernel, stride, padding);
    this.geo = { channels: C, height: H, width: W, kernel, stride, padding, outHeight: Ho, outWidth: Wo };
    this.inShape = inShape;
    this.outShape = [outChannels, Ho, Wo];
    this.R = C * kernel * kernel;
    this.P = Ho * Wo;
    this.paramShapes = [{ suffix: 'weight', shape: [outChannels, C, kernel, kernel] }];
    if (bias) this.paramShapes.push({ suffix: 'bias', shape: [outChannels] });
    this.colA = k.alloc(batch * this.R * this.P);
    this.colAdot = k.alloc(batch * this.R * this.P);
    this.gcol = k.alloc(this.R * this.P);
  }

  bind([w, b]: ParamSlot[]): void {
    this.w = w;
    this.b = this.bias ? b : null;
  }

  private col(buf: Arr, s: number): Arr {
    const n = this.R * this.P;
    return buf.subarray(s * n, (s + 1) * n);
  }

  private sample(buf: Arr, s: number, perSample: number): Arr {
    return buf.subarray(s * perSample, (s + 1) * perSample);
  }

  forward(a: Arr, z: Arr, B: number): void {
    const { k, R, P } = this, O = this.outChannels, inSize = this.inSize();
    for (let s = 0; s < B; s++) {
      const col = this.col(this.colA, s);
      k.im2col(this.sample(a, s, inSize), this.geo, col);
      k.gemmNN(O, P, R, this.w.value, col, this.sample(z, s, O * P), false);
    }
    if (this.b) addBias(z, this.b.value, B, O, P);
  }

  backward(_a: Arr, _z: Arr, dz: Arr, da: Arr | null, B: number): void {
    const { k, R, P } = this, O = this.outChannels;
    for (let s = 0; s < B; s++) {
      const dzs = this.sample(dz, s, O * P);
      // dW = sum_b dz_b col_b^T
      k.gemmNT(O, R, P, dzs, this.col(this.colA, s), this.w.grad, s > 0);
      if (da) this.inputAdjoint(this.w.value, dzs, null, null, this.sample(da, s, this.inSize()));
    }
    if (this.b) sumBias(dz, this.b.grad, B, O, P);
  }

  tangentForward(_a: Arr, adot: Arr | null, _z: Arr, zdot: Arr, B: number): void {
    const { k, R, P } = this, O = this.outChannels;
    for (let s = 0; s < B; s++) {
      const zs = this.sample(zdot, s, O * P);
      // z' = W' col(a) + W col(a') + b'
      k.gemmNN(O, P, R, this.w.dir, this.col(this.colA, s), zs, false);
      if (adot) {
        const col = this.col(this.colAdot, s);
        k.im2col(this.sample(adot, s, this.inSize()), this.geo, col);
        k.gemmNN(O, P, R, this.w.value, col, zs, true);
      }
    }
    if (this.b) addBias(zdot, this.b.dir, B, O, P);
  }

  tangentBackward(
    _a: Arr, adot: Arr | null, _z: Arr, _zdot: Arr, dz: Arr, dzdot: Arr,
    dadot: Arr | null, withParams: boolean, B: number,
  ): void {
    const { k, R, P } = this, O = this.outChannels;
    for (let s = 0; s < B; s++) {
      const dzs = this.sample(dz, s, O * P);
      const dzdots = this.sample(dzdot, s, O * P);
      // da' = W'^T dz + W^T dz'  (then col2im)
      if (dadot) this.inputAdjoint(this.w.dir, dzs, this.w.value, dzdots, this.sample(dadot, s, this.inSize()));
      if (withParams) {
        // dW' = dz' col(a)^T + dz col(a')^T
        k.gemmNT(O, R, P, dzdots, this.col(this.colA, s), this.w.hess, s > 0);
        if (adot) k.gemmNT(O, R, P, dzs, this.col(this.colAdot, s), this.w.hess, true);
      }
    }
    if (withParams && this.b) sumBias(dzdot, this.b.hess, B, O, P);
  }

  /** out = col2im(W1^T g1 [+ W2^T g2]) for one sample. */
  private inputAdjoint(W1: Arr, g1: Arr, W2: Arr | null, g2: Arr | null, out: Arr): void {
    const { k, R, P } = this, O = this.outChannels;
    k.gemmTN(R, P, O, W1, g1, this.gcol, false);
    if (W2 && g2) k.gemmTN(R, P, O, W2, g2, this.gcol, true);
    out.fill(0);
    k.col2imAdd(this.gcol, this.geo, out);
  }

  private inSize(): number {
    return this.geo.channels * this.geo.height * this.geo.width;
  }
}
