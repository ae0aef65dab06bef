// How an attack gets its labels (--labels): inferred from the message, the true ones, or optimised
// jointly with the dummy data as DLG does. Presets without --labels use their own default plan.
import { FieldError, UserError } from '../../util/errors.js';
import { inferLabelIdlg } from '../label-inference.js';
import { inferLabels, type InferenceMethod, type LabelEvidence, type LabelMethod } from './infer.js';

export const LABEL_MODES = ['infer', 'known', 'joint'] as const;
export type LabelMode = (typeof LABEL_MODES)[number];

/** Where the labels come from (mode) and, to infer them, how (method). */
export interface LabelRequest {
  mode: LabelMode;
  method: LabelMethod;
}

/**
 * A preset's default: a request, or 'infer-or-joint': infer when the method applies, else joint. At B = 1 iDLG
 * applies when exactly one row sum is negative (one sample, non-negative features); at B > 1 the plan's
 * batch method applies when it can run on the model (iDLG never does). 'joint-at-one': joint at B = 1 (DLG's setting),
 * the batch method where it applies at B > 1.
 */
export type LabelPlan = LabelRequest | { mode: 'infer-or-joint' | 'joint-at-one'; method: LabelMethod };

/** Which labels the matching loop uses: fixed classes (one per dummy sample) or joint (null), and where they came from. */
export interface LabelChoice {
  classes: number[] | null;
  method: InferenceMethod | 'known' | 'joint';
}

/** The labels by `plan`; `known`: the client's labels, when the server knows them (mode 'known' needs them). */
export function chooseLabels(plan: LabelPlan, e: LabelEvidence, known: readonly number[]): LabelChoice {
  switch (plan.mode) {
    case 'joint':
      return { classes: null, method: 'joint' };
    case 'known':
      if (known.length !== e.batch) throw new FieldError((f) => `${f('labels.mode')} known needs the true labels: attack a private batch, or a captured message with its ${f('truth')}`);
      return { classes: [...known], method: 'known' };
    case 'infer': {
      const { labels, method } = inferLabels(e, plan.method);
      return { classes: labels, method };
    }
    case 'infer-or-joint':
      return e.batch === 1 ? idlgOrJoint(e) : batchOrJoint(plan.method, e);
    case 'joint-at-one':
      return e.batch === 1 ? { classes: null, method: 'joint' } : batchOrJoint(plan.method, e);
  }
}

function idlgOrJoint(e: LabelEvidence): LabelChoice {
  const r = inferLabelIdlg(e.params, e.gradient, e.sign ?? 1);
  return r.negativeRows === 1 ? { classes: [r.label], method: 'idlg' } : { classes: null, method: 'joint' };
}

function batchOrJoint(method: LabelMethod, e: LabelEvidence): LabelChoice {
  if (method === 'idlg') return { classes: null, method: 'joint' };
  try {
    return chooseLabels({ mode: 'infer', method }, e, []);
  } catch (err) {
    if (err instanceof UserError) return { classes: null, method: 'joint' };
    throw err;
  }
}
