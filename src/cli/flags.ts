// The flag of each library input field: library errors name fields (util/errors.ts FieldError), the CLI its flags.
import { FieldError, type InputField } from '../util/errors.js';

const FLAGS: Record<InputField, string> = {
  model: '--model',
  'model.width': '--width',
  'model.stem': '--stem',
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

/** An error's message as the CLI says it: a FieldError names flags instead of fields. */
export function cliMessage(e: Error): string {
  return e instanceof FieldError ? e.named((field) => FLAGS[field]) : e.message;
}
