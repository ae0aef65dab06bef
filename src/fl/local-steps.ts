// A client update of E local steps, as a differentiable function of the client's data (docs/design.md, section 3, 5).
//
//   w_0 = theta,   w_{t+1} = w_t - lr * ( g(w_t; x, y) + alpha + rho (w_t - theta) ),   g = dL/dW
//
// FedAvg (McMahan et al., AISTATS 2017): rho = 0, alpha = 0, message U = w_0 - w_E.
// FedADMM (Gong, Li, Freris, ICDE 2022): dual alpha_i, penalty rho; then alpha_new = alpha + rho (w_E - theta)
// and the message is the increment Delta = (w_E + alpha_new/rho) - (theta + alpha/rho), computed
// literally in this order (algebraically 2 (w_E - theta)).
//
// vjp() differentiates the message through all E steps by the adjoint recurrence, one exact
// Hessian-vector product per step:  with lambda_E = dD/dw_E,
//   dD/dx += -lr H_xW(w_t) lambda_{t+1},   dD/dy += -lr H_yW(w_t) lambda_{t+1},
//   lambda_t = (1 - lr rho) lambda_{t+1} - lr H_WW(w_t) lambda_{t+1}.
// With mini-batches (`localBatch` b < N images), step t takes mini-batch j = t mod (N/b), images j*b .. j*b+b-1:
// the client walks its images in one fixed order every epoch (which order does not matter to the attacker, whose
// dummies are interchangeable), g(w_t) is the mean loss gradient of that mini-batch (train-mode BatchNorm uses its
// statistics), and only that mini-batch's slice of dD/dx (dD/dy) receives step t's term. A client tracking its running
// statistics (Network.trackRunningStatistics) moves them at every step's forward pass, mini-batches included.
import type { LabelInput } from '../engine/loss.js';
import type { AnyNetwork } from '../engine/network.js';
import { networkLike } from '../engine/backend.js';
import type { MessageFunction } from './message.js';

export interface LocalStepsParams {
  steps: number; // E
  lr: number; // eta
  rho: number; // 0 for FedAvg
  /** The client's dual (FedADMM), null for zero. */
  alpha: Float64Array | null;
  output: 'update' | 'admm-increment';
  /** Mini-batch size b of each local step (absent: all N images at every step). */
  localBatch?: number;
}

export class LocalStepsMessage implements MessageFunction {
  readonly size: number;
  private readonly iterates: Float64Array[]; // w_0 .. w_{E-1}
  private readonly w: Float64Array;
  private readonly out: Float64Array;
  private readonly lambda: Float64Array;
  private readonly lastX: Float64Array; // the x of the last message(), copied once per call
  private lastLabel: LabelInput | null = null;
  /** The network of one local step: `net` itself, or one of the same model with batch b. */
  private readonly stepNet: AnyNetwork;
  private readonly groups: number; // mini-batches per epoch, N/b

  constructor(readonly net: AnyNetwork, readonly theta: Float64Array, readonly p: LocalStepsParams) {
    this.size = net.paramCount;
    if (theta.length !== this.size) throw new Error(`theta has ${theta.length} values, the model ${this.size}`);
    if (p.alpha && p.alpha.length !== this.size) throw new Error(`alpha has ${p.alpha.length} values, the model ${this.size}`);
    if (p.output === 'admm-increment' && !(p.rho > 0)) throw new Error('the ADMM increment needs rho > 0');
    const b = p.localBatch ?? net.batch;
    if (!(Number.isInteger(b) && b >= 1 && net.batch % b === 0)) throw new Error(`local batch ${b} must divide the client's ${net.batch} images`);
    this.groups = net.batch / b;
    this.stepNet = b === net.batch ? net : networkLike(net, b);
    this.lastX = new Float64Array(net.inputSize);
    this.iterates = Array.from({ length: p.steps }, () => new Float64Array(this.size));
    this.w = new Float64Array(this.size);
    this.out = new Float64Array(this.size);
    this.lambda = new Float64Array(this.size);
  }

