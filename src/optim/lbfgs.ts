// L-BFGS with the semantics of torch.optim.LBFGS (PyTorch 1.13) without line search, so that
// "300 steps, lr 1" means what it means in the DLG/iDLG papers. One step() runs up to max_iter
// inner iterations and max_eval closure evaluations; the first inner iteration of the very first
// step uses t = min(1, 1/|g|_1) * lr, later ones t = lr. History pairs (s, y) are kept when
// y.s > 1e-10, H0 = y.s / y.y (Nocedal & Wright, Alg. 7.4 two-loop recursion).
// Everything is preallocated: the history is a ring of reused vectors, allocated from a float64
// `Kernels` whose dot/axpy run the two-loop recursion (WebAssembly SIMD or plain TS).
import type { Closure, Optimizer } from './optimizer.js';
import { strongWolfe } from './strong-wolfe.js';
import { ReferenceKernels, type Kernels } from '../engine/kernels.js';

/** L-BFGS line searches: none (torch's default, the DLG papers' setting) or strong Wolfe (torch's line_search_fn). */
export const LINE_SEARCHES = ['none', 'strong-wolfe'] as const;
export type LineSearch = (typeof LINE_SEARCHES)[number];

export interface LbfgsOptions {
  lr: number;
  maxIter: number;
  maxEval: number;
  toleranceGrad: number;
  toleranceChange: number;
  historySize: number;
  /** 'none' (torch's default, the DLG papers' setting) or 'strong-wolfe' (line_search_fn='strong_wolfe'). */
  lineSearch: LineSearch;
}

export const TORCH_LBFGS_DEFAULTS: LbfgsOptions = {
  lr: 1, maxIter: 20, maxEval: 25, toleranceGrad: 1e-7, toleranceChange: 1e-9, historySize: 100, lineSearch: 'none',
};

export class Lbfgs implements Optimizer {
  readonly opts: LbfgsOptions;
  evaluations = 0;
  private iterations = 0; // state['n_iter'] in torch: inner iterations over all steps
  private readonly grad: Float64Array;
  private readonly prevGrad: Float64Array;
  private readonly d: Float64Array;
  private readonly q: Float64Array;
  private readonly xInit: Float64Array;
  private t = 0;
  private readonly ys: Float64Array[]; // y_i = g_{k+1} - g_k (torch: old_dirs)
  private readonly ss: Float64Array[]; // s_i = t d (torch: old_stps)
  private yNew: Float64Array;
  private sNew: Float64Array;
  private readonly ro: Float64Array;
  private readonly al: Float64Array;
  private head = 0; // ring position of the oldest pair
  private count = 0;
  private hDiag = 1;
  private loss = NaN;

  /** float64 elements the optimiser allocates from its kernels for n variables. */
  static elementsNeeded(n: number, historySize = TORCH_LBFGS_DEFAULTS.historySize): number {
    return (2 * historySize + 7) * (n + 8);
  }

  constructor(readonly x: Float64Array, options: Partial<LbfgsOptions> = {}, private readonly vec: Kernels = new ReferenceKernels('float64')) {
    if (vec.dtype !== 'float64') throw new Error('L-BFGS needs float64 vector kernels');
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.opts = { ...TORCH_LBFGS_DEFAULTS, ...given };
    // torch: max_eval defaults to max_iter * 5 // 4
    if (given.maxIter !== undefined && given.maxEval === undefined) this.opts.maxEval = Math.floor((this.opts.maxIter * 5) / 4);
    const n = x.length, h = this.opts.historySize;
    const alloc = () => vec.alloc(n) as Float64Array;
    this.grad = alloc();
    this.prevGrad = alloc();
    this.d = alloc();
    this.q = alloc();
    this.xInit = alloc();
    this.ys = Array.from({ length: h }, alloc);
    this.ss = Array.from({ length: h }, alloc);
    this.yNew = alloc();
    this.sNew = alloc();
    this.ro = new Float64Array(h);
    this.al = new Float64Array(h);
  }

