// A network (a DAG of nodes in topological order) with cross-entropy loss and its two primitives (docs/design.md, 3 and 11):
//   evaluate(x, label): L, dL/dW (and dL/dx, dL/dy)                          reverse mode
//   hvp(v):             H_WW v, H_xW v, H_yW v at the last evaluate() point   forward-over-reverse
// All parameters live in one flat vector (node order, weight then bias), so a gradient or a
// direction in weight space is one array. Every tensor (the input and each node's output) owns its
// value, tangent, adjoint and tangent-adjoint buffers, allocated once from the kernels' memory.
// Backward walks the nodes in reverse; a tensor read by several nodes (a residual branch) gets the
// adjoint of its last reader written in place and the others' added through one scratch buffer.
// A tied parameter (one name in several nodes) works the same way: its last user writes dL/dW and
// (H v)_W in place, earlier users into scratch views that are added after their pass.
// A sequence model's [T,K] output is T rows of logits per sample: the loss is over B*T rows (section 12).
import type { Arr, Kernels } from './kernels.js';
import { isMultiInput, sizeOf, type Layer, type MultiInputLayer, type ParamSlot } from './layers/layer.js';
import { CrossEntropy, type LabelInput } from './loss.js';
import { batchNormLayerObjects, batchNormViews, type BatchNormView } from './batchnorm-view.js';
import type { BatchNorm } from './layers/batchnorm.js';
import { buildGraph, outputPositions, type BuiltNode, type ImageShape, type ModelSpec } from './graph.js';

export interface HvpRequest {
  /** H_WW v into `hess` (needed to differentiate unrolled local steps). */
  params?: boolean;
  /** H_xW v into `hvpInput`. */
  input?: boolean;
  /** H_yW v into `hvpLabel` (soft labels only). */
  label?: boolean;
}

/** A non-trainable tensor of a node (BatchNorm running statistics): a view of `Network.bufferValues`. */
export interface BufferSlot {
  name: string;
  shape: number[];
  size: number;
  offset: number;
  value: Float64Array;
}

interface Wiring {
  x: Arr[];
  xdot: (Arr | null)[];
  dx: (Arr | null)[];
  dxWithInput: (Arr | null)[];
  dxdot: (Arr | null)[];
  dxdotWithInput: (Arr | null)[];
}

/** How one input edge of a node receives its adjoint: in place, or into scratch and then added. */
type EdgeAdjoint = 'direct' | 'scratch';

/** A tied parameter's gradient and (H v) written by a node into scratch, added to the parameter's own. */
interface TiedSums {
  grad: [from: Arr, to: Arr];
  hess: [from: Arr, to: Arr];
}

/**
 * The flat parameter vectors of a graph and each node's slots in them, in node order (weight, then bias).
 * A tied parameter (one name, several nodes) has one place; its last user gets the in-place slot, the
 * earlier users views of scratch for dL/dW and (H v)_W, listed in `tied` to be added after their passes.
 */
function layoutParams(nodes: readonly BuiltNode[], kernels: Kernels) {
  const lastUser = new Map<string, number>(), size = new Map<string, number>();
  let scratchSize = 0;
  nodes.forEach(({ layer, paramNames }, i) => paramNames.forEach((name, j) => {
    size.set(name, sizeOf(layer.paramShapes[j].shape));
    lastUser.set(name, i);
  }));
  nodes.forEach(({ paramNames }, i) => paramNames.forEach((name) => (scratchSize += lastUser.get(name) === i ? 0 : size.get(name)!)));
  const count = [...size.values()].reduce((a, b) => a + b, 0);
  const [theta, grad, dir, hess] = [0, 1, 2, 3].map(() => kernels.alloc(count));
  // (no allocation without ties: an untied network's memory layout stays as it was)
  const [tiedGrad, tiedHess] = scratchSize > 0 ? [kernels.alloc(scratchSize), kernels.alloc(scratchSize)] : [theta, theta];
  const params: ParamSlot[] = [], tied: TiedSums[][] = nodes.map(() => []), offsets = new Map<string, number>();
  let offset = 0, scratch = 0;
  const slots = nodes.map(({ layer, paramNames }, i) => layer.paramShapes.map((p, j): ParamSlot => {
    const name = paramNames[j], n = sizeOf(p.shape), first = !offsets.has(name);
    if (first) offsets.set(name, (offset += n) - n);
    const at = offsets.get(name)!, view = (a: Arr, o = at) => a.subarray(o, o + n);
    const slot = { name, shape: p.shape, size: n, offset: at, layerKind: layer.kind, role: p.suffix, value: view(theta), grad: view(grad), dir: view(dir), hess: view(hess) };
    if (first) params.push(slot);
    if (lastUser.get(name) === i) return slot;
    const own = { ...slot, grad: view(tiedGrad, scratch), hess: view(tiedHess, scratch) };
    scratch += n;
    tied[i].push({ grad: [own.grad, slot.grad], hess: [own.hess, slot.hess] });
    return own;
  }));
  return { theta, grad, dir, hess, params, slots, tied };
}

