// attack's label flags: --labels infer|known|joint and --label-method (attacks/labels/).
import type { Command } from 'commander';
import { UserError } from '../util/errors.js';
import { LABEL_MODES, type LabelMode, type LabelRequest } from '../attacks/labels/choose.js';
import { LABEL_METHODS, type LabelMethod } from '../attacks/labels/infer.js';
import { oneOf } from './parse.js';

export interface LabelFlags {
  labels?: LabelMode;
  labelMethod?: LabelMethod;
}

export function addLabelOptions(cmd: Command): Command {
  return cmd
    .option('--labels <how>', 'infer (from the message by --label-method, then fixed), known (the true labels) or joint (optimised with the data, as DLG); default: the attack\'s', oneOf(LABEL_MODES))
    .option('--label-method <m>', 'label inference: idlg (B = 1), llg, bias-corrected, ilrg, or auto (idlg at B = 1, else ilrg with a bias, llg without); implies --labels infer', oneOf(LABEL_METHODS));
}

/** The request, or undefined for the attack's default; --label-method with --labels known/joint would be ignored: an error. */
export function labelRequest(f: LabelFlags): LabelRequest | undefined {
  if (f.labelMethod && f.labels && f.labels !== 'infer') throw new UserError(`--label-method applies to --labels infer only, not --labels ${f.labels}`);
  if (!f.labels && !f.labelMethod) return undefined;
  return { mode: f.labels ?? 'infer', method: f.labelMethod ?? 'auto' };
}
