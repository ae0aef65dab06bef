// Layer normalisation over the last dimension (PyTorch nn.LayerNorm(d), weight gamma and bias beta of [d]):
// per row of d values x_i (every other index is a row: [T, d] has T rows per sample),
//   xhat_i = (x_i - mu) s,  mu = mean(x),  s = 1/sqrt(var + eps),  var = mean((x - mu)^2) (biased),
//   y_i = gamma_i xhat_i + beta_i                                    (affine = false: gamma = 1, beta = 0)
// Below mean(.) is over the d values of one row and sum(.) over all rows of the batch.
//   backward         u = gamma dy,  dx = s (u - mean(u) - xhat mean(u xhat)),
//                    dgamma = sum dy xhat,  dbeta = sum dy
//   tangent of xhat  xhat' = s (x' - mean(x') - xhat mean(xhat x')),  s' = -s r,  r = s mean(xhat x')
//   tangentForward   y' = gamma' xhat + gamma xhat' + beta'
//   tangentBackward  u' = gamma' dy + gamma dy',  w = u - mean(u) - xhat mean(u xhat),
//                    dx' = s (-r w + u' - mean(u') - xhat' mean(u xhat) - xhat mean(u' xhat + u xhat')),
//                    dgamma' = sum (dy' xhat + dy xhat'),  dbeta' = sum dy'
// BatchNorm (batchnorm.ts) is the same normalisation over the other axis; there gamma is constant on the
// normalised values, here it varies along them, so u replaces gamma dy. Each pass recomputes a row's
// mu and s (two reads of d values; no pass depends on another having run).
import type { Arr } from '../kernels.js';
import { sizeOf, type Layer, type ParamSlot, type Shape } from './layer.js';

export class LayerNorm implements Layer {
  readonly kind = 'layernorm';
  readonly outShape: Shape;
  readonly paramShapes: { suffix: string; shape: number[] }[];
  private readonly d: number;
  private readonly rows: number; // per sample
  private gamma: ParamSlot | null = null;
  private beta: ParamSlot | null = null;
  // the statistics of the row last passed to moments() and tangentMeans()
  private mu = 0;
  private s = 0;
  private t1 = 0; // mean(x')
  private t2 = 0; // mean(xhat x')

  constructor(readonly inShape: Shape, readonly eps: number, readonly affine = true) {
    this.d = inShape[inShape.length - 1];
    this.rows = sizeOf(inShape) / this.d;
    this.outShape = inShape;
    this.paramShapes = affine ? [{ suffix: 'weight', shape: [this.d] }, { suffix: 'bias', shape: [this.d] }] : [];
  }

  bind([gamma, beta]: ParamSlot[]): void {
    this.gamma = this.affine ? gamma : null;
    this.beta = this.affine ? beta : null;
  }

  forward(a: Arr, z: Arr, B: number): void {
    const { d, gamma, beta } = this;
    for (let o = 0, end = B * this.rows * d; o < end; o += d) {
      this.moments(a, o);
      const { mu, s } = this;
      for (let i = 0; i < d; i++) z[o + i] = (gamma ? gamma.value[i] : 1) * (a[o + i] - mu) * s + (beta ? beta.value[i] : 0);
    }
  }

  backward(a: Arr, _z: Arr, dz: Arr, da: Arr | null, B: number): void {
    const { d, gamma, beta } = this;
    gamma?.grad.fill(0);
    beta?.grad.fill(0);
    for (let o = 0, end = B * this.rows * d; o < end; o += d) {
      this.moments(a, o);
      const { mu, s } = this;
      let su = 0, sux = 0; // sum u, sum u xhat
      for (let i = 0; i < d; i++) {
        const xh = (a[o + i] - mu) * s, u = (gamma ? gamma.value[i] : 1) * dz[o + i];
        su += u;
        sux += u * xh;
        if (gamma) gamma.grad[i] += dz[o + i] * xh;
        if (beta) beta.grad[i] += dz[o + i];
      }
      if (!da) continue;
      const mu1 = su / d, mu2 = sux / d;
      for (let i = 0; i < d; i++) da[o + i] = s * ((gamma ? gamma.value[i] : 1) * dz[o + i] - mu1 - (a[o + i] - mu) * s * mu2);
    }
  }

