// The client's next-token-prediction sample (docs/design.md, section 12): sentence tokens s_1..s_n are read as
// [BOS, s_1..s_n] and predicted as [s_1..s_n, EOS], BOS = EOS = padding = token `pad`; a batch is padded to its
// longest sentence + 1 positions, the loss being the mean over all B*T positions (no mask, as the engine computes it).

/** Positions a batch needs: its longest sentence plus the BOS. */
export function positionsOf(sentences: readonly (readonly number[])[]): number {
  return 1 + Math.max(...sentences.map((s) => s.length));
}

/** The model's input, one-hot token weights [B, T, V], and the labels per position [B*T]. */
export function nextTokenBatch(sentences: readonly (readonly number[])[], T: number, V: number, pad = 0): { x: Float64Array; classes: number[] } {
  const x = new Float64Array(sentences.length * T * V), classes: number[] = [];
  sentences.forEach((s, b) => {
    for (let t = 0; t < T; t++) {
      x[(b * T + t) * V + (t >= 1 && t <= s.length ? s[t - 1] : pad)] = 1;
      classes.push(t < s.length ? s[t] : pad);
    }
  });
  return { x, classes };
}