  step(closure: Closure): number {
    const { x, grad, prevGrad, d, opts } = this;
    const origLoss = closure(x, grad);
    this.loss = origLoss;
    this.evaluations++;
    let currentEvals = 1;
    if (maxAbs(grad) <= opts.toleranceGrad) return origLoss;
    let nIter = 0;
    while (nIter < opts.maxIter) {
      nIter++;
      this.iterations++;
      if (this.iterations === 1) {
        for (let i = 0; i < d.length; i++) d[i] = -grad[i];
        this.count = 0;
        this.head = 0;
        this.hDiag = 1;
      } else {
        this.updateHistory();
        this.twoLoop();
      }
      prevGrad.set(grad);
      const prevLoss = this.loss;
      this.t = this.iterations === 1 ? Math.min(1, 1 / sumAbs(grad)) * opts.lr : opts.lr;
      const gtd = this.vec.dot(grad, d);
      if (gtd > -opts.toleranceChange) break; // not a descent direction
      let optCond = false;
      if (opts.lineSearch === 'strong-wolfe') {
        this.xInit.set(x);
        const atStep = (t: number, g: Float64Array): number => {
          for (let i = 0; i < x.length; i++) x[i] = this.xInit[i] + t * d[i];
          const f = closure(x, g);
          x.set(this.xInit);
          return f;
        };
        const ls = strongWolfe(atStep, d, this.t, this.loss, grad, gtd, grad, 1e-4, 0.9, opts.toleranceChange);
        this.t = ls.t;
        this.loss = ls.f;
        for (let i = 0; i < x.length; i++) x[i] += this.t * d[i];
        this.evaluations += ls.evaluations;
        currentEvals += ls.evaluations;
        optCond = maxAbs(grad) <= opts.toleranceGrad;
      } else {
        for (let i = 0; i < x.length; i++) x[i] += this.t * d[i];
      }
      if (opts.lineSearch === 'none' && nIter !== opts.maxIter) {
        this.loss = closure(x, grad);
        this.evaluations++;
        currentEvals++;
        optCond = maxAbs(grad) <= opts.toleranceGrad;
      }
      if (nIter === opts.maxIter || currentEvals >= opts.maxEval || optCond) break;
      if (this.t * maxAbs(d) <= opts.toleranceChange) break;
      if (Math.abs(this.loss - prevLoss) < opts.toleranceChange) break;
      if (!Number.isFinite(this.loss)) break;
    }
    return origLoss;
  }

  /** Adds (s, y) = (t d, g - g_prev) to the history if the curvature condition y.s > 1e-10 holds. */
  private updateHistory(): void {
    const { grad, prevGrad, d, t, opts } = this;
    const y = this.yNew, s = this.sNew;
    for (let i = 0; i < y.length; i++) {
      y[i] = grad[i] - prevGrad[i];
      s[i] = d[i] * t;
    }
    const ys = this.vec.dot(y, s), yy = this.vec.dot(y, y);
    if (!(ys > 1e-10)) return;
    if (this.count === opts.historySize) {
      this.head = (this.head + 1) % opts.historySize; // drop the oldest pair
      this.count--;
    }
    const slot = (this.head + this.count) % opts.historySize;
    // swap buffers instead of copying: the slot's old arrays become the next scratch pair
    [this.ys[slot], this.yNew] = [y, this.ys[slot]];
    [this.ss[slot], this.sNew] = [s, this.ss[slot]];
    this.ro[slot] = 1 / ys;
    this.hDiag = ys / yy;
    this.count++;
  }

  /** d = -H g by the two-loop recursion over the history, oldest pair first in the second loop. */
  private twoLoop(): void {
    const { grad, q, d, al, ro, ys, ss, count, vec } = this;
    const h = this.opts.historySize;
    for (let i = 0; i < q.length; i++) q[i] = -grad[i];
    for (let j = count - 1; j >= 0; j--) {
      const k = (this.head + j) % h;
      al[k] = vec.dot(ss[k], q) * ro[k];
      vec.axpy(-al[k], ys[k], q);
    }
    for (let i = 0; i < q.length; i++) d[i] = q[i] * this.hDiag;
    for (let j = 0; j < count; j++) {
      const k = (this.head + j) % h;
      const be = vec.dot(ys[k], d) * ro[k];
      vec.axpy(al[k] - be, ss[k], d);
    }
  }
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
function sumAbs(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
}
