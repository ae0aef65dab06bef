// A sequential network with cross-entropy loss and its two primitives (DESIGN 3):
//   evaluate(x, label): L, dL/dW (and dL/dx, dL/dy)                          reverse mode
//   hvp(v):             H_WW v, H_xW v, H_yW v at the last evaluate() point   forward-over-reverse
// All parameters live in one flat vector (layer order, weight then bias), so a gradient or a
// direction in weight space is one array. Buffers are allocated once, from the kernels' memory.
import type { Arr, Kernels } from './kernels.js';
import type { Layer, ParamSlot } from './layers/layer.js';
import { sizeOf } from './layers/layer.js';
import { CrossEntropy, type LabelInput } from './loss.js';
import { buildLayers, type ModelSpec } from '../models/spec.js';

export interface HvpRequest {
  /** H_WW v into `hess` (needed to differentiate unrolled local steps). */
  params?: boolean;
  /** H_xW v into `hvpInput`. */
  input?: boolean;
  /** H_yW v into `hvpLabel` (soft labels only). */
  label?: boolean;
}

export class Network {
  readonly layers: Layer[];
  readonly params: ParamSlot[];
  readonly paramCount: number;
  readonly inputSize: number; // B*C*H*W
  readonly numClasses: number;
  /** W, dL/dW, the direction v, and H_WW v: flat, in parameter order. */
  readonly theta: Arr;
  readonly grad: Arr;
  readonly dir: Arr;
  readonly hess: Arr;
  /** dL/dy and H_yW v for soft labels, [B, K]. */
  readonly gradLabel: Float64Array;
  readonly hvpLabel: Float64Array;
  private readonly acts: Arr[]; // acts[i] = input of layer i; acts[L] = logits
  private readonly tacts: Arr[]; // tangents of acts
  private readonly adj: Arr[]; // dL/dacts
  private readonly tadj: Arr[]; // tangents of adj
  private readonly loss: CrossEntropy;
  private evaluated = false;

  constructor(readonly spec: ModelSpec, readonly kernels: Kernels, readonly batch: number) {
    const built = buildLayers(spec, kernels, batch);
    this.layers = built.map((b) => b.layer);
    this.numClasses = spec.num_classes;
    this.paramCount = 0;
    for (const { layer } of built) for (const p of layer.paramShapes) this.paramCount += sizeOf(p.shape);
    this.theta = kernels.alloc(this.paramCount);
    this.grad = kernels.alloc(this.paramCount);
    this.dir = kernels.alloc(this.paramCount);
    this.hess = kernels.alloc(this.paramCount);
    this.params = [];
    let offset = 0;
    for (const { layer, paramNames } of built) {
      const slots = layer.paramShapes.map((p, i): ParamSlot => {
        const size = sizeOf(p.shape);
        const view = (a: Arr) => a.subarray(offset, offset + size);
        const slot = {
          name: paramNames[i], shape: p.shape, size, offset,
          value: view(this.theta), grad: view(this.grad), dir: view(this.dir), hess: view(this.hess),
        };
        offset += size;
        return slot;
      });
      layer.bind(slots);
      this.params.push(...slots);
    }
    const sizes = [sizeOf(spec.in_shape), ...this.layers.map((l) => sizeOf(l.outShape))].map((n) => n * batch);
    this.inputSize = sizes[0];
    const allocAll = () => sizes.map((n) => kernels.alloc(n));
    this.acts = allocAll();
    this.tacts = allocAll();
    this.adj = allocAll();
    this.tadj = allocAll();
    this.loss = new CrossEntropy(batch, this.numClasses);
    this.gradLabel = new Float64Array(batch * this.numClasses);
    this.hvpLabel = new Float64Array(batch * this.numClasses);
  }

  setParams(values: ArrayLike<number>): void {
    if (values.length !== this.paramCount) throw new Error(`expected ${this.paramCount} parameters, got ${values.length}`);
    this.theta.set(values);
  }

  /** Logits [B, K] of the last evaluate(). */
  get logits(): Arr {
    return this.acts[this.layers.length];
  }
  /** dL/dx [B, C, H, W] of the last evaluate(input: true). */
  get gradInput(): Arr {
    return this.adj[0];
  }
  /** H_xW v of the last hvp(v, {input: true}). */
  get hvpInput(): Arr {
    return this.tadj[0];
  }
  /** The label target used by the loss (softmax of the label logits, or one-hot). */
  get target(): Float64Array {
    return this.loss.target;
  }

  /** Forward pass only: the logits [B, K] (a view, valid until the next call). */
  predict(x: ArrayLike<number>): Arr {
    if (x.length !== this.inputSize) throw new Error(`input: expected ${this.inputSize} values, got ${x.length}`);
    const { layers, acts, batch: B } = this;
    acts[0].set(x);
    for (let i = 0; i < layers.length; i++) layers[i].forward(acts[i], acts[i + 1], B);
    this.evaluated = false; // the cached backward state no longer matches
    return acts[layers.length];
  }

  /** Forward and backward pass: returns L and fills `grad` (and `gradInput`, `gradLabel`). */
  evaluate(x: ArrayLike<number>, label: LabelInput, wantInput = false): number {
    const { layers, acts, adj, batch: B } = this;
    const L = layers.length;
    this.loss.setLabel(label);
    const value = this.loss.forward(this.predict(x));
    this.loss.backward(adj[L], this.gradLabel);
    for (let i = L - 1; i >= 0; i--) {
      const da = i > 0 || wantInput ? adj[i] : null;
      layers[i].backward(acts[i], acts[i + 1], adj[i + 1], da, B);
    }
    this.evaluated = true;
    return value;
  }

  /** Exact Hessian-vector products along the weight direction v at the last evaluate() point. */
  hvp(v: ArrayLike<number>, want: HvpRequest): void {
    if (!this.evaluated) throw new Error('hvp() needs a preceding evaluate()');
    const { layers, acts, tacts, adj, tadj, batch: B } = this;
    const L = layers.length;
    this.dir.set(v);
    // tangent forward: the input does not depend on W (a'_0 = 0)
    for (let i = 0; i < L; i++) layers[i].tangentForward(acts[i], i > 0 ? tacts[i] : null, acts[i + 1], tacts[i + 1], B);
    this.loss.tangent(tacts[L], tadj[L], want.label ? this.hvpLabel : null);
    for (let i = L - 1; i >= 0; i--) {
      const dadot = i > 0 || want.input ? tadj[i] : null;
      layers[i].tangentBackward(
        acts[i], i > 0 ? tacts[i] : null, acts[i + 1], tacts[i + 1], adj[i + 1], tadj[i + 1],
        dadot, want.params ?? false, B,
      );
    }
  }
}
