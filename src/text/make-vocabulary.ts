// Writes tiny-gpt's vocabulary (assets/tiny-gpt-vocabulary.json): the GPT-2 ids of model ids 0..V-1, id 0 GPT-2's
// <|endoftext|>, id 1 <unk> (no GPT-2 id: -1), ids 2.. the most frequent GPT-2 BPE tokens of the corpus's train
// split (frequency descending, ties by GPT-2 id). Run once: `node dist/src/text/make-vocabulary.js`; the file is
// committed, so the model's ids do not move when the corpus code does.
import { writeFileSync } from 'node:fs';
import { encode } from 'gpt-tokenizer/encoding/r50k_base';
import { splitSentences } from './brown.js';
import { VOCABULARY_SIZE } from '../models/tiny-gpt.js';
import { END_OF_TEXT, VOCABULARY_FILE } from './vocabulary.js';

/** The GPT-2 ids of model ids 0..size-1 for a list of sentences. */
export function vocabularyOf(sentences: readonly string[], size: number): number[] {
  const counts = new Map<number, number>();
  for (const s of sentences) for (const t of encode(s)) counts.set(t, (counts.get(t) ?? 0) + 1);
  counts.delete(END_OF_TEXT);
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([t]) => t);
  return [END_OF_TEXT, -1, ...ranked.slice(0, size - 2)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ids = vocabularyOf(splitSentences('train'), VOCABULARY_SIZE);
  const about = `tiny-gpt's vocabulary: the GPT-2 (r50k_base) id of each model id; 0 <|endoftext|>, 1 <unk> (-1), 2.. the ${VOCABULARY_SIZE - 2} most frequent tokens of the Brown corpus's train split`;
  writeFileSync(VOCABULARY_FILE, `${JSON.stringify({ about, encoding: 'r50k_base', gpt2Ids: ids })}\n`);
  console.log(`wrote ${VOCABULARY_FILE} (${ids.length} ids)`);
}
