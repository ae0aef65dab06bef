// A file shipped in the package (assets/, build/): located from the package root, which is three levels above
// this module once compiled (dist/src/util/package-file.js), so it works in the repo and in an installed package.
import { fileURLToPath } from 'node:url';

export function packageFile(relative: string): string {
  return fileURLToPath(new URL(`../../../${relative}`, import.meta.url));
}