  /** Runs the E local steps from theta; leaves w_E in `finalWeights`. */
  message(x: ArrayLike<number>, label: LabelInput): Float64Array {
    const { stepNet: net, theta, w, p } = this;
    const alpha = p.alpha;
    this.lastX.set(x);
    this.lastLabel = label;
    w.set(theta);
    const own = net !== this.net;
    if (own) this.enterStepNet();
    for (let t = 0; t < p.steps; t++) {
      this.iterates[t].set(w);
      net.setParams(w);
      this.evaluateStep(t);
      const g = net.grad;
      for (let i = 0; i < w.length; i++) w[i] -= p.lr * (g[i] + (alpha ? alpha[i] : 0) + p.rho * (w[i] - theta[i]));
    }
    // a training client's running statistics moved in the mini-batch network: they are the client's
    if (own && this.net.runningMomentum !== null) this.net.bufferValues.set(net.bufferValues);
    const out = this.out;
    if (p.output === 'update') {
      for (let i = 0; i < out.length; i++) out[i] = theta[i] - w[i];
    } else {
      for (let i = 0; i < out.length; i++) {
        const a = alpha ? alpha[i] : 0;
        const alphaNew = a + p.rho * (w[i] - theta[i]);
        out[i] = w[i] + alphaNew / p.rho - (theta[i] + a / p.rho);
      }
    }
    return out;
  }

  /** The mini-batch network starts from the client network's running statistics, tracking them as it does. */
  private enterStepNet(): void {
    this.stepNet.bufferValues.set(this.net.bufferValues);
    this.stepNet.trackRunningStatistics(this.net.runningMomentum);
  }

  /** Forward and backward of local step t on its mini-batch (all images without mini-batches). */
  private evaluateStep(t: number): void {
    const net = this.stepNet, j = t % this.groups, x = this.lastX, label = this.lastLabel!;
    if (this.groups === 1) {
      net.evaluate(x, label); // every step sees all the images
      return;
    }
    // a sample has one label per output position (a sequence model's T, else 1)
    const n = x.length / this.net.batch, b = net.batch, P = net.positions, K = net.numClasses;
    const xs = x.subarray(j * b * n, (j + 1) * b * n);
    const part: LabelInput = label.kind === 'hard'
      ? { kind: 'hard', classes: Array.prototype.slice.call(label.classes, j * b * P, (j + 1) * b * P) as number[] }
      : { kind: 'soft', logits: Array.prototype.slice.call(label.logits, j * b * P * K, (j + 1) * b * P * K) as number[] };
    net.evaluate(xs, part);
  }

  /** w_E of the last message() call. */
  get finalWeights(): Float64Array {
    return this.w;
  }

  vjp(dm: Float64Array, dx: Float64Array, dy: Float64Array | null): void {
    const { stepNet: net, p, lambda } = this;
    if (!this.lastLabel) throw new Error('vjp() needs a preceding message()');
    // lambda_E = dD/dw_E: U = theta - w_E gives -dm; Delta = 2 w_E + const gives 2 dm
    const scale = p.output === 'update' ? -1 : 2;
    for (let i = 0; i < lambda.length; i++) lambda[i] = scale * dm[i];
    dx.fill(0);
    dy?.fill(0);
    for (let t = p.steps - 1; t >= 0; t--) {
      if (t < p.steps - 1) {
        // the network still holds the primal state of w_{E-1} from message(); earlier steps are recomputed
        net.setParams(this.iterates[t]);
        this.evaluateStep(t);
      }
      net.hvp(lambda, { params: t > 0, input: true, label: dy !== null });
      const j = t % this.groups, hx = net.hvpInput, hy = net.hvpLabel;
      for (let i = 0, o = j * hx.length; i < hx.length; i++) dx[o + i] -= p.lr * hx[i];
      if (dy) for (let i = 0, o = j * hy.length; i < hy.length; i++) dy[o + i] -= p.lr * hy[i];
      if (t > 0) {
        const h = net.hess;
        for (let i = 0; i < lambda.length; i++) lambda[i] = (1 - p.lr * p.rho) * lambda[i] - p.lr * h[i];
      }
    }
  }
}
