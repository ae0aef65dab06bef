// Writing outputs: a failure is the user's problem to fix (path, permissions, disk), so it is a one-line UserError.
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { UserError } from './errors.js';

function why(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** Creates `dir` (and parents) and checks it is writable, before any long computation starts. */
export function prepareOutDir(dir: string, flag = '--out'): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new UserError(`${flag} ${dir}: cannot create or write the directory (${why(e)})`);
  }
}

export function writeText(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new UserError(`${path}: cannot write (${why(e)})`);
  }
}
