// What a malicious server did to the model it sends: the kind of construction, the layers it edited or added, and
// what its attack needs. It is written beside the exported model as construction.json (malicious-model), read back by
// `attack --attack imprint|trap|fishing`, and is the server's knowledge, never the client's.
//
// construction.json, format "gradleak-malicious/1":
//   kind            'imprint' | 'trap' | 'fishing'
//   placement       'module': layers added in front of the model (flatten, <prefix>.measure, relu, <prefix>.back,
//                   reshape, residual add; the client must run the exported graph);
//                   'first_linear': weights written into the model's own first fully connected layer (and the
//                   columns of the layer after it); 'last_linear' (fishing): the model's last layer.
//                   Placements other than 'module' change weights only: a client that builds its own network class
//                   loads them as ordinary weights, by the original PyTorch names.
//   adds_layers     placement === 'module'
//   input_shape     [C, H, W]; num_classes
//   layer           the edited (or added) fully connected layer's parameter prefix, e.g. 'imprint.measure' or 'fc1'
//   rows            the rows of `layer` the construction owns (0-based), in order
//   next_layer      the layer reading `layer`'s ReLU output whose columns `rows` were made identical (imprint), or null
//   measurement     imprint: 'brightness' | 'random' (the row every owned unit shares, unit length); trap: null
//   thresholds      imprint: ascending t_1 < ... < t_K in measurement units; unit k fires when m·x > t_k
//   bin_probabilities  imprint: the public data's share in each bin (t_k, t_{k+1}], the last (t_K, inf); trap: each
//                   owned row's firing rate on the public data
//   design_images   N = users x batch the server built it for (trap rows fire for about 1/N of the images)
//   expected_recovered  what theory expects at design_images (expected.ts); the imprint attack recomputes it for any N
//   target_class    fishing: the class whose samples keep their gradient
//   public_data     where the server's estimates came from: { dataset, split, count }
//   needs           one line: what the attack assumes of the client (FedSGD, or one local step of plain SGD)
import type { ImageShape, ModelSpec } from '../engine/graph.js';

export const CONSTRUCTION_FORMAT = 'gradleak-malicious/1';
export const CONSTRUCTION_KINDS = ['imprint', 'trap', 'fishing'] as const;
export type ConstructionKind = (typeof CONSTRUCTION_KINDS)[number];
export const PLACEMENTS = ['module', 'first_linear', 'last_linear'] as const;
export type Placement = (typeof PLACEMENTS)[number];
export const MEASUREMENTS = ['brightness', 'random'] as const;
export type Measurement = (typeof MEASUREMENTS)[number];

export interface PublicData {
  dataset: string;
  split: string;
  count: number;
}

export interface Construction {
  format: typeof CONSTRUCTION_FORMAT;
  kind: ConstructionKind;
  placement: Placement;
  adds_layers: boolean;
  input_shape: ImageShape;
  num_classes: number;
  layer: string;
  rows: number[];
  next_layer: string | null;
  measurement: Measurement | null;
  thresholds: number[];
  bin_probabilities: number[];
  design_images: number;
  expected_recovered: number;
  target_class: number | null;
  public_data: PublicData;
  needs: string;
}

/** What the analytic inversions assume of the client (imprint, trap). */
export const ONE_STEP_NEEDS = 'the gradient of the mean loss (FedSGD) or one local step of plain SGD on the whole batch (FedAvg, FedProx); any number of users summed';

/** A construction of the base model `spec`, its public data and what the kind sets; the fields every kind shares filled in. */
export function constructionRecord(
  spec: ModelSpec, publicData: PublicData,
  own: Omit<Construction, 'format' | 'adds_layers' | 'input_shape' | 'num_classes' | 'public_data' | 'needs'> & { needs?: string },
): Construction {
  // the fields in the order of the format above, as construction.json has always listed them
  return {
    format: CONSTRUCTION_FORMAT, kind: own.kind, placement: own.placement, adds_layers: own.placement === 'module',
    input_shape: spec.in_shape, num_classes: spec.num_classes, layer: own.layer, rows: own.rows, next_layer: own.next_layer,
    measurement: own.measurement, thresholds: own.thresholds, bin_probabilities: own.bin_probabilities,
    design_images: own.design_images, expected_recovered: own.expected_recovered, target_class: own.target_class,
    public_data: publicData, needs: own.needs ?? ONE_STEP_NEEDS,
  };
}
