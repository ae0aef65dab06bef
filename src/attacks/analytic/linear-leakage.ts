// Linear-layer leakage (Phong et al., "Privacy-preserving deep learning via additively homomorphic encryption",
// IEEE TIFS 2018; Geiping et al., NeurIPS 2020, Prop. 1), an analytic attack. For a fully connected layer
// y = W x + b, one sample's gradient is dL/dW_i = (dL/db_i) x^T row by row, so every row with dL/db_i != 0 gives
//   x = dL/dW_i / dL/db_i   exactly.
// A batch's gradient is the mean over its samples: a row's ratio is sum_s g_si x_s / sum_s g_si, one sample's input
// only where that sample alone reached the row (a ReLU network), a mixture of the batch's inputs otherwise. Rows whose
// ratios agree are grouped (ratio-groups.ts); the B largest groups (most rows) are the B inputs. The layer must read
// the network's input (flattened): the model's first parameterised layer.
// An update of one local step on the whole batch (FedAvg, FedProx: U = lr g) reads as the gradient; more steps do not.
// Deterministic: no dummies, iterations, restarts or seed.
import { FieldError, UserError } from '../../util/errors.js';
import { firstLinearLayer } from '../../engine/first-linear-layer.js';

export { firstLinearLayer };
import type { LabelChoice } from '../labels/choose.js';
import type { AnalyticResult, AttackContext } from '../attack-context.js';
import { groupInput, groupResidual, groupRows, usableRows } from './ratio-groups.js';
import { messageGradient } from './message-gradient.js';

export function linearLeakage(ctx: AttackContext, labels: (g: ArrayLike<number>) => LabelChoice): AnalyticResult {
  const { net } = ctx, B = net.batch, observed = messageGradient(ctx, 'linear-leakage');
  const { weight, bias, label } = firstLinearLayer(net);
  const [rows, d] = weight.shape;
  const dW = (i: number) => observed.slice(weight.offset + i * d, weight.offset + (i + 1) * d);
  const db = observed.slice(bias.offset, bias.offset + rows);
  const usable = usableRows(db).length;
  const groups = groupRows(dW, db, usableRows(db), { oneInput: B === 1 });
  if (usable === 0) throw new UserError(`linear-leakage: every bias gradient of ${label} is zero, no row gives the input`);
  // the B groups of the most rows (then the most weight); fewer groups than samples: the largest repeat
  const chosen = [...groups].sort((a, b) => b.rows.length - a.rows.length || b.weight - a.weight).slice(0, B);
  const inputs = chosen.map(groupInput);
  const x = new Float64Array(B * d);
  for (let s = 0; s < B; s++) x.set(inputs[s % inputs.length], s * d);
  const l = labels(observed);
  if (!l.classes) throw new FieldError((f) => `${f('labels.mode')} joint does not apply to linear-leakage (it optimises nothing): infer or known`);
  return {
    x, labels: l.classes, labelMethod: l.method, objective: groupResidual(dW, db, chosen, inputs),
    details: {
      layer: label, rows, usable_rows: usable, groups: groups.length, used_rows: chosen.reduce((n, g) => n + g.rows.length, 0),
      group_rows: chosen.map((g) => g.rows.length).join(' '),
      ...(B > 1 ? { note: 'a row gives one input only where one sample alone reached it; in general its ratio is a weighted mean of the batch\'s inputs' } : {}),
    },
  };
}
