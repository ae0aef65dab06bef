// The attacker's continuous stand-in for a batch of sentences (docs/design.md, section 12). The client's sample is
// next-token prediction on [BOS, s_1..s_n] with labels [s_1..s_n, EOS] (BOS = EOS = padding = token 0), so every
// unknown token s_i appears twice: as the input at position i and as the label at position i - 1.
// Each unknown token is relaxed to a distribution over the leaked bag of tokens (token-bag.ts), p_i = softmax(z_i),
// z_i holding one logit per bag token. The model reads token weights (the engine's embedding is x E), so
//   x row i     = p_i scattered into the bag's columns (row 0 and rows past n: one-hot of token 0),
//   label row i-1 = p_i, given to the loss as logits: z_i in the bag's columns, -LARGE elsewhere (softmax = p_i).
// The chain rule back to z: through x,  dD/dz_ik = p_ik (g_ik - sum_j p_ij g_ij) with g = dD/dx at the bag's columns;
// through the label logits, dD/dz_ik = dD/dy at the bag's columns (the logits are z itself).
import { softmaxRow, type LabelInput } from '../engine/loss.js';
import type { Parametrisation } from '../attacks/gradient-matching.js';

/** A logit whose softmax weight is exactly 0 in float64 (exp(-1e4) underflows). */
const LARGE = 1e4;

/** Where the sentences sit in the model's batch: B = lengths.length rows of T positions over a vocabulary of V. */
export interface SentenceLayout {
  vocab: number;
  /** Positions per row: 1 + the longest sentence. */
  positions: number;
  /** Tokens of each sentence, n_b (the attacker knows them: the padding shows in the message's shape and positions). */
  lengths: readonly number[];
  /** BOS, EOS and padding (default 0). */
  pad?: number;
}

export class TokenRelaxation implements Parametrisation {
  readonly size: number;
  readonly softLabel = true;
  private readonly x: Float64Array;
  private readonly logits: Float64Array;
  private readonly p: Float64Array;
  /** Offset in z of sentence b's first token. */
  private readonly starts: number[];

  constructor(readonly layout: SentenceLayout, readonly bag: readonly number[]) {
    const { vocab: V, positions: T, lengths } = layout;
    if (bag.length === 0) throw new Error('token relaxation: the bag of tokens is empty');
    for (const n of lengths) if (n + 1 > T) throw new Error(`token relaxation: a sentence of ${n} tokens needs ${n + 1} positions, the layout has ${T}`);
    this.starts = [];
    let tokens = 0;
    for (const n of lengths) {
      this.starts.push(tokens * bag.length);
      tokens += n;
    }
    this.size = tokens * bag.length;
    this.x = new Float64Array(lengths.length * T * V);
    this.logits = new Float64Array(lengths.length * T * V);
    this.p = new Float64Array(this.size);
  }

  decode(z: Float64Array): { x: Float64Array; label: LabelInput } {
    const K = this.bag.length;
    for (let o = 0; o < this.size; o += K) softmaxRow(z, o, K, this.p, null);
    this.fill((row, i, b) => {
      const o = this.starts[b] + (i - 1) * K;
      for (let k = 0; k < K; k++) this.x[row + this.bag[k]] = this.p[o + k];
    }, (row, i, b) => {
      const o = this.starts[b] + (i - 1) * K;
      for (let k = 0; k < K; k++) this.logits[row + this.bag[k]] = z[o + k];
    });
    return { x: this.x, label: { kind: 'soft', logits: this.logits } };
  }

  /** x and labels of hard tokens (each sentence's n_b ids): the client's own sample, for scoring candidates (LAMP). */
  decodeTokens(sentences: readonly (readonly number[])[]): { x: Float64Array; label: LabelInput } {
    this.fill((row, i, b) => {
      this.x[row + sentences[b][i - 1]] = 1;
    }, (row, i, b) => {
      this.logits[row + sentences[b][i - 1]] = 0;
    });
    return { x: this.x, label: { kind: 'soft', logits: this.logits } };
  }

  pullback(dx: Float64Array, dy: Float64Array | null, dz: Float64Array): void {
    const { vocab: V, positions: T, lengths } = this.layout;
    const K = this.bag.length;
    lengths.forEach((n, b) => {
      for (let i = 1; i <= n; i++) {
        const o = this.starts[b] + (i - 1) * K, xRow = (b * T + i) * V, yRow = (b * T + i - 1) * V;
        let pg = 0;
        for (let k = 0; k < K; k++) pg += this.p[o + k] * dx[xRow + this.bag[k]];
        for (let k = 0; k < K; k++) dz[o + k] = this.p[o + k] * (dx[xRow + this.bag[k]] - pg) + (dy ? dy[yRow + this.bag[k]] : 0);
      }
    });
  }

  /** The tokens z stands for: per sentence, the bag's most likely token at each position. */
  tokens(z: Float64Array): number[][] {
    const K = this.bag.length;
    return this.layout.lengths.map((n, b) => Array.from({ length: n }, (_, i) => {
      const o = this.starts[b] + i * K;
      let best = 0;
      for (let k = 1; k < K; k++) if (z[o + k] > z[o + best]) best = k;
      return this.bag[best];
    }));
  }

  /** Offset in z of sentence b's token i (0-based); its K logits follow. */
  offset(b: number, i: number): number {
    return this.starts[b] + i * this.bag.length;
  }

  /**
   * Sets x and the label logits to their fixed rows (BOS, EOS, padding: token 0) and calls `input(row, i, b)` for the
   * row of x holding token i (1..n_b) of sentence b and `label(row, i, b)` for the label row predicting it, both
   * cleared first (x to 0, logits to -LARGE).
   */
  private fill(input: (row: number, i: number, b: number) => void, label: (row: number, i: number, b: number) => void): void {
    const { vocab: V, positions: T, lengths } = this.layout;
    const pad = this.layout.pad ?? 0;
    this.x.fill(0);
    this.logits.fill(-LARGE);
    lengths.forEach((n, b) => {
      for (let t = 0; t < T; t++) {
        const row = (b * T + t) * V;
        if (t === 0 || t > n) this.x[row + pad] = 1;
        else input(row, t, b);
        if (t >= n) this.logits[row + pad] = 0;
        else label(row, t + 1, b);
      }
    });
  }
}
