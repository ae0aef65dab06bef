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
