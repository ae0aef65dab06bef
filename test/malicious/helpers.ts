// A malicious server's setup for the tests: its public images (uniform noise of its own seed) and a construction request.
import type { ClientSetup } from '../../src/case/client.js';
import type { ConstructionRequest } from '../../src/malicious/construct.js';
import type { PublicImages } from '../../src/malicious/public-data.js';
import { Prng } from '../../src/util/prng.js';
import { SETUP } from '../case/helpers.js';

export function publicImages(count: number, size: number, seed = 99): PublicImages {
  return { images: new Prng(seed).fillUniform(new Float64Array(count * size), 0, 1), count, size, source: { dataset: 'synthetic', split: 'public', count } };
}

export function maliciousSetup(request: Partial<ConstructionRequest>, o: Partial<ClientSetup> = {}): ClientSetup {
  const full: ConstructionRequest = { kind: 'imprint', units: 64, placement: 'module', measurement: 'brightness', seed: 7, designImages: 16, ...request };
  return { ...SETUP, ...o, malicious: { request: full, public: publicImages(400, 64) } };
}

