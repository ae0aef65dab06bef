// flatten: [B,C,H,W] -> [B,C*H*W]; the data is already row-major, so every pass is a copy.
import { sizeOf, type Shape } from './layer.js';
import { Identity } from './identity.js';

export class Flatten extends Identity {
  override readonly kind = 'flatten';

  constructor(inShape: Shape) {
    super(inShape, [sizeOf(inShape)]);
  }
}
