import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDefense } from '../../src/defenses/defense.js';
import { cliMessage } from '../../src/cli/flags.js';
import { FieldError, UserError } from '../../src/util/errors.js';

const thrown = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  return assert.fail('expected an error');
};

test('library validators name fields; the CLI names the same error by its flags', () => {
  const e = thrown(() => checkDefense({ name: 'prune', strength: 5, adaptive: false }));
  assert.ok(e instanceof FieldError && e instanceof UserError);
  assert.match(e.message, /^defense\.strength 5 out of range for prune/);
  assert.doesNotMatch(e.message, /--/);
  assert.match(cliMessage(e), /^--defense-strength 5 out of range for prune/);
  const adaptive = thrown(() => checkDefense({ name: 'gaussian', strength: 0.1, adaptive: true }));
  assert.match(adaptive.message, /\(defense\.adaptive applies to prune, dp, soteria\)/);
  assert.match(cliMessage(adaptive), /\(--adaptive applies to prune, dp, soteria\)/);
});

test('other errors keep their message in the CLI', () => {
  assert.equal(cliMessage(new UserError('--index 3: no such image')), '--index 3: no such image');
  assert.equal(cliMessage(new Error('internal')), 'internal');
});
