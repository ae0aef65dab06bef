// A config error at a key path: parseSweepConfig turns it into one UserError line `FILE: path: message`.

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
