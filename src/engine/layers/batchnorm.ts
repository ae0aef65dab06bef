// Batch normalisation (PyTorch BatchNorm1d on [C] / BatchNorm2d on [C,H,W]), per channel c over its
// N = B*M values x_i (M = H*W, or 1), with gamma = weight, beta = bias:
//   xhat_i = (x_i - mu) s,  s = 1/sqrt(var + eps),  y_i = gamma xhat_i + beta
// train: mu = mean(x), var = mean((x - mu)^2) (biased), both functions of the whole batch;
// eval:  mu, var = running_mean, running_var (buffers; constants). Running statistics are never updated.
// Below mean(.) is the per-channel mean in train mode and 0 in eval mode (frozen statistics).
//   backward         dbeta = sum dy,  dgamma = sum dy xhat,
//                    dx = gamma s (dy - mean(dy) - xhat mean(dy xhat))
//                       (= gamma/(N sigma) (N dy - sum dy - xhat sum(dy xhat)), sigma = 1/s)
//   tangent of xhat  xhat' = s (x' - mean(x') - xhat mean(xhat x'))
//                       (mu' = mean(x'), var' = 2 mean((x - mu) x'), s' = -s^3 var'/2 = -s r, r = s mean(xhat x'))
//   tangentForward   y' = gamma' xhat + gamma xhat' + beta'
//   tangentBackward  the derivative of backward along (x', gamma', beta', dy'):
//                    dx' = s (gamma' - gamma r) (dy - mean(dy) - xhat mean(dy xhat))
//                          + gamma s (dy' - mean(dy') - xhat' mean(dy xhat) - xhat mean(dy' xhat + dy xhat'))
//                    dgamma' = sum (dy' xhat + dy xhat'),  dbeta' = sum dy'
// With adot = null, x' = 0: xhat' = 0, r = 0. N = 1 in train mode gives xhat = 0 (PyTorch rejects it).
// Every pass recomputes mu and s from a (cheap, and no pass depends on another having run).
import type { Arr } from '../kernels.js';
import type { Layer, ParamSlot, Shape } from './layer.js';

export class BatchNorm implements Layer {
  readonly kind = 'batchnorm';
  readonly outShape: Shape;
  readonly paramShapes;
  readonly bufferShapes;
  private readonly C: number;
  private readonly M: number; // spatial positions per channel
  private readonly mu: Float64Array; // per channel: the mean used
  private readonly s: Float64Array; // per channel: 1/sqrt(var + eps)
  private gamma!: ParamSlot;
  private beta!: ParamSlot;
  private running: Float64Array[] = [];

  constructor(readonly inShape: Shape, readonly mode: 'train' | 'eval', readonly eps: number) {
    if (inShape.length !== 1 && inShape.length !== 3) throw new Error(`batchnorm: input must be [C] or [C,H,W], got [${inShape}]`);
    this.C = inShape[0];
    this.M = inShape.length === 3 ? inShape[1] * inShape[2] : 1;
    this.outShape = inShape;
    this.paramShapes = [{ suffix: 'weight', shape: [this.C] }, { suffix: 'bias', shape: [this.C] }];
    this.bufferShapes = [{ suffix: 'running_mean', shape: [this.C] }, { suffix: 'running_var', shape: [this.C] }];
    this.mu = new Float64Array(this.C);
    this.s = new Float64Array(this.C);
  }

  bind([gamma, beta]: ParamSlot[]): void {
    this.gamma = gamma;
    this.beta = beta;
  }

  bindBuffers([mean, variance]: Float64Array[]): void {
    this.running = [mean, variance];
  }

  forward(a: Arr, z: Arr, B: number): void {
    this.stats(a, B);
    for (let c = 0; c < this.C; c++) {
      const mu = this.mu[c], s = this.s[c], g = this.gamma.value[c], b = this.beta.value[c];
      this.each(c, B, (i) => {
        z[i] = g * (a[i] - mu) * s + b;
      });
    }
  }

  backward(a: Arr, _z: Arr, dz: Arr, da: Arr | null, B: number): void {
    this.stats(a, B);
    for (let c = 0; c < this.C; c++) {
      const mu = this.mu[c], s = this.s[c], g = this.gamma.value[c];
      const xh = (i: number) => (a[i] - mu) * s;
      this.beta.grad[c] = this.sum(c, B, (i) => dz[i]);
      this.gamma.grad[c] = this.sum(c, B, (i) => dz[i] * xh(i));
      if (!da) continue;
      const m1 = this.mean(c, B, (i) => dz[i]), m2 = this.mean(c, B, (i) => dz[i] * xh(i));
      this.each(c, B, (i) => {
        da[i] = g * s * (dz[i] - m1 - xh(i) * m2);
      });
    }
  }