/** A network of any input shape (images or sequences), for code that does not look at the input's layout. */
export type AnyNetwork = Network<readonly number[]>;

export class Network<In extends readonly number[] = ImageShape> {
  readonly nodes: readonly BuiltNode[];
  readonly layers: (Layer | MultiInputLayer)[];
  readonly params: ParamSlot[];
  readonly paramCount: number;
  readonly buffers: BufferSlot[];
  readonly bufferValues: Float64Array;
  readonly inputSize: number; // B * the size of in_shape
  readonly numClasses: number;
  /** Rows of logits per sample: T for a sequence model's [T,K] output, else 1. Labels come per row. */
  readonly positions: number;
  /** W, dL/dW, the direction v, and H_WW v: flat, in parameter order. */
  readonly theta: Arr;
  readonly grad: Arr;
  readonly dir: Arr;
  readonly hess: Arr;
  /** dL/dy and H_yW v for soft labels, [B, K] ([B, T, K] for a sequence model). */
  readonly gradLabel: Float64Array;
  readonly hvpLabel: Float64Array;
  private readonly acts: Arr[]; // acts[0] = input, acts[i + 1] = output of node i
  private readonly tacts: Arr[]; // tangents of acts
  private readonly adj: Arr[]; // dL/dacts
  private readonly tadj: Arr[]; // tangents of adj
  private readonly scratch: (Arr | null)[]; // per tensor with several readers
  /** plan[i][j]: where node i writes the adjoint of its input j (tensor 0's only when dL/dx is wanted). */
  private readonly plan: EdgeAdjoint[][];
  /** Per node: its input values and tangents, and where its input adjoints go (without and with dL/dx). */
  private readonly wired: Wiring[];
  /** Per node: the tied parameters it writes into scratch. */
  private readonly tied: TiedSums[][];
  private readonly loss: CrossEntropy;
  private readonly bnLayers: BatchNorm[];
  private readonly bnViews: BatchNormView[];
  private evaluated = false;

