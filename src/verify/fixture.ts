// Recomputes everything in a golden fixture (format: test/data/fixtures/FORMAT.md) that the
// engine supports and reports the largest relative error per quantity:
//   err(a, b) = max|a - b| / max(max|b|, 1e-300)
// A per-parameter tensor of a message (gradient, update) is compared relative to max(max|b|, 1e-6 max|whole
// message|): a gradient that vanishes identically (a transformer's key bias: softmax is shift-invariant)
// is rounding noise in PyTorch and here, to be compared with the message's scale, not with itself.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { Network } from '../engine/network.js';
import type { Arr, Kernels } from '../engine/kernels.js';
import { withBnMode, type ModelSpec } from '../engine/graph.js';
import { readOnnxGraph, type OnnxTensors } from '../models/onnx/index.js';
import { objectiveByName, type ObjectiveName } from '../attacks/objective.js';
import { FedSgdMessage, type MessageFunction } from '../fl/message.js';
import type { LocalStepsMessage } from '../fl/local-steps.js';
import { parseProtocol, protocolOf, type ProtocolParams } from '../fl/protocols/index.js';
import { inferLabelIdlg } from '../attacks/label-inference.js';
import type { LabelInput } from '../engine/loss.js';

interface Tensor {
  shape: number[];
  data: number[];
}
interface NamedTensor extends Tensor {
  name: string;
}
interface FixtureObjective {
  D: number;
  dD_dx: Tensor;
  dD_dy?: Tensor;
}
/** A fixture's model given as an ONNX file (path relative to the fixture), see FORMAT.md. */
export interface OnnxFixtureModel {
  onnx: string;
  bn: 'train' | 'eval' | 'none';
  /** [C,H,W], or [T,V] for a sequence model. */
  in_shape: number[];
  num_classes: number;
}
export interface Fixture {
  case: string;
  /** An image model, or a sequence model ([T,V] in_shape, labels per position; the JSON is not typed further). */
  model: ModelSpec | OnnxFixtureModel;
  params: NamedTensor[];
  /** BatchNorm running statistics by name (ONNX fixtures). */
  buffers?: NamedTensor[];
  x_true: Tensor;
  y_true: number[];
  loss_true: number;
  /** The model's output at x_true (ONNX sequence fixtures). */
  logits_true?: Tensor;
  grad_true: NamedTensor[];
  x_dummy: Tensor;
  y_dummy_logits: Tensor;
  loss_dummy?: number;
  grad_dummy?: NamedTensor[];
  objectives?: Record<string, FixtureObjective>;
  idlg?: { inferred_label: number };
  /** A protocol with local steps (fl/protocols). */
  protocol?: { kind: string; steps: number; lr: number; rho?: number };
  alpha?: NamedTensor[];
  update_true?: NamedTensor[];
  update_dummy?: NamedTensor[];
  increment_true?: NamedTensor[];
  increment_dummy?: NamedTensor[];
  w_final_true?: NamedTensor[];
  alpha_new_true?: NamedTensor[];
}

export interface FixtureReport {
  file: string;
  case: string;
  max_rel_err: Record<string, number>;
  skipped: string[];
  ok: boolean;
}

export const FIXTURE_TOLERANCE = 1e-8;

/** A tensor of a message counts as vanishing below this fraction of the message's largest entry. */
export const VANISHING = 1e-6;

export function relErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-300): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0, scale = floor;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return Number.isNaN(diff) ? Infinity : diff / scale;
}