  tangentForward(a: Arr, adot: Arr | null, _z: Arr, zdot: Arr, B: number): void {
    this.stats(a, B);
    for (let c = 0; c < this.C; c++) {
      const { xh, xhDot } = this.normalised(a, adot, c, B);
      const g = this.gamma.value[c], gd = this.gamma.dir[c], bd = this.beta.dir[c];
      this.each(c, B, (i) => {
        zdot[i] = gd * xh(i) + g * xhDot(i) + bd;
      });
    }
  }

  tangentBackward(
    a: Arr, adot: Arr | null, _z: Arr, _zdot: Arr, dz: Arr, dzdot: Arr,
    dadot: Arr | null, withParams: boolean, B: number,
  ): void {
    this.stats(a, B);
    for (let c = 0; c < this.C; c++) {
      const { xh, xhDot, r } = this.normalised(a, adot, c, B);
      const s = this.s[c], g = this.gamma.value[c], gd = this.gamma.dir[c];
      if (withParams) {
        this.gamma.hess[c] = this.sum(c, B, (i) => dzdot[i] * xh(i) + dz[i] * xhDot(i));
        this.beta.hess[c] = this.sum(c, B, (i) => dzdot[i]);
      }
      if (!dadot) continue;
      const m1 = this.mean(c, B, (i) => dz[i]), m2 = this.mean(c, B, (i) => dz[i] * xh(i));
      const n1 = this.mean(c, B, (i) => dzdot[i]), n2 = this.mean(c, B, (i) => dzdot[i] * xh(i) + dz[i] * xhDot(i));
      this.each(c, B, (i) => {
        dadot[i] = s * (gd - g * r) * (dz[i] - m1 - xh(i) * m2) + g * s * (dzdot[i] - n1 - xhDot(i) * m2 - xh(i) * n2);
      });
    }
  }

  /** mu, s per channel: of the batch (train, biased variance) or of the running statistics (eval). */
  private stats(a: Arr, B: number): void {
    for (let c = 0; c < this.C; c++) {
      if (this.mode === 'eval') {
        if (this.running.length !== 2) throw new Error('batchnorm: eval mode needs bindBuffers(running_mean, running_var)');
        this.mu[c] = this.running[0][c];
        this.s[c] = 1 / Math.sqrt(this.running[1][c] + this.eps);
        continue;
      }
      const N = B * this.M;
      const mu = this.sum(c, B, (i) => a[i]) / N;
      const variance = this.sum(c, B, (i) => (a[i] - mu) ** 2) / N;
      this.mu[c] = mu;
      this.s[c] = 1 / Math.sqrt(variance + this.eps);
    }
  }

  /** xhat, its tangent xhat' and r = s mean(xhat x') for channel c (see the header; x' = adot). */
  private normalised(a: Arr, adot: Arr | null, c: number, B: number) {
    const mu = this.mu[c], s = this.s[c];
    const xh = (i: number) => (a[i] - mu) * s;
    if (!adot) return { xh, xhDot: (_i: number) => 0, r: 0 };
    const t1 = this.mean(c, B, (i) => adot[i]), t2 = this.mean(c, B, (i) => xh(i) * adot[i]);
    return { xh, xhDot: (i: number) => s * (adot[i] - t1 - xh(i) * t2), r: s * t2 };
  }

  /** Per-channel mean of f over the batch in train mode; 0 in eval mode (the statistics are constants). */
  private mean(c: number, B: number, f: (i: number) => number): number {
    return this.mode === 'train' ? this.sum(c, B, f) / (B * this.M) : 0;
  }

  private sum(c: number, B: number, f: (i: number) => number): number {
    let t = 0;
    this.each(c, B, (i) => {
      t += f(i);
    });
    return t;
  }

  /** Visits the flat indices of channel c: (b*C + c)*M + m. */
  private each(c: number, B: number, f: (i: number) => void): void {
    const { C, M } = this;
    for (let b = 0; b < B; b++) {
      for (let i = (b * C + c) * M, end = i + M; i < end; i++) f(i);
    }
  }
}
