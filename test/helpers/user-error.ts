import assert from 'node:assert/strict';
import { UserError } from '../../src/util/errors.js';

/** Asserts fn throws a UserError whose single-line message names `file` and matches `re`. */
export function throwsUser(fn: () => unknown, file: string, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected UserError, got ${String(err)}`);
    assert.ok(err.message.includes(file), `message should name ${file}: ${err.message}`);
    assert.match(err.message, re);
    assert.ok(!err.message.includes('\n'), 'message should be one line');
    return true;
  });
}
