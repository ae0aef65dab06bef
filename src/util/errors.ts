/**
 * An error caused by the user's input (bad flag, missing or corrupt file, wrong shape).
 * The CLI prints its message as one line on stderr and exits with code 2 — never a stack trace.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** The library's input fields that a FieldError may name (the CLI maps each to its flag: cli/flags.ts). */
export type InputField =
  | 'model' | 'model.width' | 'model.stem' | 'model.bn' | 'inShape' | 'numClasses' // ModelChoice, the data's shape and classes
  | 'protocol' // ProtocolParams.kind
  | `protocol.${string}` // the other protocol parameters (steps, lr, localBatch, mu, ...)
  | 'defense.strength' | 'defense.adaptive' | 'defense.clip' // DefenseSpec
  | 'labels.mode' | 'labels.method' | 'truth' // LabelRequest; the true batch of a captured message
  | 'bnPrior';

/**
 * A UserError about input fields: `describe` writes the message with each field named by `name`. Its message names
 * the library's fields (`defense.strength 50 out of range ...`); each front end names them its own way with `named`:
 * the command line by its flags (cli/flags.ts), a sweep config by its keys (sweep/config.ts), a capture file by its
 * JSON path (fl/message-file.ts). The one mechanism for all of them.
 */
export class FieldError extends UserError {
  constructor(private readonly describe: (name: (field: InputField) => string) => string) {
    super(describe((field) => field));
  }

  /** The message with each field named by `name` (the CLI: by its flag). */
  named(name: (field: InputField) => string): string {
    return this.describe(name);
  }

  /** The fields the message names, in order. */
  fields(): InputField[] {
    const named: InputField[] = [];
    this.describe((field) => (named.push(field), field));
    return named;
  }
}