  tangentForward(a: Arr, adot: Arr | null, _z: Arr, zdot: Arr, B: number): void {
    const { d, gamma, beta } = this;
    for (let o = 0, end = B * this.rows * d; o < end; o += d) {
      this.moments(a, o);
      const { mu, s } = this;
      this.tangentMeans(a, adot, o);
      const { t1, t2 } = this;
      for (let i = 0; i < d; i++) {
        const xh = (a[o + i] - mu) * s, xhDot = adot ? s * (adot[o + i] - t1 - xh * t2) : 0;
        zdot[o + i] = gamma ? gamma.dir[i] * xh + gamma.value[i] * xhDot + beta!.dir[i] : xhDot;
      }
    }
  }

  tangentBackward(
    a: Arr, adot: Arr | null, _z: Arr, _zdot: Arr, dz: Arr, dzdot: Arr,
    dadot: Arr | null, withParams: boolean, B: number,
  ): void {
    const { d, gamma, beta } = this;
    const params = withParams && gamma !== null;
    if (params) {
      gamma.hess.fill(0);
      beta!.hess.fill(0);
    }
    for (let o = 0, end = B * this.rows * d; o < end; o += d) {
      this.moments(a, o);
      const { mu, s } = this;
      this.tangentMeans(a, adot, o);
      const { t1, t2 } = this;
      const r = s * t2;
      let su = 0, sux = 0, sud = 0, sudx = 0; // sums of u, u xhat, u', u' xhat + u xhat'
      for (let i = 0; i < d; i++) {
        const xh = (a[o + i] - mu) * s, xhDot = adot ? s * (adot[o + i] - t1 - xh * t2) : 0;
        const g = gamma ? gamma.value[i] : 1, u = g * dz[o + i], ud = (gamma ? gamma.dir[i] * dz[o + i] : 0) + g * dzdot[o + i];
        su += u;
        sux += u * xh;
        sud += ud;
        sudx += ud * xh + u * xhDot;
        if (params) {
          gamma.hess[i] += dzdot[o + i] * xh + dz[o + i] * xhDot;
          beta!.hess[i] += dzdot[o + i];
        }
      }
      if (!dadot) continue;
      const m1 = su / d, m2 = sux / d, n1 = sud / d, n2 = sudx / d;
      for (let i = 0; i < d; i++) {
        const xh = (a[o + i] - mu) * s, xhDot = adot ? s * (adot[o + i] - t1 - xh * t2) : 0;
        const g = gamma ? gamma.value[i] : 1, u = g * dz[o + i], ud = (gamma ? gamma.dir[i] * dz[o + i] : 0) + g * dzdot[o + i];
        dadot[o + i] = s * (-r * (u - m1 - xh * m2) + ud - n1 - xhDot * m2 - xh * n2);
      }
    }
  }

  /** mu and s of the row a[o .. o+d) (two passes: stable). */
  private moments(a: Arr, o: number): void {
    const d = this.d;
    let sum = 0;
    for (let i = o; i < o + d; i++) sum += a[i];
    const mu = sum / d;
    let sq = 0;
    for (let i = o; i < o + d; i++) sq += (a[i] - mu) * (a[i] - mu);
    this.mu = mu;
    this.s = 1 / Math.sqrt(sq / d + this.eps);
  }

  /** t1 = mean(x'), t2 = mean(xhat x') of the row at o, after moments(a, o); zeros when x' = 0. */
  private tangentMeans(a: Arr, adot: Arr | null, o: number): void {
    const { d, mu, s } = this;
    let t1 = 0, t2 = 0;
    if (adot) {
      for (let i = o; i < o + d; i++) {
        t1 += adot[i];
        t2 += (a[i] - mu) * s * adot[i];
      }
    }
    this.t1 = t1 / d;
    this.t2 = t2 / d;
  }
}
