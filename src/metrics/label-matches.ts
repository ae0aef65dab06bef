// label_matches: how many labels of a batch are right as a multiset (a batch gradient does not say which
// sample has which label, so the order of the labels is not recoverable).

/** |A ∩ B| for multisets of labels. */
export function multisetMatches(a: readonly number[], b: readonly number[]): number {
  const left = [...b];
  let n = 0;
  for (const v of a) {
    const j = left.indexOf(v);
    if (j >= 0) (left.splice(j, 1), n++);
  }
  return n;
}
