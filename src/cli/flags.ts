// The flag of each library input field: library errors name fields (util/errors.ts FieldError), the CLI its flags.
import { FieldError, type InputField } from '../util/errors.js';
import { protocolFlag } from './protocol-options.js';

const FLAGS: Record<Exclude<InputField, `protocol.${string}`>, string> = {
  model: '--model',
  'model.width': '--width',
  'model.stem': '--stem',
  'model.bn': '--bn',
  inShape: '--input-shape',
  numClasses: '--num-classes',
  protocol: '--protocol',
  'defense.strength': '--defense-strength',
  'defense.adaptive': '--adaptive',
  'defense.clip': '--dp-clip',
  'labels.mode': '--labels',
  'labels.method': '--label-method',
  truth: '--truth',
  bnPrior: '--bn-prior',
};

/** The flag of a library field: the table's, or a protocol parameter's own flag (--local-steps, --lr, --mu, ...). */
export function flagOf(field: InputField): string {
  return field in FLAGS ? FLAGS[field as keyof typeof FLAGS] : protocolFlag(field.replace(/^protocol\./, ''));
}

/** An error's message as the CLI says it: a FieldError names flags instead of fields. */
export function cliMessage(e: Error): string {
  return e instanceof FieldError ? e.named(flagOf) : e.message;
}
