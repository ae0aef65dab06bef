// One layer of a sequential network, with its four passes side by side (docs/design.md, section 3):
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
  /** The kind of the layer that owns it (e.g. 'batchnorm', whose weight PyTorch initialises to 1). */
  layerKind?: string;
  /** Its role in that layer (the suffix of its paramShapes entry: 'weight', 'bias'), whatever a model file named it. */
  role?: string;
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
  /** Non-trainable state (BatchNorm's running statistics): bound like parameters, never differentiated. */
  readonly bufferShapes?: { suffix: string; shape: number[] }[];
  bindBuffers?(values: Float64Array[]): void;
}

/**
 * A parameter-free node with several inputs (a residual add): the same four passes with one array
 * per input. `xdot[i] === null`: that input's tangent is zero; `dx[i] === null`: its adjoint is not wanted.
 * Input adjoints are overwritten (the network accumulates when a tensor has several consumers).
 */
export interface MultiInputLayer {
  readonly kind: string;
  readonly inShapes: Shape[];
  readonly outShape: Shape;
  readonly paramShapes: { suffix: string; shape: number[] }[];
  bind(slots: ParamSlot[]): void;
  forward(x: Arr[], z: Arr, B: number): void;
  backward(x: Arr[], z: Arr, dz: Arr, dx: (Arr | null)[], B: number): void;
  tangentForward(x: Arr[], xdot: (Arr | null)[], z: Arr, zdot: Arr, B: number): void;
  tangentBackward(
    x: Arr[], xdot: (Arr | null)[], z: Arr, zdot: Arr, dz: Arr, dzdot: Arr,
    dxdot: (Arr | null)[], withParams: boolean, B: number,
  ): void;
}

export function isMultiInput(l: Layer | MultiInputLayer): l is MultiInputLayer {
  return 'inShapes' in l;
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

