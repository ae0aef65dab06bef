// The imprint demo (a malicious server, Fowl et al. 2022, on a batch of the embedded MNIST test images): its choices,
// the clients' and the server's disjoint parts of the embedded subset, and the request the worker runs.
import { DEFAULT_UNITS } from '../../src/malicious/construct.js';
import { publicImagesOf, type PublicImages } from '../../src/malicious/public-data.js';
import type { AttackConfig } from '../../src/run/image-run.js';
import { mnistTest } from './mnist-subset.js';
import type { AttackRequest } from './worker-messages.js';

export const BATCHES = [16, 64, 128];
export const BINS = [64, DEFAULT_UNITS.imprint, 256];
export const USERS = [1, 4, 8];
export const DEFAULTS = { batch: 64, bins: DEFAULT_UNITS.imprint, users: 1 };
/** The clients' images are the first N embedded ones; the server's public images are all from here on: never the clients'. */
const PUBLIC_FIRST = Math.max(...BATCHES);

export interface ImprintChoice {
  batch: number;
  bins: number;
  users: number;
}

/** Which embedded images each side holds, in words. */
export function dataSplitText(batch: number): string {
  return `The clients' images: MNIST test images 0–${batch - 1}. The server's public images (its bins' thresholds): ` +
    `MNIST test images ${PUBLIC_FIRST}–${mnistTest.count - 1}, disjoint from them.`;
}

export function threatLine(bins: number, users: number): string {
  return `malicious server: imprint module with ${bins} bins; ${users} ${users === 1 ? 'user (no aggregation)' : 'users under secure aggregation'}`;
}

/** The demo as a worker request: the page's protocol and defense, one analytic step, the batch split among the users. */
export function imprintRequest(cfg: AttackConfig, c: ImprintChoice): AttackRequest {
  return {
    cfg: { ...cfg, attack: 'imprint', iterations: 1, users: c.users },
    input: { kind: 'mnist-batch', count: c.batch },
    construction: { kind: 'imprint', units: c.bins, placement: 'module', measurement: 'brightness', seed: 0, designImages: c.batch },
  };
}

/** The server's own images: the embedded ones after every batch the demo offers. */
export const serverPublicImages = (): Promise<PublicImages> => publicImagesOf(mnistTest, PUBLIC_FIRST, mnistTest.count - PUBLIC_FIRST);