  constructor(readonly spec: ModelSpec<In>, readonly kernels: Kernels, readonly batch: number) {
    this.nodes = buildGraph(spec, kernels, batch);
    this.layers = this.nodes.map((n) => n.layer);
    this.numClasses = spec.num_classes;
    this.positions = outputPositions(this.nodes);
    let bufferCount = 0;
    for (const { layer } of this.nodes) for (const p of (layer as Layer).bufferShapes ?? []) bufferCount += sizeOf(p.shape);
    const laid = layoutParams(this.nodes, kernels);
    ({ params: this.params, tied: this.tied } = laid);
    this.paramCount = laid.theta.length;
    [this.theta, this.grad, this.dir, this.hess] = [laid.theta, laid.grad, laid.dir, laid.hess];
    this.bufferValues = new Float64Array(bufferCount);
    this.buffers = [];
    let bufferOffset = 0;
    const firstBuffer: number[] = [];
    this.nodes.forEach(({ layer, bufferNames }, i) => {
      firstBuffer[i] = bufferOffset;
      layer.bind(laid.slots[i]);
      const shapes = (layer as Layer).bufferShapes ?? [];
      const buffers = shapes.map((p, j): BufferSlot => {
        const size = sizeOf(p.shape);
        const value = this.bufferValues.subarray(bufferOffset, bufferOffset + size);
        const slot = { name: bufferNames[j], shape: p.shape, size, offset: bufferOffset, value };
        bufferOffset += size;
        return slot;
      });
      if (buffers.length > 0) (layer as Layer).bindBuffers!(buffers.map((b) => b.value));
      this.buffers.push(...buffers);
    });
    this.bnLayers = batchNormLayerObjects(this.nodes);
    this.bnViews = batchNormViews(this.nodes, this.bufferValues, (i) => firstBuffer[i]);
    this.resetBuffers();
    const sizes = [sizeOf(spec.in_shape), ...this.layers.map((l) => sizeOf(l.outShape))].map((n) => n * batch);
    this.inputSize = sizes[0];
    const allocAll = () => sizes.map((n) => kernels.alloc(n));
    this.acts = allocAll();
    this.tacts = allocAll();
    this.adj = allocAll();
    this.tadj = allocAll();
    // the last reader of a tensor (first in reverse order) writes its adjoint in place, the others into scratch
    const seen = sizes.map(() => false);
    this.plan = this.nodes.map(() => []);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      this.plan[i] = this.nodes[i].inputs.map((t) => (seen[t] ? 'scratch' : ((seen[t] = true), 'direct')));
    }
    const shared = sizes.map((_, t) => this.plan.some((edges, i) => edges.some((e, j) => e === 'scratch' && this.nodes[i].inputs[j] === t)));
    this.scratch = sizes.map((n, t) => (shared[t] ? kernels.alloc(n) : null));
    this.wired = this.wire();
    this.loss = new CrossEntropy(batch * this.positions, this.numClasses);
    this.gradLabel = new Float64Array(batch * this.positions * this.numClasses);
    this.hvpLabel = new Float64Array(batch * this.positions * this.numClasses);
  }

  setParams(values: ArrayLike<number>): void {
    if (values.length !== this.paramCount) throw new Error(`expected ${this.paramCount} parameters, got ${values.length}`);
    this.theta.set(values);
  }

  /** BatchNorm running statistics as PyTorch initialises them: mean 0, variance 1. */
  resetBuffers(): void {
    for (const bn of this.bnViews) {
      const { mean, variance } = bn.running();
      mean.fill(0);
      variance.fill(1);
    }
  }

  /** The BatchNorm layers, in graph order (see engine/batchnorm-view.ts). */
  batchNormLayers(): readonly BatchNormView[] {
    return this.bnViews;
  }

  /**
   * While a client trains: every forward pass moves the BatchNorm running statistics (`bufferValues`) as PyTorch
   * does in train mode, with this momentum; null freezes them again (the default: attacks never move them).
   */
  trackRunningStatistics(momentum: number | null): void {
    for (const layer of this.bnLayers) layer.track(momentum);
  }

  /** The momentum set by trackRunningStatistics (null: frozen, or no BatchNorm). */
  get runningMomentum(): number | null {
    return this.bnLayers[0]?.tracking ?? null;
  }

  /** Logits [B, K] ([B, T, K]) of the last evaluate(). */
  get logits(): Arr {
    return this.acts[this.layers.length];
  }
  /** dL/dx [B, ...in_shape] of the last evaluate(input: true). */
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
    const { nodes, acts, wired, batch: B } = this;
    acts[0].set(x);
    for (let i = 0; i < nodes.length; i++) {
      const layer = nodes[i].layer, w = wired[i];
      if (isMultiInput(layer)) layer.forward(w.x, acts[i + 1], B);
      else layer.forward(w.x[0], acts[i + 1], B);
    }
    this.evaluated = false; // the cached backward state no longer matches
    return acts[nodes.length];
  }

  /** Forward pass only: the loss L (what evaluate() returns, without the gradients). */
  lossAt(x: ArrayLike<number>, label: LabelInput): number {
    this.loss.setLabel(label);
    return this.loss.forward(this.predict(x));
  }

  /** Forward and backward pass: returns L and fills `grad` (and `gradInput`, `gradLabel`). */
  evaluate(x: ArrayLike<number>, label: LabelInput, wantInput = false): number {
    const { nodes, acts, adj, wired, batch: B } = this;
    const L = nodes.length;
    this.loss.setLabel(label);
    const value = this.loss.forward(this.predict(x));
    this.loss.backward(adj[L], this.gradLabel);
    for (let i = L - 1; i >= 0; i--) {
      const layer = nodes[i].layer, w = wired[i], da = wantInput ? w.dxWithInput : w.dx;
      if (isMultiInput(layer)) layer.backward(w.x, acts[i + 1], adj[i + 1], da, B);
      else layer.backward(w.x[0], acts[i + 1], adj[i + 1], da[0], B);
      this.accumulate(i, adj, wantInput);
      for (const { grad } of this.tied[i]) this.kernels.axpy(1, grad[0], grad[1]);
    }
    this.evaluated = true;
    return value;
  }

  /** Exact Hessian-vector products along the weight direction v at the last evaluate() point. */
  hvp(v: ArrayLike<number>, want: HvpRequest): void {
    if (!this.evaluated) throw new Error('hvp() needs a preceding evaluate()');
    const { nodes, acts, tacts, adj, tadj, wired, batch: B } = this;
    const L = nodes.length;
    this.dir.set(v);
    // tangent forward: the input does not depend on W (a'_0 = 0, so its tangent is null)
    for (let i = 0; i < L; i++) {
      const layer = nodes[i].layer, w = wired[i];
      if (isMultiInput(layer)) layer.tangentForward(w.x, w.xdot, acts[i + 1], tacts[i + 1], B);
      else layer.tangentForward(w.x[0], w.xdot[0], acts[i + 1], tacts[i + 1], B);
    }
    this.loss.tangent(tacts[L], tadj[L], want.label ? this.hvpLabel : null);
    const withParams = want.params ?? false, wantInput = want.input ?? false;
    for (let i = L - 1; i >= 0; i--) {
      const layer = nodes[i].layer, w = wired[i], dadot = wantInput ? w.dxdotWithInput : w.dxdot;
      if (isMultiInput(layer)) layer.tangentBackward(w.x, w.xdot, acts[i + 1], tacts[i + 1], adj[i + 1], tadj[i + 1], dadot, withParams, B);
      else layer.tangentBackward(w.x[0], w.xdot[0], acts[i + 1], tacts[i + 1], adj[i + 1], tadj[i + 1], dadot[0], withParams, B);
      this.accumulate(i, tadj, wantInput);
      if (withParams) for (const { hess } of this.tied[i]) this.kernels.axpy(1, hess[0], hess[1]);
    }
  }

  /** Node i's (first) input at the last forward pass: a view, valid until the next pass. */
  nodeInput(i: number): Arr {
    return this.acts[this.nodes[i].inputs[0]];
  }

  /**
   * dR/dx into `gradInput` for a function R of some nodes' inputs (a prior on inner activations, such as
   * BatchNorm statistics): a forward pass of x, then one reverse pass whose only adjoint sources are the taps.
   * `tap(i, a, da)` adds dR/da into da, the adjoint of node i's input a, and returns node i's part of R.
   * Nodes after the last tapped one carry zero adjoints and are skipped. Overwrites the state (and `grad`)
   * of the last evaluate(). `afterForward`: the last pass was already a forward pass of this x (a reverse pass
   * leaves the activations alone), so many taps of one x cost one forward pass in all.
   */
  tapGradient(x: ArrayLike<number>, tapped: readonly number[], tap: (i: number, a: Arr, da: Arr) => number, afterForward = false): number {
    const { nodes, acts, adj, wired, batch: B } = this;
    if (!afterForward) this.predict(x);
    const isTapped = new Set(tapped);
    const last = Math.max(-1, ...tapped);
    for (const a of adj) a.fill(0);
    let R = 0;
    for (let i = last; i >= 0; i--) {
      const layer = nodes[i].layer, w = wired[i];
      if (i < last) {
        if (isMultiInput(layer)) layer.backward(w.x, acts[i + 1], adj[i + 1], w.dxWithInput, B);
        else layer.backward(w.x[0], acts[i + 1], adj[i + 1], w.dxWithInput[0], B);
        this.accumulate(i, adj, true);
      }
      // every reader after node i has written (or skipped, leaving zero) the input's adjoint: adding is safe
      if (isTapped.has(i)) R += tap(i, acts[nodes[i].inputs[0]], adj[nodes[i].inputs[0]]);
    }
    return R;
  }

  /** The buffers each node reads and writes, fixed once so that no pass allocates (see `wired`). */
  private wire(): Wiring[] {
    const { acts, tacts, adj, tadj } = this;
    // where node i writes the adjoint of input j (null: not wanted; dL/dx only when asked for)
    const targets = (i: number, adjoints: Arr[], wantInput: boolean) => this.nodes[i].inputs.map((t, j) => {
      if (t === 0 && !wantInput) return null;
      return this.plan[i][j] === 'scratch' ? this.scratch[t] : adjoints[t];
    });
    return this.nodes.map(({ inputs }, i) => ({
      x: inputs.map((t) => acts[t]),
      xdot: inputs.map((t) => (t > 0 ? tacts[t] : null)),
      dx: targets(i, adj, false), dxWithInput: targets(i, adj, true),
      dxdot: targets(i, tadj, false), dxdotWithInput: targets(i, tadj, true),
    }));
  }

  /** Adds the scratch-written input adjoints of node i into their tensors' adjoints. */
  private accumulate(i: number, adjoints: Arr[], wantInput: boolean): void {
    const { inputs } = this.nodes[i];
    for (let j = 0; j < inputs.length; j++) {
      const t = inputs[j];
      if (this.plan[i][j] === 'scratch' && (t > 0 || wantInput)) this.kernels.axpy(1, this.scratch[t]!, adjoints[t]);
    }
  }
}
