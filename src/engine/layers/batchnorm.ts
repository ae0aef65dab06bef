// Batch normalisation (PyTorch BatchNorm1d on [C] / BatchNorm2d on [C,H,W]), per channel c over its
// N = B*M values x_i (M = H*W, or 1), with gamma = weight, beta = bias:
//   xhat_i = (x_i - mu) s,  s = 1/sqrt(var + eps),  y_i = gamma xhat_i + beta
// train: mu = mean(x), var = mean((x - mu)^2) (biased), both functions of the whole batch;
// eval:  mu, var = running_mean, running_var (buffers; constants).
// Running statistics move only while a client trains (track(momentum), PyTorch's update at every train-mode forward:
// running_mean = (1 - m) running_mean + m mu, running_var = (1 - m) running_var + m var N/(N - 1)); never in an attack.
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
// Every pass recomputes mu and s from a (two reads of a: cheap, and no pass depends on another having run);
// the loops are written out per channel, without closures, because BatchNorm is in every ResNet block.
import type { Arr } from '../kernels.js';
import type { Layer, ParamSlot, Shape } from './layer.js';

/** PyTorch's BatchNorm momentum (the weight of the new batch in the running statistics). */
export const BN_MOMENTUM = 0.1;

export class BatchNorm implements Layer {
  readonly kind = 'batchnorm';
  readonly outShape: Shape;
  readonly paramShapes;
  readonly bufferShapes;
  /** Channels C. */
  readonly C: number;
  /** Spatial positions per channel M (H*W, or 1 for BatchNorm1d). */
  readonly M: number;
  private readonly mu: Float64Array; // per channel: the mean used
  private readonly s: Float64Array; // per channel: 1/sqrt(var + eps)
  private readonly variance: Float64Array; // per channel: the batch variance (train mode)
  /** The momentum of the running statistics' update at each forward pass, or null: frozen. */
  private momentum: number | null = null;
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
    this.variance = new Float64Array(this.C);
  }

  /** Update the running statistics at every train-mode forward pass with this momentum (null: stop). */
  track(momentum: number | null): void {
    this.momentum = momentum;
  }

  /** The momentum its running statistics move with at each forward pass (null: frozen). */
  get tracking(): number | null {
    return this.momentum;
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
    const { C, M } = this;
    if (this.momentum !== null && this.mode === 'train') this.updateRunning(B);
    for (let c = 0; c < C; c++) {
      const mu = this.mu[c], gs = this.gamma.value[c] * this.s[c], b = this.beta.value[c];
      for (let n = 0; n < B; n++) for (let i = (n * C + c) * M, end = i + M; i < end; i++) z[i] = gs * (a[i] - mu) + b;
    }
  }

  backward(a: Arr, _z: Arr, dz: Arr, da: Arr | null, B: number): void {
    this.stats(a, B);
    const { C, M } = this, w = this.weightOfMean(B);
    for (let c = 0; c < C; c++) {
      const mu = this.mu[c], s = this.s[c], gs = this.gamma.value[c] * s;
      let sdz = 0, sdzx = 0; // sum dy, sum dy xhat
      for (let n = 0; n < B; n++) {
        for (let i = (n * C + c) * M, end = i + M; i < end; i++) {
          sdz += dz[i];
          sdzx += dz[i] * (a[i] - mu) * s;
        }
      }
      this.beta.grad[c] = sdz;
      this.gamma.grad[c] = sdzx;
      if (!da) continue;
      const m1 = w * sdz, m2 = w * sdzx;
      for (let n = 0; n < B; n++) {
        for (let i = (n * C + c) * M, end = i + M; i < end; i++) da[i] = gs * (dz[i] - m1 - (a[i] - mu) * s * m2);
      }
    }
  }

  tangentForward(a: Arr, adot: Arr | null, _z: Arr, zdot: Arr, B: number): void {
    this.stats(a, B);
    const { C, M } = this;
    for (let c = 0; c < C; c++) {
      const [t1, t2] = this.tangentMeans(a, adot, c, B);
      const mu = this.mu[c], s = this.s[c], g = this.gamma.value[c], gd = this.gamma.dir[c], bd = this.beta.dir[c];
      for (let n = 0; n < B; n++) {
        for (let i = (n * C + c) * M, end = i + M; i < end; i++) {
          const xh = (a[i] - mu) * s, xhDot = adot ? s * (adot[i] - t1 - xh * t2) : 0;
          zdot[i] = gd * xh + g * xhDot + bd;
        }
      }
    }
  }

  tangentBackward(
    a: Arr, adot: Arr | null, _z: Arr, _zdot: Arr, dz: Arr, dzdot: Arr,
    dadot: Arr | null, withParams: boolean, B: number,
  ): void {
    this.stats(a, B);
    const { C, M } = this, w = this.weightOfMean(B);
    for (let c = 0; c < C; c++) {
      const [t1, t2] = this.tangentMeans(a, adot, c, B);
      const mu = this.mu[c], s = this.s[c], g = this.gamma.value[c], gd = this.gamma.dir[c], r = s * t2;
      let sdz = 0, sdzx = 0, sdzd = 0, sdzdx = 0; // sums of dy, dy xhat, dy', dy' xhat + dy xhat'
      for (let n = 0; n < B; n++) {
        for (let i = (n * C + c) * M, end = i + M; i < end; i++) {
          const xh = (a[i] - mu) * s, xhDot = adot ? s * (adot[i] - t1 - xh * t2) : 0;
          sdz += dz[i];
          sdzx += dz[i] * xh;
          sdzd += dzdot[i];
          sdzdx += dzdot[i] * xh + dz[i] * xhDot;
        }
      }
      if (withParams) {
        this.gamma.hess[c] = sdzdx;
        this.beta.hess[c] = sdzd;
      }
      if (!dadot) continue;
      const m1 = w * sdz, m2 = w * sdzx, n1 = w * sdzd, n2 = w * sdzdx;
      const k1 = s * (gd - g * r), k2 = g * s;
      for (let n = 0; n < B; n++) {
        for (let i = (n * C + c) * M, end = i + M; i < end; i++) {
          const xh = (a[i] - mu) * s, xhDot = adot ? s * (adot[i] - t1 - xh * t2) : 0;
          dadot[i] = k1 * (dz[i] - m1 - xh * m2) + k2 * (dzdot[i] - n1 - xhDot * m2 - xh * n2);
        }
      }
    }
  }

  /** mu, s per channel: of the batch (train, biased variance) or of the running statistics (eval). */
  private stats(a: Arr, B: number): void {
    const { C, M } = this;
    if (this.mode === 'train') {
      channelMoments(a, B, C, M, this.mu, this.variance);
      for (let c = 0; c < C; c++) this.s[c] = 1 / Math.sqrt(this.variance[c] + this.eps);
      return;
    }
    if (this.running.length !== 2) throw new Error('batchnorm: eval mode needs bindBuffers(running_mean, running_var)');
    for (let c = 0; c < C; c++) {
      this.mu[c] = this.running[0][c];
      this.s[c] = 1 / Math.sqrt(this.running[1][c] + this.eps);
    }
  }

  /** PyTorch's running-statistics update from the batch statistics of the last stats() (unbiased variance). */
  private updateRunning(B: number): void {
    const [mean, variance] = this.running, m = this.momentum!, N = B * this.M;
    if (!mean) throw new Error('batchnorm: tracking running statistics needs bindBuffers(running_mean, running_var)');
    for (let c = 0; c < this.C; c++) {
      mean[c] = (1 - m) * mean[c] + m * this.mu[c];
      variance[c] = (1 - m) * variance[c] + m * (N > 1 ? (this.variance[c] * N) / (N - 1) : this.variance[c]);
    }
  }

  /** [mean(x'), mean(xhat x')] of channel c, for xhat' and r = s mean(xhat x') (see the header); zeros when x' = 0 or in eval mode. */
  private tangentMeans(a: Arr, adot: Arr | null, c: number, B: number): [number, number] {
    if (!adot || this.mode === 'eval') return [0, 0];
    const { C, M } = this, mu = this.mu[c], s = this.s[c];
    let t1 = 0, t2 = 0;
    for (let n = 0; n < B; n++) {
      for (let i = (n * C + c) * M, end = i + M; i < end; i++) {
        t1 += adot[i];
        t2 += (a[i] - mu) * s * adot[i];
      }
    }
    return [t1 / (B * M), t2 / (B * M)];
  }

  /** The weight of a per-channel sum in mean(.): 1/N in train mode, 0 in eval mode (frozen statistics). */
  private weightOfMean(B: number): number {
    return this.mode === 'train' ? 1 / (B * this.M) : 0;
  }
}

/** Per-channel mean and biased variance of a [B, C, M] array (two passes: stable). */
export function channelMoments(a: Arr, B: number, C: number, M: number, mean: Float64Array, variance: Float64Array): void {
  const N = B * M;
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let n = 0; n < B; n++) for (let i = (n * C + c) * M, end = i + M; i < end; i++) sum += a[i];
    const mu = sum / N;
    let sq = 0;
    for (let n = 0; n < B; n++) for (let i = (n * C + c) * M, end = i + M; i < end; i++) sq += (a[i] - mu) * (a[i] - mu);
    mean[c] = mu;
    variance[c] = sq / N;
  }
}
