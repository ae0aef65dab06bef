// Image priors: terms R(x) added to the matching objective, each with its own gradient (first order only:
// a prior on x needs no Hessian-vector product).
//   total variation (Geiping et al., Inverting Gradients, NeurIPS 2020; anisotropic L1):
//     TV(x) = mean over vertical neighbour pairs of |x[h+1,w] - x[h,w]| + mean over horizontal ones of |x[h,w+1] - x[h,w]|
//     (means over batch, channels and positions, as their code computes it), d|d|/dd = sign(d) (0 at 0).
export interface Prior {
  /** R(x) for a batch x [B, C, H, W]; adds weight * dR/dx into `grad`. */
  addTo(x: Float64Array, grad: Float64Array): number;
}

export function totalVariation(shape: readonly [number, number, number], batch: number, weight: number): Prior {
  const [C, H, W] = shape;
  const nv = batch * C * (H - 1) * W, nh = batch * C * H * (W - 1);
  return {
    addTo(x, grad) {
      let tv = 0;
      for (let bc = 0; bc < batch * C; bc++) {
        for (let h = 0; h < H; h++) {
          for (let w = 0; w < W; w++) {
            const i = (bc * H + h) * W + w;
            if (h + 1 < H && nv > 0) tv += pair(x, grad, i, i + W, weight / nv);
            if (w + 1 < W && nh > 0) tv += pair(x, grad, i, i + 1, weight / nh);
          }
        }
      }
      return tv;
    },
  };
}

/** w |x[j] - x[i]| and its gradient into grad. */
function pair(x: Float64Array, grad: Float64Array, i: number, j: number, w: number): number {
  const d = x[j] - x[i], s = Math.sign(d) * w;
  grad[j] += s;
  grad[i] -= s;
  return w * Math.abs(d);
}

/** The sum of several priors (each adds its own gradient). */
export function sumOfPriors(priors: readonly Prior[]): Prior {
  return { addTo: (x, grad) => priors.reduce((sum, p) => sum + p.addTo(x, grad), 0) };
}
