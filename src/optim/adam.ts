// Adam (Kingma & Ba 2015) with bias correction; one step() = one evaluation. `signed`: on the sign of the
// gradient instead of the gradient (Inverting Gradients, Geiping et al., NeurIPS 2020).
import type { Closure, Optimizer } from './optimizer.js';
import { powInt } from '../util/portable-math.js';

export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  signed?: boolean;
}

export class Adam implements Optimizer {
  readonly opts: AdamOptions; // lr may be changed between steps (learning-rate decay)
  evaluations = 0;
  private readonly grad: Float64Array;
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;

  constructor(readonly x: Float64Array, options: Partial<AdamOptions> = {}) {
    this.opts = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, ...options };
    this.grad = new Float64Array(x.length);
    this.m = new Float64Array(x.length);
    this.v = new Float64Array(x.length);
  }

  step(closure: Closure): number {
    const { x, grad, m, v } = this;
    const { lr, beta1, beta2, eps } = this.opts;
    grad.fill(0);
    const loss = closure(x, grad);
    if (this.opts.signed) for (let i = 0; i < grad.length; i++) grad[i] = Math.sign(grad[i]);
    this.evaluations++;
    this.t++;
    const c1 = 1 - powInt(beta1, this.t), c2 = 1 - powInt(beta2, this.t);
    for (let i = 0; i < x.length; i++) {
      m[i] = beta1 * m[i] + (1 - beta1) * grad[i];
      v[i] = beta2 * v[i] + (1 - beta2) * grad[i] * grad[i];
      x[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
    }
    return loss;
  }
}
