// One layer of a sequential network, with its four passes side by side (DESIGN 3):
//   forward            z = f(a; w)
//   backward (VJP)     da = (df/da)^T dz,  dw = (df/dw)^T dz
//   tangentForward     z' = (df/da) a' + (df/dw) w'                         (w' = the direction v)
//   tangentBackward    da' = d/de [(df/da)^T dz] along (a', w', dz'), and dw' likewise
// Pushing a weight-space direction v through forward and backward gives exact
// Hessian-vector products H_WW v, H_xW v, H_yW v (forward-over-reverse).
// Arrays are [B, ...per-sample shape] flat; `adot === null` means the input tangent is zero
// (the first layer: x does not depend on w), `da === null` means the input adjoint is not wanted.

import type { Arr } from '../kernels.js';

export type Shape = readonly number[];

/** Views of one parameter tensor in the network's four flat parameter-space vectors. */
export interface ParamSlot {
  name: string;
  shape: number[];
  size: number;
  offset: number;
  value: Arr; // w
  grad: Arr; // dL/dw
  dir: Arr; // w' (the tangent direction v)
  hess: Arr; // (H v)_w, the tangent of dL/dw
}

export interface Layer {
  readonly kind: string;
  readonly inShape: Shape; // per sample
  readonly outShape: Shape;
  /** Parameter tensors (weight, then bias), empty for parameter-free layers. */
  readonly paramShapes: { suffix: string; shape: number[] }[];
  /** Called once by the network with the slots of this layer's parameters. */
  bind(slots: ParamSlot[]): void;
  forward(a: Arr, z: Arr, B: number): void;
  backward(a: Arr, z: Arr, dz: Arr, da: Arr | null, B: number): void;
  tangentForward(a: Arr, adot: Arr | null, z: Arr, zdot: Arr, B: number): void;
  tangentBackward(
    a: Arr, adot: Arr | null, z: Arr, zdot: Arr, dz: Arr, dzdot: Arr,
    dadot: Arr | null, withParams: boolean, B: number,
  ): void;
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

