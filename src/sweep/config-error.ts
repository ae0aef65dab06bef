// A config error at a key path, and the library's user errors put at a key path: inConfig turns either into one
// UserError line `FILE: path: message`.
import { FieldError, UserError, type InputField } from '../util/errors.js';

export type Path = readonly PropertyKey[];

/** `defenses[1].strengths[2]`; the root is `config`. */
export function formatPath(path: Path): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : `${s ? '.' : ''}${String(p)}`;
  return s || 'config';
}

export class ConfigError extends Error {
  constructor(readonly path: Path, message: string) {
    super(message);
  }
}

/** A library field by its config key: a protocol's, a defense's or a model's own key (kind, lr, strength, stem), else as it is. */
function configKey(field: InputField): string {
  if (field === 'protocol') return 'kind';
  return field.replace(/^(protocol|defense|model)\./, '');
}

/**
 * fn(), its user errors at `path`: a field is called by its config key. With `entry`, an error about a field of
 * that entry is at the field's key below `path` (`model.stem` at models[1] is models[1].stem).
 */
export function rethrowAt<T>(path: Path, fn: () => T, entry?: 'model'): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FieldError) {
      const first = e.fields()[0];
      const at = entry && first?.startsWith(`${entry}.`) ? [...path, configKey(first)] : path;
      throw new ConfigError(at, e.named(configKey));
    }
    if (e instanceof UserError) throw new ConfigError(path, e.message);
    throw e;
  }
}

/** fn(), its ConfigErrors as one UserError line starting with `source` (the config file). */
export function inConfig<T>(source: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConfigError) throw new UserError(`${source}: ${formatPath(e.path)}: ${e.message}`);
    throw e;
  }
}