export function readFixture(file: string): Fixture {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let f: Fixture;
  try {
    f = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  for (const key of ['model', 'params', 'x_true', 'y_true', 'grad_true', 'x_dummy', 'y_dummy_logits'] as const) {
    if (!f || typeof f !== 'object' || !(key in f)) throw new UserError(`${file}: not a gradleak fixture (missing "${key}")`);
  }
  return f;
}

interface Slot {
  name: string;
  shape: number[];
  size: number;
  offset: number;
}

/** Named tensors into one flat vector in the order of the slots, matched by name (the list's order may differ). */
function flattenNamed(slots: Slot[], size: number, list: NamedTensor[], file: string, what: string): Float64Array {
  if (!Array.isArray(list) || list.length !== slots.length) {
    throw new UserError(`${file}: ${what} has ${list?.length} tensors, the model has ${slots.length}`);
  }
  const byName = new Map(list.map((t, i) => [t?.name, { t, i }]));
  const out = new Float64Array(size);
  for (const slot of slots) {
    const entry = byName.get(slot.name);
    if (!entry) throw new UserError(`${file}: ${what} has no tensor '${slot.name}' [${slot.shape}]`);
    const { t, i } = entry;
    if (!Array.isArray(t.data) || t.data.length !== slot.size) {
      throw new UserError(`${file}: ${what}[${i}] (${t.name}) should have ${slot.size} values for shape [${slot.shape}]`);
    }
    out.set(t.data, slot.offset);
  }
  return out;
}

function flattenParams(net: Network, list: NamedTensor[], file: string, what: string): Float64Array {
  return flattenNamed(net.params, net.paramCount, list, file, what);
}

/** The tensors of an ONNX file's initializers, flat in the order of the slots. */
function flattenOnnx(slots: Slot[], size: number, tensors: OnnxTensors, file: string): Float64Array {
  const out = new Float64Array(size);
  for (const slot of slots) {
    const t = tensors.get(slot.name);
    if (!t || t.data.length !== slot.size) throw new UserError(`${file}: the ONNX file has no initializer '${slot.name}' [${slot.shape}]`);
    out.set(t.data, slot.offset);
  }
  return out;
}

/** The network of a fixture: its LeNet-style `model`, or the ONNX file it names (with its initializers). */
function fixtureNetwork(file: string, f: Fixture, kernels: Kernels, B: number): { net: Network; onnx: OnnxTensors | null; bn: string } {
  if (!('onnx' in f.model)) return { net: new Network(f.model, kernels, B), onnx: null, bn: 'none' };
  const m = f.model;
  if (typeof m.onnx !== 'string') throw new UserError(`${file}: model.onnx must be a file name`);
  const onnxFile = resolve(dirname(file), m.onnx);
  const imported = readOnnxGraph(onnxFile);
  let spec = imported.spec;
  if (spec.in_shape.join(',') !== String(m.in_shape) || spec.num_classes !== m.num_classes) {
    throw new UserError(`${file}: model says [${m.in_shape}] -> ${m.num_classes} classes, ${m.onnx} is [${spec.in_shape}] -> ${spec.num_classes}`);
  }
  if ((m.bn ?? 'none') !== imported.bn) throw new UserError(`${file}: model.bn is '${m.bn}', the BatchNormalization nodes of ${m.onnx} are '${imported.bn}'`);
  if (m.bn === 'train' || m.bn === 'eval') spec = withBnMode(spec, m.bn);
  // a sequence model too: the message functions below never read the input's shape (typed [C,H,W] in fl/)
  return { net: new Network(spec as ModelSpec, kernels, B), onnx: imported.tensors, bn: m.bn };
}

function tensorData(t: Tensor, n: number, file: string, what: string): number[] {
  if (!t || !Array.isArray(t.data) || t.data.length !== n) throw new UserError(`${file}: ${what} should have ${n} values`);
  return t.data;
}

/** Recomputes a fixture with the given kernels (use float64 kernels for a meaningful check). */
export function verifyFixture(file: string, kernels: Kernels, f: Fixture = readFixture(file)): FixtureReport {
  // a sequence model's labels are per position (B*T of them): the batch is x_true's first dimension
  const B = f.x_true?.shape?.[0] ?? f.y_true.length;
  const { net, onnx, bn } = fixtureNetwork(file, f, kernels, B);
  const errs: Record<string, number> = {};
  const skipped: string[] = [];
  const params = flattenParams(net, f.params, file, 'params');
  if (onnx) {
    // the weights are the ONNX initializers (which must be the fixture's params), the running statistics the
    // buffers. In train mode those are unused, and the fixture holds them as PyTorch's training-mode forwards
    // left them (updated after the export), so only eval mode compares them with the file's.
    const fromOnnx = flattenOnnx(net.params, net.paramCount, onnx, file);
    errs.onnx_params = relErr(fromOnnx, params);
    params.set(fromOnnx);
    if (net.buffers.length > 0 || f.buffers?.length) {
      const buffers = flattenNamed(net.buffers, net.bufferValues.length, f.buffers ?? [], file, 'buffers');
      if (bn === 'eval') errs.onnx_buffers = relErr(flattenOnnx(net.buffers, net.bufferValues.length, onnx, file), buffers);
      net.bufferValues.set(buffers);
    }
  }
  net.setParams(params);
  const K = net.numClasses, rows = B * net.positions;
  const xTrue = tensorData(f.x_true, net.inputSize, file, 'x_true');
  const xDummy = tensorData(f.x_dummy, net.inputSize, file, 'x_dummy');
  const yDummy = tensorData(f.y_dummy_logits, rows * K, file, 'y_dummy_logits');
  const gradTrue = flattenParams(net, f.grad_true, file, 'grad_true');
  const soft: LabelInput = { kind: 'soft', logits: yDummy };

  if (f.logits_true) errs.logits_true = relErr(net.predict(xTrue), tensorData(f.logits_true, rows * K, file, 'logits_true'));
  errs.loss_true = relErr([net.evaluate(xTrue, { kind: 'hard', classes: f.y_true })], [f.loss_true]);
  perParam(net, net.grad, gradTrue, 'grad_true', errs);
  if (f.loss_dummy !== undefined) errs.loss_dummy = relErr([net.evaluate(xDummy, soft)], [f.loss_dummy]);
  if (f.grad_dummy) perParam(net, (net.evaluate(xDummy, soft), net.grad), flattenParams(net, f.grad_dummy, file, 'grad_dummy'), 'grad_dummy', errs);

  let hardLabel: number | null = null;
  if (f.idlg) {
    hardLabel = inferLabelIdlg(net.params, gradTrue).label;
    errs.idlg_label = hardLabel === f.idlg.inferred_label ? 0 : Infinity;
  }
  const msg = new FedSgdMessage(net);
  const protocol = f.protocol ? protocolMessage(net, f, params, file) : null;
  if (protocol) {
    const { fn, name, trueKey, dummyKey, update } = protocol;
    const hard: LabelInput = { kind: 'hard', classes: f.y_true };
    perParam(net, fn.message(xTrue, hard), flattenParams(net, f[trueKey]!, file, trueKey), trueKey, errs);
    if (f.w_final_true) perParam(net, fn.finalWeights, flattenParams(net, f.w_final_true, file, 'w_final_true'), 'w_final_true', errs);
    if (f.alpha_new_true) {
      const alphaNew = update(xTrue, f.y_true).state.alpha ?? new Float64Array(net.paramCount);
      perParam(net, alphaNew, flattenParams(net, f.alpha_new_true, file, 'alpha_new_true'), 'alpha_new_true', errs);
    }
    if (f[dummyKey]) perParam(net, fn.message(xDummy, soft), flattenParams(net, f[dummyKey]!, file, dummyKey), dummyKey, errs);
    net.setParams(params);
    const observed = flattenParams(net, f[trueKey]!, file, trueKey);
    const asGradient = observed.map((v) => -v / fn.p.lr);
    for (const [objName, obj] of Object.entries(f.objectives ?? {})) {
      if (objName === name) checkObjective(fn, observed, obj, objName);
      else if (objName === 'l2_increment_as_gradient') checkObjective(msg, asGradient, obj, objName);
      else skipped.push(objName);
    }
  } else {
    for (const [name, obj] of Object.entries(f.objectives ?? {})) {
      const fedsgd = !f.protocol && (name === 'l2' || name === 'cosine' || name === 'l2_hardlabel');
      if (!fedsgd || (name === 'l2_hardlabel' && hardLabel === null)) {
        skipped.push(name);
        continue;
      }
      const label: LabelInput = name === 'l2_hardlabel' ? { kind: 'hard', classes: [hardLabel!] } : soft;
      checkObjective(msg, gradTrue, obj, name, label);
    }
  }

  /** D and its gradients for the dummy point, against the fixture's objective entry. */
  function checkObjective(fn: MessageFunction, observed: ArrayLike<number>, obj: FixtureObjective, name: string, label: LabelInput = soft): void {
    const objective = objectiveByName(name === 'cosine' ? 'cosine' : ('l2' as ObjectiveName));
    const dm = new Float64Array(fn.size);
    const D = objective(fn.message(xDummy, label), observed, dm);
    const dx = new Float64Array(net.inputSize), dy = new Float64Array(rows * K);
    fn.vjp(dm, dx, label.kind === 'soft' ? dy : null);
    errs[`${name}.D`] = relErr([D], [obj.D]);
    errs[`${name}.dD_dx`] = relErr(dx, tensorData(obj.dD_dx, net.inputSize, file, `${name}.dD_dx`));
    if (obj.dD_dy && label.kind === 'soft') errs[`${name}.dD_dy`] = relErr(dy, tensorData(obj.dD_dy, rows * K, file, `${name}.dD_dy`));
  }
  const ok = Object.values(errs).every((e) => e <= FIXTURE_TOLERANCE);
  return { file, case: f.case, max_rel_err: errs, skipped, ok };
}

/** The fixture keys and the objective of each kind of unrolled message (FORMAT.md). */
const FIXTURE_KEYS = {
  update: { name: 'l2', trueKey: 'update_true', dummyKey: 'update_dummy' },
  increment: { name: 'l2_increment_unrolled', trueKey: 'increment_true', dummyKey: 'increment_dummy' },
} as const;

/** The unrolled client update a protocol fixture describes, the client's update at the same point, and the fixture keys that go with them. */
function protocolMessage(net: Network, f: Fixture, theta: Float64Array, file: string) {
  let p: ProtocolParams;
  try {
    p = parseProtocol(f.protocol!);
  } catch (e) {
    throw new UserError(`${file}: ${(e as Error).message}`);
  }
  const proto = protocolOf(p.kind);
  if (proto.sends === 'gradient') throw new UserError(`${file}: protocol ${p.kind} has no local steps to unroll`);
  const state = { alpha: f.alpha ? flattenParams(net, f.alpha, file, 'alpha') : null };
  const fn = proto.messageFunction(net, theta, p, state) as LocalStepsMessage;
  const update = (x: ArrayLike<number>, classes: number[]) => proto.clientUpdate(net, theta, p, x, classes, state);
  return { fn, update, ...FIXTURE_KEYS[proto.sends] };
}

function perParam(net: Network, got: Arr, want: Float64Array, what: string, errs: Record<string, number>): void {
  const floor = VANISHING * want.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1e-300;
  for (const p of net.params) {
    errs[`${what}.${p.name}`] = relErr(got.subarray(p.offset, p.offset + p.size), want.subarray(p.offset, p.offset + p.size), floor);
  }
}
