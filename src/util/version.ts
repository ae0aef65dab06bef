import { readFileSync } from 'node:fs';

/** gradleak's version from package.json (dist/src/util -> package root). */
export const GRADLEAK_VERSION: string = JSON.parse(
  readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
).version;
