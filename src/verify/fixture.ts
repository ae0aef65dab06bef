// Recomputes everything in a golden fixture (format: ../shared/fixtures/README.md) that the
// engine supports and reports the largest relative error per quantity:
//   err(a, b) = max|a - b| / max(max|b|, 1e-300)
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { Network } from '../engine/network.js';
import type { Arr, Kernels } from '../engine/kernels.js';
import type { ModelSpec } from '../models/spec.js';
import { objectiveByName, type ObjectiveName } from '../attacks/objective.js';
import { FedSgdMessage } from '../fl/message.js';
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
export interface Fixture {
  case: string;
  model: ModelSpec;
  params: NamedTensor[];
  x_true: Tensor;
  y_true: number[];
  loss_true: number;
  grad_true: NamedTensor[];
  x_dummy: Tensor;
  y_dummy_logits: Tensor;
  loss_dummy?: number;
  grad_dummy?: NamedTensor[];
  objectives?: Record<string, FixtureObjective>;
  idlg?: { inferred_label: number };
  protocol?: { kind: string };
}

export interface FixtureReport {
  file: string;
  case: string;
  max_rel_err: Record<string, number>;
  skipped: string[];
  ok: boolean;
}

export const FIXTURE_TOLERANCE = 1e-8;

export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0, scale = 1e-300;
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

function flattenParams(net: Network, list: NamedTensor[], file: string, what: string): Float64Array {
  if (!Array.isArray(list) || list.length !== net.params.length) {
    throw new UserError(`${file}: ${what} has ${list?.length} tensors, the model has ${net.params.length}`);
  }
  const out = new Float64Array(net.paramCount);
  net.params.forEach((slot, i) => {
    const t = list[i];
    if (!t || !Array.isArray(t.data) || t.data.length !== slot.size) {
      throw new UserError(`${file}: ${what}[${i}] (${t?.name}) should have ${slot.size} values for shape [${slot.shape}]`);
    }
    out.set(t.data, slot.offset);
  });
  return out;
}

function tensorData(t: Tensor, n: number, file: string, what: string): number[] {
  if (!t || !Array.isArray(t.data) || t.data.length !== n) throw new UserError(`${file}: ${what} should have ${n} values`);
  return t.data;
}

/** Recomputes a fixture with the given kernels (use float64 kernels for a meaningful check). */
export function verifyFixture(file: string, kernels: Kernels, f: Fixture = readFixture(file)): FixtureReport {
  const B = f.y_true.length;
  const net = new Network(f.model, kernels, B);
  const errs: Record<string, number> = {};
  const skipped: string[] = [];
  net.setParams(flattenParams(net, f.params, file, 'params'));
  const K = net.numClasses;
  const xTrue = tensorData(f.x_true, net.inputSize, file, 'x_true');
  const xDummy = tensorData(f.x_dummy, net.inputSize, file, 'x_dummy');
  const yDummy = tensorData(f.y_dummy_logits, B * K, file, 'y_dummy_logits');
  const gradTrue = flattenParams(net, f.grad_true, file, 'grad_true');
  const soft: LabelInput = { kind: 'soft', logits: yDummy };

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
  for (const [name, obj] of Object.entries(f.objectives ?? {})) {
    const fedsgd = !f.protocol && (name === 'l2' || name === 'cosine' || name === 'l2_hardlabel');
    if (!fedsgd || (name === 'l2_hardlabel' && hardLabel === null)) {
      skipped.push(name);
      continue;
    }
    const label: LabelInput = name === 'l2_hardlabel' ? { kind: 'hard', classes: [hardLabel!] } : soft;
    const objective = objectiveByName(name === 'cosine' ? 'cosine' : ('l2' as ObjectiveName));
    const dm = new Float64Array(msg.size);
    const D = objective(msg.message(xDummy, label), gradTrue, dm);
    const dx = new Float64Array(net.inputSize), dy = new Float64Array(B * K);
    msg.vjp(dm, dx, label.kind === 'soft' ? dy : null);
    errs[`${name}.D`] = relErr([D], [obj.D]);
    errs[`${name}.dD_dx`] = relErr(dx, tensorData(obj.dD_dx, net.inputSize, file, `${name}.dD_dx`));
    if (obj.dD_dy && label.kind === 'soft') errs[`${name}.dD_dy`] = relErr(dy, tensorData(obj.dD_dy, B * K, file, `${name}.dD_dy`));
  }
  const ok = Object.values(errs).every((e) => e <= FIXTURE_TOLERANCE);
  return { file, case: f.case, max_rel_err: errs, skipped, ok };
}

function perParam(net: Network, got: Arr, want: Float64Array, what: string, errs: Record<string, number>): void {
  for (const p of net.params) {
    errs[`${what}.${p.name}`] = relErr(got.subarray(p.offset, p.offset + p.size), want.subarray(p.offset, p.offset + p.size));
  }
}
