// Token embedding (PyTorch nn.Embedding(V, d), weight E [V, d]) on token WEIGHTS: a sample is x [T, V], one
// row of weights over the vocabulary per position, and z [T, d] = x E. A client's tokens are one-hot rows
// (z_t = E[token_t], a gather); an attacker's dummy tokens may be any relaxation (a softmax over the
// vocabulary, or free weights), and the map stays linear in x and in E, so dL/dx and the message's dL/dE
// are exact functions of the dummy input. (Taking embeddings as the network input instead would leave
// dL/dE without tokens to scatter it to: the gradient the client sends could not be matched.)
//   backward         dx = dz E^T,  dE = x^T dz
//   tangentForward   z' = x E' + x' E
//   tangentBackward  dx' = dz' E^T + dz E'^T,  dE' = x^T dz' + x'^T dz
// When every row of x is exactly one-hot (checked in each pass: a scan of x, V reads per row), the
// products with x are a gather (x E: rows of E) and a scatter-add (x^T g: rows of g into the token rows),
// B T d operations instead of B T V d; the products with E^T (dL/dx, wanted by attacks only) stay GEMMs.
import type { Arr, Kernels } from '../kernels.js';
import type { Layer, ParamSlot, Shape } from './layer.js';

export class Embedding implements Layer {
  readonly kind = 'embedding';
  readonly inShape: Shape;
  readonly outShape: Shape;
  readonly paramShapes;
  private readonly tokens: Int32Array; // per row of the batch: its token while every row is one-hot
  private e!: ParamSlot;

  constructor(private readonly k: Kernels, readonly positions: number, readonly vocab: number, readonly dim: number, batch: number) {
    this.inShape = [positions, vocab];
    this.outShape = [positions, dim];
    this.paramShapes = [{ suffix: 'weight', shape: [vocab, dim] }];
    this.tokens = new Int32Array(batch * positions);
  }

  bind([e]: ParamSlot[]): void {
    this.e = e;
  }

  forward(a: Arr, z: Arr, B: number): void {
    this.times(a, this.e.value, z, B);
  }

  backward(a: Arr, _z: Arr, dz: Arr, da: Arr | null, B: number): void {
    const { k, vocab: V, dim: d } = this, n = B * this.positions;
    this.transposeTimes(a, dz, this.e.grad, B);
    if (da) k.gemmNT(n, V, d, dz, this.e.value, da, false);
  }

  tangentForward(a: Arr, adot: Arr | null, _z: Arr, zdot: Arr, B: number): void {
    const { k, vocab: V, dim: d } = this, n = B * this.positions;
    this.times(a, this.e.dir, zdot, B);
    if (adot) k.gemmNN(n, d, V, adot, this.e.value, zdot, true);
  }

  tangentBackward(
    a: Arr, adot: Arr | null, _z: Arr, _zdot: Arr, dz: Arr, dzdot: Arr,
    dadot: Arr | null, withParams: boolean, B: number,
  ): void {
    const { k, vocab: V, dim: d } = this, n = B * this.positions;
    if (dadot) {
      k.gemmNT(n, V, d, dzdot, this.e.value, dadot, false);
      k.gemmNT(n, V, d, dz, this.e.dir, dadot, true);
    }
    if (withParams) {
      this.transposeTimes(a, dzdot, this.e.hess, B);
      if (adot) k.gemmTN(V, d, n, adot, dz, this.e.hess, true);
    }
  }

  /** out = x M for M [V, d]: a gather when x is one-hot. */
  private times(x: Arr, M: Arr, out: Arr, B: number): void {
    const { vocab: V, dim: d } = this, n = B * this.positions;
    if (!this.oneHot(x, n)) {
      this.k.gemmNN(n, d, V, x, M, out, false);
      return;
    }
    for (let r = 0; r < n; r++) {
      const from = this.tokens[r] * d, to = r * d;
      for (let j = 0; j < d; j++) out[to + j] = M[from + j];
    }
  }

  /** out [V, d] = x^T g for g [n, d]: a scatter-add into the token rows when x is one-hot. */
  private transposeTimes(x: Arr, g: Arr, out: Arr, B: number): void {
    const { vocab: V, dim: d } = this, n = B * this.positions;
    if (!this.oneHot(x, n)) {
      this.k.gemmTN(V, d, n, x, g, out, false);
      return;
    }
    out.fill(0);
    for (let r = 0; r < n; r++) {
      const to = this.tokens[r] * d, from = r * d;
      for (let j = 0; j < d; j++) out[to + j] += g[from + j];
    }
  }

  /** Whether each of the n rows of x is exactly one-hot (one 1, zeros elsewhere); records the tokens. */
  private oneHot(x: Arr, n: number): boolean {
    const V = this.vocab;
    for (let r = 0; r < n; r++) {
      let token = -1;
      for (let v = r * V, end = v + V; v < end; v++) {
        const value = x[v];
        if (value === 0) continue;
        if (value !== 1 || token >= 0) return false;
        token = v - r * V;
      }
      if (token < 0) return false;
      this.tokens[r] = token;
    }
    return true;
  }
}
