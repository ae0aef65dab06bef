// What a client sends, as a differentiable function of its (dummy) data: the attacker's view of a
// protocol. message() computes m(x, y); vjp() returns dD/dx, dD/dy for a given dD/dm at that point.
import type { LabelInput } from '../engine/loss.js';
import type { AnyNetwork } from '../engine/network.js';
import type { Arr } from '../engine/kernels.js';

export interface MessageFunction {
  readonly net: AnyNetwork;
  readonly size: number;
  /** m(x, label); the returned array is owned by the function and valid until the next call. */
  message(x: ArrayLike<number>, label: LabelInput): Arr;
  /** Writes dD/dx (and dD/dy for soft labels) given dm = dD/dm at the last message() point. */
  vjp(dm: Float64Array, dx: Float64Array, dy: Float64Array | null): void;
}

/** FedSGD: the message is the gradient dL/dW; its VJP is the mixed Hessian product H_xW dm (H_yW dm). */
export class FedSgdMessage implements MessageFunction {
  readonly size: number;
  constructor(readonly net: AnyNetwork) {
    this.size = net.paramCount;
  }

  message(x: ArrayLike<number>, label: LabelInput): Arr {
    this.net.evaluate(x, label);
    return this.net.grad;
  }

  vjp(dm: Float64Array, dx: Float64Array, dy: Float64Array | null): void {
    this.net.hvp(dm, { input: true, label: dy !== null });
    dx.set(this.net.hvpInput);
    if (dy) dy.set(this.net.hvpLabel);
  }
}
