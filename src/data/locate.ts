// Where datasets live on disk: the --data-dir flag, else $GRADLEAK_DATA, else a per-user cache folder.
import * as os from 'node:os';
import * as path from 'node:path';

export type DataRootSource = 'flag' | 'env' | 'default';

export interface DataRoot {
  /** Absolute folder under which datasets are looked for and downloaded to. */
  root: string;
  /** Which rule decided `root`. */
  source: DataRootSource;
}

/** The default data folder: $XDG_CACHE_HOME/gradleak/data, else ~/.cache/gradleak/data. */
export function defaultDataRoot(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  const cache = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(cache, 'gradleak', 'data');
}

/** The data root: `flag` (the --data-dir value) if given, else $GRADLEAK_DATA, else defaultDataRoot(). */
export function dataRoot(flag?: string): DataRoot {
  if (flag !== undefined && flag !== '') return { root: path.resolve(flag), source: 'flag' };
  const env = process.env.GRADLEAK_DATA;
  if (env !== undefined && env !== '') return { root: path.resolve(env), source: 'env' };
  return { root: defaultDataRoot(), source: 'default' };
}

/** Human-readable description of where the root came from, for messages and `datasets list`. */
export function describeRoot(r: DataRoot): string {
  const why = r.source === 'flag' ? '--data-dir' : r.source === 'env' ? '$GRADLEAK_DATA' : 'default';
  return `${r.root} (${why})`;
}
