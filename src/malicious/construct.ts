// A malicious server's model, by construction kind: what `--threat-model malicious` sends to the clients and what
// `malicious-model` exports. The request is the server's; the public images are its own (held apart from the clients').
import { UserError } from '../util/errors.js';
import type { Construction, ConstructionKind, Measurement, Placement } from './construction.js';
import { imprintModel } from './imprint.js';
import type { ServerModel } from './model-edit.js';
import type { PublicImages } from './public-data.js';
import { trapModel } from './trap.js';
import { fishingModel } from './fishing.js';

export interface ConstructionRequest {
  kind: ConstructionKind;
  /** Imprint: the bins K; trap: the trap rows. */
  units: number;
  placement: Placement;
  measurement: Measurement;
  seed: number;
  /** N = users x batch, the images the server expects in one message. */
  designImages: number;
  /** Class fishing: the class whose samples keep their gradient (default 0). */
  targetClass?: number;
}

export const DEFAULT_UNITS: Record<ConstructionRequest['kind'], number> = { imprint: 128, trap: 500, fishing: 0 };
/** Most units a construction may own: its layer has units x C x H x W weights. */
export const MAX_UNITS = 4096;

export function maliciousModel(base: ServerModel, pub: PublicImages, r: ConstructionRequest): { model: ServerModel; construction: Construction } {
  if (r.kind === 'fishing') return fishingModel(base, pub, { targetClass: r.targetClass ?? 0, designImages: r.designImages });
  if (!(Number.isInteger(r.units) && r.units >= 2 && r.units <= MAX_UNITS)) throw new UserError(`--bins ${r.units}: an integer in 2..${MAX_UNITS}`);
  if (pub.size !== base.spec.in_shape.reduce((a, b) => a * b, 1)) throw new UserError(`the public data's images have ${pub.size} values, the model takes [${base.spec.in_shape}]`);
  if (pub.count < 2) throw new UserError(`the public data holds ${pub.count} image(s): the server needs at least 2 to estimate its construction`);
  return r.kind === 'imprint'
    ? imprintModel(base, pub, { bins: r.units, measurement: r.measurement, placement: r.placement, seed: r.seed, designImages: r.designImages })
    : trapModel(base, pub, { rows: r.units, placement: r.placement, seed: r.seed, designImages: r.designImages });
}
